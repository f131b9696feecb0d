from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest

from contracts import (
    AlertMessage,
    BoundingBox,
    CameraGeometry,
    ContractError,
    DetectionClass,
    EventState,
    MessageKind,
    ModelInfo,
    Snapshot,
    SnapshotKind,
    decode_message,
    encode_message,
    parse_topic,
    topic_for,
)
from contracts.schema import render_schemas
from contracts.topics import subscription_filter

GEOMETRY = CameraGeometry(
    latitude_deg=43.7866,
    longitude_deg=7.4196,
    lens_altitude_m=1080,
    azimuth_deg=250,
    tilt_deg=-1.5,
    hfov_deg=87,
    vfov_deg=44,
    image_width_px=640,
    image_height_px=480,
)
MODEL = ModelInfo(name="tiny", version="1", sha256="a" * 64)
BOX = BoundingBox(
    x_min=0.1, y_min=0.2, x_max=0.3, y_max=0.4, score=0.8, detection_class=DetectionClass.SMOKE
)


def make_alert(**overrides: object) -> AlertMessage:
    fields: dict[str, object] = {
        "alert_id": uuid.uuid4(),
        "event_id": uuid.uuid4(),
        "sequence": 0,
        "state": EventState.START,
        "site_id": "cabanelle",
        "camera_id": "cam-250",
        "captured_at": datetime(2026, 7, 14, 12, 0, tzinfo=UTC),
        "detection_class": DetectionClass.SMOKE,
        "score": 0.7,
        "boxes": (BOX,),
        "camera": GEOMETRY,
        "model": MODEL,
    }
    fields.update(overrides)
    return AlertMessage.model_validate(fields)


def test_alert_round_trips_through_the_wire() -> None:
    jpeg = b"\xff\xd8fake-jpeg\xff\xd9"
    alert = make_alert(snapshots=(Snapshot.from_jpeg(jpeg, SnapshotKind.FULL, 640, 480),))
    topic = topic_for("cabanelle", "cam-250", MessageKind.ALERT)
    parsed, decoded = decode_message(topic, encode_message(alert))
    assert decoded == alert
    assert parsed.kind is MessageKind.ALERT
    assert isinstance(decoded, AlertMessage)
    assert decoded.snapshots[0].jpeg_bytes() == jpeg


@pytest.mark.parametrize(
    ("mutate", "reason_part"),
    [
        # Naive datetimes are ambiguous across time zones.
        (lambda d: d.update(captured_at="2026-07-14T12:00:00"), "captured_at"),
        (lambda d: d.update(unexpected="x"), "unexpected"),
        (lambda d: d["boxes"][0].update(x_min=0.5, x_max=0.4), "x_min < x_max"),
        (lambda d: d["camera"].update(azimuth_deg=360), "azimuth_deg"),
        (lambda d: d.update(sequence=3), "sequence 0"),
        (lambda d: d.update(schema_version=2), "schema_version"),
    ],
)
def test_invalid_alerts_are_rejected_with_a_reason(mutate, reason_part: str) -> None:
    data = json.loads(encode_message(make_alert()))
    mutate(data)
    topic = topic_for("cabanelle", "cam-250", MessageKind.ALERT)
    with pytest.raises(ContractError) as raised:
        decode_message(topic, json.dumps(data).encode())
    assert reason_part in raised.value.reason


def test_topic_must_match_the_payload() -> None:
    topic = topic_for("courmettes", "cam-60", MessageKind.ALERT)
    with pytest.raises(ContractError, match="topic says"):
        decode_message(topic, encode_message(make_alert()))


def test_garbage_payload_is_a_contract_error() -> None:
    with pytest.raises(ContractError):
        decode_message(topic_for("a", "b", MessageKind.HEARTBEAT), b"\x00not json")


def test_snapshot_hash_must_match() -> None:
    good = Snapshot.from_jpeg(b"abc", SnapshotKind.CROP, 10, 10)
    with pytest.raises(ValueError, match="sha256"):
        Snapshot.model_validate({**good.model_dump(), "sha256": "b" * 64})


def test_timezone_offsets_are_accepted() -> None:
    paris = timezone(timedelta(hours=2))
    alert = make_alert(captured_at=datetime(2026, 7, 14, 14, 0, tzinfo=paris))
    assert alert.captured_at.astimezone(UTC).hour == 12


@pytest.mark.parametrize(
    "topic",
    ["vigifeu/v2/a/b/alert", "vigifeu/v1/a/b/photo", "vigifeu/v1/A/b/alert", "vigifeu/v1/a/alert"],
)
def test_bad_topics_are_refused(topic: str) -> None:
    with pytest.raises(ValueError, match="topic"):
        parse_topic(topic)


def test_subscription_filter_covers_every_camera() -> None:
    assert subscription_filter(MessageKind.ALERT) == "vigifeu/v1/+/+/alert"
    assert subscription_filter() == "vigifeu/v1/+/+/+"


def test_committed_json_schemas_are_up_to_date() -> None:
    from tests.support.services import REPO_ROOT

    for name, text in render_schemas().items():
        committed = REPO_ROOT / "docs" / "contract" / name
        assert committed.read_text() == text, f"run `vigifeu schema` to refresh {committed}"
