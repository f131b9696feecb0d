"""Wire messages for central tests: real lookout sites of the 06 aimed at a known point."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pyproj import Geod

import contracts
from central.geo.attribution import Attribution
from central.geo.bearing import CameraBearing
from central.geo.locate import LocationEstimate, Sighting

GEOD = Geod(ellps="WGS84")
T0 = datetime(2026, 7, 14, 14, 0, tzinfo=UTC)
MODEL = contracts.ModelInfo(name="vigifeu-smoke", version="test", sha256="0" * 64)


@dataclass(frozen=True, slots=True)
class Site:
    site_id: str
    latitude_deg: float
    longitude_deg: float
    elevation_m: float


# shared/geodata/poi/pyronear_camera_sites.geojson (lens 10 m above the ground).
CABANELLE = Site("cabanelle", 43.7866472, 7.419608279, 1090.0)
COURMETTES = Site("courmettes", 43.71559208, 7.026486331, 810.0)
VALBONNE = Site("valbonne", 43.6233636, 7.02793957, 210.0)
# Research note geolocation-methods §4.5, T2: a fire in the Nice hills (DFCI LD86G3.4, Nice,
# massif zone Paillon), 20.7 km from cabanelle and 14.3 km from courmettes.
T2_LATITUDE_DEG = 43.69
T2_LONGITUDE_DEG = 7.20


def bearing_deg(site: Site, latitude_deg: float, longitude_deg: float) -> float:
    azimuth, _, _ = GEOD.inv(site.longitude_deg, site.latitude_deg, longitude_deg, latitude_deg)
    return float(azimuth) % 360.0


def geometry(
    site: Site, azimuth_deg: float, pose_id: str | None = None
) -> contracts.CameraGeometry:
    return contracts.CameraGeometry(
        latitude_deg=site.latitude_deg,
        longitude_deg=site.longitude_deg,
        lens_altitude_m=site.elevation_m,
        pose_id=pose_id,
        azimuth_deg=azimuth_deg % 360.0,
        tilt_deg=-2.0,
        hfov_deg=60.0,
        vfov_deg=35.0,
        image_width_px=1920,
        image_height_px=1080,
    )


def box(center_x: float = 0.5, width: float = 0.04, score: float = 0.8) -> contracts.BoundingBox:
    return contracts.BoundingBox(
        x_min=center_x - width / 2,
        y_min=0.40,
        x_max=center_x + width / 2,
        y_max=0.52,
        score=score,
        detection_class=contracts.DetectionClass.SMOKE,
    )


def jpeg(seed: int) -> bytes:
    """Bytes framed like a JPEG (SOI ... EOI), different per seed; central never decodes them."""
    return b"\xff\xd8\xff\xe0" + seed.to_bytes(4, "big") * 16 + b"\xff\xd9"


def alert(
    site: Site,
    *,
    camera_id: str = "cam-1",
    azimuth_deg: float,
    event_id: uuid.UUID | None = None,
    sequence: int = 0,
    captured_at: datetime = T0,
    boxes: Sequence[contracts.BoundingBox] | None = None,
    snapshot_seed: int | None = None,
    alert_id: uuid.UUID | None = None,
) -> contracts.AlertMessage:
    """An alert of ``site`` looking at ``azimuth_deg`` with the smoke at the image centre."""
    state = (
        contracts.EventState.START
        if sequence == 0
        else (contracts.EventState.END if boxes == () else contracts.EventState.UPDATE)
    )
    snapshots: tuple[contracts.Snapshot, ...] = ()
    if snapshot_seed is not None:
        snapshots = (
            contracts.Snapshot.from_jpeg(jpeg(snapshot_seed), contracts.SnapshotKind.FULL, 32, 24),
        )
    return contracts.AlertMessage(
        alert_id=alert_id or uuid.uuid4(),
        event_id=event_id or uuid.uuid4(),
        sequence=sequence,
        state=state,
        site_id=site.site_id,
        camera_id=camera_id,
        captured_at=captured_at,
        detection_class=contracts.DetectionClass.SMOKE,
        score=0.8,
        boxes=tuple(boxes) if boxes is not None else (box(),),
        camera=geometry(site, azimuth_deg),
        model=MODEL,
        snapshots=snapshots,
    )


def alert_towards(
    site: Site, latitude_deg: float, longitude_deg: float, **kwargs: Any
) -> contracts.AlertMessage:
    """An alert whose box centre lies exactly on the geodesic bearing to the point."""
    return alert(site, azimuth_deg=bearing_deg(site, latitude_deg, longitude_deg), **kwargs)


def later(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


FAKE_ATTRIBUTION = Attribution(
    dfci_code="LD86G3",
    dfci_subsquare="LD86G3.4",
    dfci_touched=("LD86G3",),
    commune="Nice",
    commune_insee="06088",
    massif="Paillon",
    forest_type=None,
    nearest_stations=(("CSP Nice Ouest", 2500.0),),
    in_department=True,
)


class FakeLocator:
    """Two or more cameras: the T2 point with an attribution; one camera: a bearing only."""

    def __init__(self) -> None:
        self.calls: list[list[Sighting]] = []

    def locate(self, sightings: Sequence[Sighting]) -> LocationEstimate:
        self.calls.append(list(sightings))
        bearings = tuple(
            CameraBearing(s.camera_key, s.geometry.azimuth_deg, 0.3, -1.0, 0.1, None, "")
            for s in sightings
        )
        if len({s.camera_key for s in sightings}) >= 2:
            return LocationEstimate(
                "triangulation",
                T2_LATITUDE_DEG,
                T2_LONGITUDE_DEG,
                150.0,
                80.0,
                90.0,
                bearings,
                None,
                FAKE_ATTRIBUTION,
            )
        return LocationEstimate(
            "bearing_only", None, None, None, None, None, bearings, "single_camera", None
        )

    def distance_interval_m(self, sighting: Sighting) -> tuple[float, float | None] | None:
        return None


class BrokenLocator:
    def locate(self, sightings: Sequence[Sighting]) -> LocationEstimate:
        raise RuntimeError("geodata missing")

    def distance_interval_m(self, sighting: Sighting) -> tuple[float, float | None] | None:
        raise RuntimeError("geodata missing")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
