"""Snapshots by content hash: immutable JPEGs, cacheable forever."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response

from central.api.deps import SessionDep
from central.db import Snapshot
from central.errors import NotFound

router = APIRouter(prefix="/snapshots", tags=["snapshots"])


@router.get(
    "/{sha256}",
    response_class=Response,
    responses={200: {"content": {"image/jpeg": {}}, "description": "The JPEG bytes"}},
)
def snapshot(
    session: SessionDep, sha256: Annotated[str, Path(pattern=r"^[0-9a-f]{64}$")]
) -> Response:
    found = session.get(Snapshot, sha256)
    if found is None:
        raise NotFound(f"snapshot {sha256} does not exist")
    return Response(
        content=found.data,
        media_type=found.content_type,
        headers={"Cache-Control": "public, max-age=31536000, immutable", "ETag": f'"{sha256}"'},
    )
