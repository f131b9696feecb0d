"""Absolute links put in dispatch messages: the console page and the snapshot.

The snapshot link is the API's content-addressed URL: its sha256 cannot be guessed, so it
opens that one picture for a firefighter who has no console account, and nothing else.
"""

from __future__ import annotations

from central.api.schemas import snapshot_url


class Links:
    def __init__(self, public_url: str) -> None:
        self.public_url = public_url.rstrip("/")

    def snapshot_url(self, sha256: str) -> str:
        return f"{self.public_url}{snapshot_url(sha256)}"

    def incident_url(self, incident_id: int) -> str:
        return f"{self.public_url}/incidents/{incident_id}"
