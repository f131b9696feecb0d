"""The console pages (server-rendered) and the operator actions on an incident."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from central.camera_health import camera_health
from central.console.actions import (
    FALSE_POSITIVE_LABELS_FR,
    Action,
    FalsePositive,
    apply_action,
)
from central.console.deps import CsrfDep, DbDep, OperatorDep, StateDep, redirect_with_flash, render
from central.console.maps import incident_scene, overview_scene
from central.console.mapsvg import render_map
from central.console.views import (
    PARIS,
    audit_lines,
    dispatch_lines,
    event_lines,
    frames,
    load_row,
    local_time,
    merge_targets,
    open_incidents,
)
from central.db import Camera, Incident, utc_now
from central.dispatch.kpis import Period, load_times, summarise
from central.errors import Conflict, NotFound
from central.events_bus import Change
from central.incidents.lifecycle import OPEN_STATUSES
from central.incidents.regroup import Regrouped, merge_incidents, split_event

logger = logging.getLogger(__name__)

router = APIRouter(include_in_schema=False)


@router.get("/")
def incident_list(request: Request, operator: OperatorDep, session: DbDep) -> Response:
    return render(request, "incidents.html", {"rows": open_incidents(session)}, operator)


@router.get("/incidents/{incident_id}/row")
def incident_row_fragment(
    request: Request, incident_id: int, operator: OperatorDep, session: DbDep
) -> Response:
    """One row of the live list, for the push updates."""
    row = load_row(session, incident_id)
    if row is None:
        raise NotFound(f"incident {incident_id} inconnu")
    return render(request, "_incident_row.html", {"row": row}, operator)


def _detail_context(session: Session, incident_id: int) -> dict[str, object]:
    row = load_row(session, incident_id)
    if row is None:
        raise NotFound(f"incident {incident_id} inconnu")
    return {
        "row": row,
        "dispatches": dispatch_lines(session, incident_id),
        "audit": audit_lines(session, incident_id),
        "events": event_lines(session, incident_id),
        "merge_targets": merge_targets(session, incident_id) if row.status in OPEN_STATUSES else [],
    }


@router.get("/incidents/{incident_id}")
def incident_page(
    request: Request, incident_id: int, operator: OperatorDep, session: DbDep, state: StateDep
) -> Response:
    context = _detail_context(session, incident_id)
    incident = session.get_one(Incident, incident_id)
    scene = incident_scene(session, state.layers, incident)
    player = [asdict(frame) for frame in frames(session, incident_id)]
    flagged = max(range(len(player)), key=lambda i: player[i]["score"], default=0)
    context |= {
        "map_svg": render_map(scene) if scene else None,
        "frames_json": json.dumps(player),
        "flagged_index": flagged,
        "false_positive_types": FALSE_POSITIVE_LABELS_FR,
        "dispatch_enabled": state.dispatcher is not None,
    }
    return render(request, "incident.html", context, operator)


@router.get("/incidents/{incident_id}/panel")
def incident_panel(
    request: Request, incident_id: int, operator: OperatorDep, session: DbDep, state: StateDep
) -> Response:
    """Status, actions, dispatches and audit trail: re-read when a push says it changed."""
    context = _detail_context(session, incident_id)
    context |= {
        "false_positive_types": FALSE_POSITIVE_LABELS_FR,
        "dispatch_enabled": state.dispatcher is not None,
    }
    return render(request, "_incident_panel.html", context, operator)


def _regrouped(
    session: Session,
    state: StateDep,
    apply: Callable[[], Regrouped],
    done_at: str,
    refused_at: str,
) -> Response:
    """Run a merge or split, commit, tell the live pages; a refusal comes back as a flash on the
    page the operator came from."""
    try:
        outcome = apply()
        session.commit()
    except (Conflict, NotFound) as error:
        session.rollback()
        return redirect_with_flash(refused_at, str(error).capitalize())
    for incident_id in outcome.changed_ids:
        state.bus.publish(Change("incident", str(incident_id), "regrouped"))
    return redirect_with_flash(done_at, outcome.message)


# Declared before the generic action route, which would take "merge" for an unknown action.
@router.post("/incidents/{incident_id}/merge", dependencies=[CsrfDep])
def incident_merge(
    incident_id: int,
    into: Annotated[int, Form()],
    operator: OperatorDep,
    session: DbDep,
    state: StateDep,
) -> Response:
    """Merge this incident into ``into`` (same fire): the operator lands on the merged one."""
    logger.info("incident %d: merge into %d by %s", incident_id, into, operator.username)
    return _regrouped(
        session,
        state,
        lambda: merge_incidents(session, incident_id, into, operator, state.locator),
        done_at=f"/incidents/{into}",
        refused_at=f"/incidents/{incident_id}",
    )


@router.post("/incidents/{incident_id}/split", dependencies=[CsrfDep])
def incident_split(
    incident_id: int,
    event: Annotated[uuid.UUID, Form()],
    operator: OperatorDep,
    session: DbDep,
    state: StateDep,
) -> Response:
    """Move one camera's event out into a new incident (another fire)."""
    logger.info("incident %d: split event %s by %s", incident_id, event, operator.username)
    here = f"/incidents/{incident_id}"
    return _regrouped(
        session,
        state,
        lambda: split_event(session, incident_id, event, operator, state.locator),
        done_at=here,
        refused_at=here,
    )


