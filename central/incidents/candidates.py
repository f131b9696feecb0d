"""The open incidents a new event of an ingest batch may join, read once per batch.

Reading the candidates back for every new event (incidents, locations and the latest sighting
of each of their cameras) cost ~20 ms per event; a batch reads them once and then keeps them up
to date in memory with its own alerts, which are written at the end of the batch. Locations
change only when the batch is located, after all its alerts, so the stored points hold.

A cone costs a terrain fix (three ray casts, ~1 ms). Most alerts of a batch continue an event
and are never compared, and a camera's later alert replaces its earlier one: cones are therefore
made only when a new event is compared against a candidate, once per sighting.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

import contracts
from central.db import Incident, Location
from central.geo.locate import Sighting
from central.incidents.clustering import (
    BearingCone,
    ClusterConfig,
    IncidentView,
    LocatedPoint,
    choose_incident,
    cone_from_box,
    in_window,
    point_radius_m,
)
from central.incidents.lifecycle import OPEN_STATUSES
from central.incidents.locating import Locator, latest_sightings_of

logger = logging.getLogger(__name__)

# Locations whose point gates clustering: two-camera fixes, and one-camera DEM fixes that passed
# the locator's quality gates. If a terrain fix is wrong, a second camera's true sighting makes
# a second incident: a duplicate for the operator, which is safer than hiding a fire in another.
POINT_METHODS = frozenset({"triangulation", "terrain"})


@dataclass(slots=True)
class _Latest:
    """A camera's latest sighting that is not an ``end``, and its cone once made."""

    captured_at: datetime
    sighting: Sighting | None  # None: an alert without a box
    cone: BearingCone | None = None
    cone_made: bool = False

    def made_cone(self, make: Callable[[Sighting], BearingCone | None]) -> BearingCone | None:
        if not self.cone_made and self.sighting is not None:
            self.cone = make(self.sighting)
        self.cone_made = True
        return self.cone


@dataclass(slots=True)
class _Candidate:
    last_seen_at: datetime
    point: LocatedPoint | None
    latest: dict[str, _Latest] = field(default_factory=dict)  # by camera key

    def view(
        self, incident_id: int, make: Callable[[Sighting], BearingCone | None]
    ) -> IncidentView:
        made = (latest.made_cone(make) for _, latest in sorted(self.latest.items()))
        cones = tuple(cone for cone in made if cone is not None)
        seen_at = {camera: latest.captured_at for camera, latest in self.latest.items()}
        return IncidentView(incident_id, self.last_seen_at, cones, self.point, seen_at)


class OpenIncidents:
    """Clustering candidates of one batch: ``load`` once, then ``choose``, ``add``, ``note``."""

    def __init__(self, config: ClusterConfig, locator: Locator) -> None:
        self._config = config
        self._locator = locator
        self._candidates: dict[int, _Candidate] = {}

    @classmethod
    def load(
        cls,
        session: Session,
        since: datetime,
        touched: Collection[int],
        config: ClusterConfig,
        locator: Locator,
    ) -> OpenIncidents:
        """Open incidents seen since ``since`` and those of ``touched`` (which the batch's
        alerts may bring into the time window), with their points and latest cones."""
        loaded = cls(config, locator)
        rows = session.execute(
            select(
                Incident.id,
                Incident.last_seen_at,
                Location.method,
                Location.latitude_deg,
                Location.longitude_deg,
                Location.semi_major_m,
            )
            .outerjoin(Location, Location.incident_id == Incident.id)
            .where(
                Incident.status.in_(sorted(OPEN_STATUSES)),
                or_(Incident.last_seen_at >= since, Incident.id.in_(sorted(touched))),
            )
        ).all()
        for incident_id, last_seen_at, method, latitude, longitude, semi_major_m in rows:
            point = None
            if method in POINT_METHODS and latitude is not None and longitude is not None:
                point = LocatedPoint(latitude, longitude, point_radius_m(semi_major_m))
            loaded._candidates[incident_id] = _Candidate(last_seen_at, point)
        for incident_id, sightings in latest_sightings_of(session, loaded._candidates).items():
            latest = loaded._candidates[incident_id].latest
            for sighting in sightings:
                latest[sighting.camera_key] = _Latest(sighting.captured_at, sighting)
        return loaded

    def cone(self, sighting: Sighting) -> BearingCone | None:
        """The sighting's bearing cone, cut to the distances the terrain allows; None when its
        lens model is unusable (the event then starts its own incident)."""
        try:
            range_m = self._locator.distance_interval_m(sighting)
        except Exception:
            # Clustering goes on with the whole cone: a geolocation bug must not lose alerts.
            logger.exception("no terrain distance for a sighting of %s", sighting.camera_key)
            range_m = None
        try:
            return cone_from_box(
                sighting.camera_key,
                sighting.geometry,
                sighting.box,
                self._config.margin_deg,
                range_m,
            )
        except ValueError as error:
            logger.warning("no bearing cone for %s: %s", sighting.camera_key, error)
            return None

    def choose(self, cone: BearingCone | None, captured_at: datetime) -> int | None:
        """The incident a new event seen in ``cone`` joins (``clustering.choose_incident``)."""
        # Only candidates in the time window are viewed: a view makes its cones.
        views = [
            c.view(incident_id, self.cone)
            for incident_id, c in self._candidates.items()
            if in_window(captured_at, c.last_seen_at, self._config)
        ]
        return choose_incident(cone, captured_at, views, self._config)

    def add(self, incident_id: int, seen_at: datetime) -> None:
        """A new incident of this batch."""
        self._candidates[incident_id] = _Candidate(seen_at, None)

    def note(
        self,
        incident_id: int,
        camera_key: str,
        alert: contracts.AlertMessage,
        sighting: Sighting | None,
        cone: BearingCone | None = None,
    ) -> None:
        """An alert of the batch joined ``incident_id``: as the database will read it back.
        ``cone``: the sighting's, when the caller already made it."""
        candidate = self._candidates.get(incident_id)
        if candidate is None:  # not open: no new event may join it
            return
        candidate.last_seen_at = max(candidate.last_seen_at, alert.captured_at)
        if alert.state is contracts.EventState.END:
            return
        known = candidate.latest.get(camera_key)
        if known is None or known.captured_at <= alert.captured_at:
            candidate.latest[camera_key] = _Latest(
                alert.captured_at, sighting, cone, cone_made=cone is not None
            )
