from __future__ import annotations

import dataclasses
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from central.dispatch.cap import CAP_NAMESPACE, render_cap
from central.dispatch.message import CameraView, IncidentFacts, render, to_json

PARIS = ZoneInfo("Europe/Paris")
FACTS = IncidentFacts(
    incident_id=42,
    status="confirmed",
    detection_class="smoke",
    first_seen_at=datetime(2025, 7, 28, 12, 3, tzinfo=UTC),
    confidence=0.874,
    latitude_deg=43.54123,
    longitude_deg=6.91234,
    uncertainty_m=347.0,
    method="triangulation",
    caveat=None,
    dfci_code="KD68H4",
    commune="Mandelieu-la-Napoule",
    massif="Estérel",
    cameras=(
        CameraView("cabanelle/nord", 296.2),
        CameraView("courmettes/sud", 41.0),
    ),
    snapshot_url="http://console.local/partage/abc.jpg?k=1",
    console_url="http://console.local/incidents/42",
)
C = f"{{{CAP_NAMESPACE}}}"


def test_french_text_says_where_and_how_sure() -> None:
    message = render(FACTS, "dispatch", "fr", PARIS)
    assert message.subject == "[vigifeu] ALERTE – Fumée suspecte – Estérel – Mandelieu-la-Napoule"
    for expected in (
        "Incident n° 42, première détection le 28/07/2025 à 14:03 (CEST)",  # local summer time
        "Position : 43.54123 N, 6.91234 E (± 350 m, triangulation)",
        "Carré DFCI : KD68H4",
        "Commune : Mandelieu-la-Napoule",
        "Massif : Estérel",
        "cabanelle/nord : dans mes 296°",
        "courmettes/sud : dans mes 041°",
        "Confiance : 87 %",
        "Image : http://console.local/partage/abc.jpg?k=1",
        "Console : http://console.local/incidents/42",
    ):
        assert expected in message.body


def test_a_degraded_position_says_why() -> None:
    weak = dataclasses.replace(FACTS, caveat="cut_angle_below_30deg")
    body = render(weak, "dispatch", "fr", PARIS).body
    assert "Attention, position dégradée : relèvements presque parallèles" in body
    assert "Attention" not in render(FACTS, "dispatch", "fr", PARIS).body
    english = render(dataclasses.replace(FACTS, caveat="new_reason"), "dispatch", "en", PARIS)
    assert "Caution, degraded position: new_reason" in english.body  # unknown: the code itself
    assert to_json(weak, "dispatch", english)["position"]["caveat"] == "cut_angle_below_30deg"


def test_english_and_escalation() -> None:
    message = render(FACTS, "escalation", "en", PARIS)
    assert message.subject.startswith(
        "[vigifeu] REMINDER: alert not acknowledged – Suspected smoke"
    )
    assert "cabanelle/nord : bearing 296°" in message.body
    assert "first seen on 28/07/2025 at 14:03" in message.body


def test_unlocated_incident_still_gives_bearings() -> None:
    facts = dataclasses.replace(
        FACTS, latitude_deg=None, longitude_deg=None, dfci_code=None, massif=None, commune=None
    )
    message = render(facts, "dispatch", "fr", PARIS)
    assert "Position : non déterminée" in message.body
    assert "Carré DFCI : inconnu" in message.body
    assert message.subject.endswith("– inconnu")
    assert to_json(facts, "dispatch", message)["position"] is None


def test_json_document() -> None:
    message = render(FACTS, "dispatch", "fr", PARIS)
    document = to_json(FACTS, "dispatch", message)
    assert document["schema"] == "vigifeu.dispatch/1"
    assert document["position"]["latitude_deg"] == pytest.approx(43.54123)
    assert document["cameras"][1] == {
        "camera": "courmettes/sud",
        "azimuth_deg": 41.0,
        "text": "dans mes 041°",
    }
    assert document["text"] == message.body


def test_cap_document_is_cap_12() -> None:
    message = render(FACTS, "dispatch", "fr", PARIS)
    sent = datetime(2025, 7, 28, 12, 10, 30, 123456, tzinfo=UTC).astimezone(PARIS)
    root = ET.fromstring(render_cap(FACTS, "dispatch", message, "vigifeu@sdis06", "SDIS", sent))
    assert root.tag == f"{C}alert"
    # Element order is part of the CAP schema.
    assert [child.tag.removeprefix(C) for child in root][:7] == [
        "identifier",
        "sender",
        "sent",
        "status",
        "msgType",
        "scope",
        "restriction",
    ]
    assert root.findtext(f"{C}sent") == "2025-07-28T14:10:30+02:00"  # no "Z", no microseconds
    info = root.find(f"{C}info")
    assert info is not None
    assert info.findtext(f"{C}category") == "Fire"
    assert info.findtext(f"{C}certainty") == "Observed"
    assert info.findtext(f"{C}onset") == "2025-07-28T14:03:00+02:00"
    assert info.findtext(f"{C}area/{C}circle") == "43.54123,6.91234 0.7"
    assert info.findtext(f"{C}area/{C}geocode/{C}value") == "KD68H4"
    assert info.findtext(f"{C}resource/{C}uri") == FACTS.snapshot_url
    bearings = [
        p.findtext(f"{C}value")
        for p in info.findall(f"{C}parameter")
        if p.findtext(f"{C}valueName") == "bearing"
    ]
    assert bearings == ["cabanelle/nord dans mes 296°", "courmettes/sud dans mes 041°"]