@router.post("/incidents/{incident_id}/{action}", dependencies=[CsrfDep])
def incident_action(
    incident_id: int,
    action: Action,
    operator: OperatorDep,
    session: DbDep,
    state: StateDep,
    false_positive: Annotated[FalsePositive | None, Form()] = None,
) -> Response:
    target = f"/incidents/{incident_id}"
    try:
        outcome = apply_action(
            session, incident_id, action, operator, state.dispatcher, false_positive
        )
        session.commit()
    except (Conflict, NotFound) as error:
        session.rollback()
        return redirect_with_flash(target, str(error).capitalize())
    logger.info("incident %d: %s by %s", incident_id, action.value, operator.username)
    if outcome.changed:
        state.bus.publish(Change("incident", str(incident_id), action.value))
    if outcome.queued_channels and state.worker is not None:
        state.worker.wake()
    return redirect_with_flash(target, outcome.message)


@dataclass(frozen=True, slots=True)
class CameraLine:
    key: str
    online: bool
    state: str | None
    last_frame_age_s: float | None
    blind_min: float | None
    frozen: bool | None
    outbox_depth: int | None
    last_heartbeat: str
    fps: float | None
    inference_ms: float | None


def camera_lines(session: Session) -> list[CameraLine]:
    now = utc_now()
    lines = []
    for camera in session.scalars(
        select(Camera).options(selectinload(Camera.site)).order_by(Camera.site_id, Camera.camera_id)
    ):
        view = camera_health(camera, camera.site.edge_state, now)
        health = camera.health or {}
        lines.append(
            CameraLine(
                key=camera.key,
                online=view.online,
                state=camera.state,
                last_frame_age_s=view.last_frame_age_s,
                blind_min=view.blind_s / 60 if view.blind_s is not None else None,
                frozen=view.frozen,
                outbox_depth=view.outbox_depth,
                last_heartbeat=local_time(view.last_heartbeat_at),
                fps=health.get("frames_per_s"),
                inference_ms=health.get("inference_ms"),
            )
        )
    return lines


@router.get("/cameras")
def cameras_page(request: Request, operator: OperatorDep, session: DbDep) -> Response:
    return render(request, "cameras.html", {"cameras": camera_lines(session)}, operator)


@router.get("/cameras/table")
def cameras_table(request: Request, operator: OperatorDep, session: DbDep) -> Response:
    return render(request, "_cameras_table.html", {"cameras": camera_lines(session)}, operator)


@router.get("/carte")
def overview_map(
    request: Request, operator: OperatorDep, session: DbDep, state: StateDep
) -> Response:
    incidents = session.scalars(
        select(Incident)
        .where(Incident.status.in_(sorted(OPEN_STATUSES)))
        .options(selectinload(Incident.location))
    ).all()
    scene = overview_scene(session, state.layers, incidents)
    context = {"map_svg": render_map(scene) if scene else None, "rows": open_incidents(session)}
    return render(request, "map.html", context, operator)


@router.get("/indicateurs")
def kpis_page(
    request: Request,
    operator: OperatorDep,
    session: DbDep,
    days: Annotated[int, Query(ge=1, le=366)] = 30,
    period: Period = "day",
) -> Response:
    until = utc_now()
    rows = summarise(load_times(session, until - timedelta(days=days), until), period, PARIS)
    return render(request, "kpis.html", {"periods": rows, "period": period, "days": days}, operator)
