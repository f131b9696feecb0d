"""The HTTP API over a seeded database (no broker: ingest off)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from central.app import create_app
from central.db.migrate import head_revision
from central.incidents.service import ingest_alert
from central.services import Services
from central.settings import CentralSettings
from tests.unit.central.builders import (
    CABANELLE,
    COURMETTES,
    T2_LATITUDE_DEG,
    T2_LONGITUDE_DEG,
    FakeLocator,
    alert,
    alert_towards,
    jpeg,
    later,
    sha256,
)

SEEDED_EVENT = uuid.UUID("00000000-0000-4000-8000-000000000001")


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """One seeded app for the module: the tests only read."""
    database = tmp_path_factory.mktemp("api") / "central.sqlite3"
    settings = CentralSettings(environment="dev", database_url=f"sqlite:///{database}")
    locator = FakeLocator()
    with TestClient(create_app(settings, locator=locator, ingest=False)) as client:
        services: Services = client.app.state.services  # type: ignore[attr-defined]
        with services.session_factory() as session:
            # incident 1: two cameras on T2, located in Nice / Paillon, with a snapshot
            ingest_alert(
                session,
                alert_towards(
                    CABANELLE,
                    T2_LATITUDE_DEG,
                    T2_LONGITUDE_DEG,
                    event_id=SEEDED_EVENT,
                    snapshot_seed=5,
                ),
                locator,
            )
            ingest_alert(
                session,
                alert_towards(COURMETTES, T2_LATITUDE_DEG, T2_LONGITUDE_DEG, captured_at=later(20)),
                locator,
            )
            # incident 2: one camera, an hour later, not located
            ingest_alert(
                session, alert(COURMETTES, azimuth_deg=20.0, captured_at=later(3600)), locator
            )
            session.commit()
        yield client


def get(client: TestClient, url: str, **params: Any) -> Any:
    response = client.get(url, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_incident_list_newest_first_with_total(client: TestClient) -> None:
    body = get(client, "/api/v1/incidents")
    assert (body["total"], body["limit"], body["offset"]) == (2, 50, 0)
    assert [item["id"] for item in body["items"]] == [2, 1]
    first = body["items"][1]
    assert first["cameras"] == ["cabanelle/cam-1", "courmettes/cam-1"]
    assert first["alert_count"] == 2
    assert first["location"]["method"] == "triangulation"
    assert first["location"]["attribution"]["dfci_code"] == "LD86G3"


@pytest.mark.parametrize(
    ("params", "ids"),
    [
        ({"status": "new"}, [2, 1]),
        ({"status": ["confirmed", "dismissed"]}, []),
        ({"massif": "Paillon"}, [1]),
        ({"commune": "Nice"}, [1]),
        ({"commune": "Grasse"}, []),
        ({"since": later(1800).isoformat()}, [2]),
        ({"until": later(1800).isoformat()}, [1]),
        ({"limit": 1}, [2]),
        ({"limit": 1, "offset": 1}, [1]),
    ],
)
def test_incident_filters(client: TestClient, params: dict[str, Any], ids: list[int]) -> None:
    assert [item["id"] for item in get(client, "/api/v1/incidents", **params)["items"]] == ids


@pytest.mark.parametrize(
    "params", [{"status": "burning"}, {"limit": 0}, {"limit": 501}, {"since": "yesterday"}]
)
def test_bad_filters_are_422(client: TestClient, params: dict[str, Any]) -> None:
    assert client.get("/api/v1/incidents", params=params).status_code == 422


def test_incident_detail_has_alerts_location_and_snapshot_links(client: TestClient) -> None:
    body = get(client, "/api/v1/incidents/1")
    assert [a["camera_id"] for a in body["alerts"]] == ["cam-1", "cam-1"]
    assert [a["site_id"] for a in body["alerts"]] == ["cabanelle", "courmettes"]
    location = body["location"]
    assert (location["latitude_deg"], location["longitude_deg"]) == (
        T2_LATITUDE_DEG,
        T2_LONGITUDE_DEG,
    )
    assert (location["semi_major_m"], location["semi_minor_m"], location["orientation_deg"]) == (
        150.0,
        80.0,
        90.0,
    )
    assert location["attribution"]["nearest_stations"] == [
        {"name": "CSP Nice Ouest", "distance_m": 2500.0}
    ]
    assert len(location["estimate"]["bearings"]) == 2
    [snapshot] = body["alerts"][0]["snapshots"]
    assert snapshot["url"] == f"/api/v1/snapshots/{sha256(jpeg(5))}"


def test_unknown_incident_is_404(client: TestClient) -> None:
    response = client.get("/api/v1/incidents/999")
    assert response.status_code == 404
    assert response.json() == {"detail": "incident 999 does not exist"}


def test_incidents_as_geojson(client: TestClient) -> None:
    body = get(client, "/api/v1/incidents.geojson")
    assert body["type"] == "FeatureCollection"
    by_id = {feature["id"]: feature for feature in body["features"]}
    assert by_id[1]["geometry"] == {
        "type": "Point",
        "coordinates": [T2_LONGITUDE_DEG, T2_LATITUDE_DEG],
    }
    assert by_id[1]["properties"]["location"]["attribution"]["massif"] == "Paillon"
    assert by_id[2]["geometry"] is None  # not located: kept, without a position
    assert [
        f["id"] for f in get(client, "/api/v1/incidents.geojson", massif="Paillon")["features"]
    ] == [1]


def test_alerts_newest_first_and_by_camera(client: TestClient) -> None:
    body = get(client, "/api/v1/alerts")
    assert body["total"] == 3
    assert [a["captured_at"] for a in body["items"]] == sorted(
        (a["captured_at"] for a in body["items"]), reverse=True
    )
    assert get(client, "/api/v1/alerts", site_id="cabanelle")["total"] == 1
    one = body["items"][-1]
    assert get(client, f"/api/v1/alerts/{one['alert_id']}")["event_id"] == str(SEEDED_EVENT)
    assert client.get(f"/api/v1/alerts/{uuid.uuid4()}").status_code == 404


def test_cameras_with_health_and_poses(client: TestClient) -> None:
    body = get(client, "/api/v1/cameras")
    assert [camera["key"] for camera in body] == ["cabanelle/cam-1", "courmettes/cam-1"]
    courmettes = get(client, "/api/v1/cameras/courmettes/cam-1")
    assert courmettes["online"] is False  # no status, no heartbeat yet
    assert courmettes["latitude_deg"] == COURMETTES.latitude_deg
    assert courmettes["poses"][0]["pose_id"] is None
    assert courmettes["poses"][0]["azimuth_deg"] == 20.0  # the latest report
    assert client.get("/api/v1/cameras/nowhere/cam-9").status_code == 404


def test_snapshot_is_served_as_jpeg(client: TestClient) -> None:
    response = client.get(f"/api/v1/snapshots/{sha256(jpeg(5))}")
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/jpeg"
    assert response.content == jpeg(5)
    assert client.get(f"/api/v1/snapshots/{'0' * 64}").status_code == 404
    assert client.get("/api/v1/snapshots/../../etc/passwd").status_code == 404
    assert client.get("/api/v1/snapshots/ABC").status_code == 422


def test_health_and_metrics(client: TestClient) -> None:
    health = get(client, "/api/v1/health")
    assert (health["status"], health["database"]) == ("ok", True)
    assert health["schema_revision"] == head_revision()
    metrics = get(client, "/api/v1/metrics")
    assert metrics["totals"] == {"alerts": 3, "incidents": 2, "quarantined": 0}


def test_openapi_is_published_with_stable_operation_ids(client: TestClient) -> None:
    schema = get(client, "/api/v1/openapi.json")
    assert "/api/v1/incidents/{incident_id}" in schema["paths"]
    assert "/api/v1/incidents.geojson" in schema["paths"]
    operation = schema["paths"]["/api/v1/incidents"]["get"]["operationId"]
    assert operation == "incidents-incidents"
