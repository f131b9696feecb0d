"""The operator console in a real browser against a real central, broker and receivers."""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from central.db import AuditEntry, Dispatch, Incident
from central.incidents.lifecycle import OPEN_STATUSES, IncidentStatus
from tests.integration.console.conftest import (
    ADMIN,
    ESCALATION_AFTER_S,
    Central,
    wait_until,
)
from tests.integration.console.scenario import (
    CABANELLE,
    COURMETTES,
    event_alerts,
    heartbeat,
    publish,
)

pytestmark = [pytest.mark.integration, pytest.mark.browser]

# Fire points in the hills north of Nice, seen by both sites (WGS84 lat, lon).
NICE_HILLS = (43.69, 7.20)
CARROS = (43.79, 7.18)


@pytest.fixture(autouse=True)
def _no_open_incident(central: Central) -> None:
    """Each test starts with no open incident, so that its alerts make a new one (an open
    incident with agreeing bearings would absorb them)."""
    with central.sessions.begin() as session:
        session.execute(
            update(Incident)
            .where(Incident.status.in_(sorted(OPEN_STATUSES)))
            .values(status=IncidentStatus.CLOSED)
        )


@pytest.fixture(scope="module")
def page(browser: Any, central: Central) -> Iterator[Any]:
    context = browser.new_context(
        viewport={"width": 1440, "height": 1000}, locale="fr-FR", timezone_id="Europe/Paris"
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    login(page, central)
    yield page
    context.close()


def login(page: Any, central: Central) -> None:
    page.goto(central.url + "/")
    assert "/login" in page.url
    page.fill("input[name=username]", ADMIN[0])
    page.fill("input[name=password]", ADMIN[1])
    page.click("button[type=submit]")
    page.wait_for_url(central.url + "/")


def new_incident(central: Central, target: tuple[float, float]) -> int:
    """Both cameras report the smoke at ``target``; returns the incident they made."""
    publish(central.broker.port, event_alerts(CABANELLE, target))
    publish(central.broker.port, event_alerts(COURMETTES, target, camera_id="est"))

    def located() -> int | None:
        with central.sessions() as session:
            incident = session.scalars(
                select(Incident).where(Incident.status == IncidentStatus.NEW)
            ).first()
            location = incident.location if incident else None
            if location is not None and location.camera_count == 2 and location.dfci_code:
                return incident.id  # type: ignore[union-attr]
        return None

    return int(wait_until(located, 15, "a triangulated incident"))


def audit(central: Central, incident_id: int) -> list[tuple[str, str]]:
    with central.sessions() as session:
        return [
            (entry.action, entry.actor)
            for entry in session.scalars(
                select(AuditEntry)
                .where(AuditEntry.incident_id == incident_id)
                .order_by(AuditEntry.id)
            )
        ]


def shoot(target: Any, path: Path, **options: Any) -> None:
    """Write a screenshot under runs/ (reviewed copies live in docs/screenshots/)."""
    target.screenshot(path=str(path), **options)


def test_new_incident_appears_live_without_reload(
    page: Any, central: Central, screenshots: Path
) -> None:
    from playwright.sync_api import expect

    page.goto(central.url + "/")
    expect(page.locator("#live")).to_have_attribute("data-state", "on")
    page.evaluate("window.__notReloaded = true")
    rows = page.locator("#open-incidents tr")
    before = rows.count()

    start = time.monotonic()
    publish(central.broker.port, event_alerts(CABANELLE, NICE_HILLS)[:1])
    expect(rows).to_have_count(before + 1, timeout=2000)
    print(f"alert published -> row on screen: {time.monotonic() - start:.2f} s")
    assert page.evaluate("window.__notReloaded") is True  # pushed in, not reloaded
    row = rows.first
    expect(row).to_contain_text("nouveau")
    expect(row).to_contain_text("cabanelle/cam-1")

    # More of the event and the second camera: the row is re-located in place.
    publish(central.broker.port, event_alerts(CABANELLE, NICE_HILLS)[1:])
    publish(central.broker.port, event_alerts(COURMETTES, NICE_HILLS, camera_id="est"))
    expect(row).to_contain_text("courmettes/est")
    expect(row).to_contain_text("Nice")
    expect(page.locator("#open-count")).to_have_text("1")
    shoot(page, screenshots / "incidents.png", full_page=True)
    page.goto(central.url + "/carte")
    expect(page.locator("#map svg .estimate")).to_have_count(1)
    shoot(page, screenshots / "overview-map.png", full_page=True)


def test_confirm_dismiss_acknowledge_change_database_and_audit(page: Any, central: Central) -> None:
    from playwright.sync_api import expect

    first = new_incident(central, NICE_HILLS)
    page.goto(f"{central.url}/incidents/{first}")
    page.click("button[data-action=acknowledge]")
    expect(page.locator(".flash")).to_have_text("Incident acquitté.")
    page.click("button[data-action=confirm]")
    expect(page.locator(".flash")).to_have_text("Incident confirmé.")
    with central.sessions() as session:
        incident = session.get_one(Incident, first)
        assert incident.status == IncidentStatus.CONFIRMED
        assert incident.acknowledged_at is not None
    assert audit(central, first)[1:] == [
        ("incident.acknowledged", ADMIN[0]),
        ("incident.confirmed", ADMIN[0]),
    ]
    expect(page.locator(".audit li")).to_have_count(3)

    page.click("button[data-action=close]")
    second = new_incident(central, CARROS)
    page.goto(f"{central.url}/incidents/{second}")
    page.select_option("select[name=false_positive]", "fog_haze")
    page.click("button[data-action=dismiss]")
    expect(page.locator(".flash")).to_have_text("Incident écarté.")
    expect(page.locator("#panel")).to_contain_text("Brouillard / brume")
    with central.sessions() as session:
        incident = session.get_one(Incident, second)
        assert (incident.status, incident.false_positive_type) == ("dismissed", "fog_haze")
    # Dismissing acknowledges too: the operator has seen it.
    assert [a for a, _ in audit(central, second)][1:] == [
        "incident.acknowledged",
        "incident.dismissed",
    ]


def test_dispatch_reaches_every_channel_once_even_if_clicked_twice(
    page: Any, central: Central, screenshots: Path
) -> None:
    from playwright.sync_api import expect

    incident_id = new_incident(central, NICE_HILLS)
    page.goto(f"{central.url}/incidents/{incident_id}")
    page.locator("button[data-action=dispatch]").dblclick()
    expect(page.locator(".flash")).to_contain_text("Alerte envoyée : codis-json, codis-cap")
    # A second operator (or a client without our double-submit guard) posts the same action.
    token = page.get_attribute("body", "data-csrf")
    status = page.evaluate(
        """async ([url, token]) => (await fetch(url, {method: "POST",
            headers: {"X-CSRF-Token": token}, redirect: "manual"})).status""",
        [f"/incidents/{incident_id}/dispatch", token],
    )
    assert status in (0, 303)  # opaque redirect from fetch(redirect: "manual")

    wait_until(lambda: central.webhook.json_for(incident_id), 10, "the JSON webhook")
    wait_until(lambda: central.webhook.cap_for(incident_id), 10, "the CAP webhook")
    wait_until(lambda: central.smtp.for_incident(incident_id, "ALERTE"), 10, "the e-mail")
    wait_until(
        lambda: [m for m in central.cta_messages if m["incident_id"] == incident_id],
        10,
        "the MQTT message",
    )
    # Give the dispatch worker time for several more rounds (tick 0.2 s): still one of each.
    time.sleep(1.5)
    [document] = central.webhook.json_for(incident_id)
    [cap] = central.webhook.cap_for(incident_id)
    [mail] = central.smtp.for_incident(incident_id, "ALERTE")
    assert len([m for m in central.cta_messages if m["incident_id"] == incident_id]) == 1

    assert document["dfci_code"]
    assert document["commune"] == "Nice"
    assert document["position"]["method"] == "triangulation"
    assert {c["camera"] for c in document["cameras"]} == {"cabanelle/cam-1", "courmettes/est"}
    assert b"<category>Fire</category>" in cap
    assert b"<circle>43.6" in cap
    body = mail.get_content()
    assert "Commune : Nice" in body
    assert "dans mes" in body
    assert "/api/v1/snapshots/" in body
    with central.sessions() as session:
        rows = session.scalars(select(Dispatch).where(Dispatch.incident_id == incident_id)).all()
        assert sorted((r.channel, r.status) for r in rows) == [
            ("astreinte", "sent"),
            ("codis-cap", "sent"),
            ("codis-json", "sent"),
            ("cta", "sent"),
        ]
        assert session.get_one(Incident, incident_id).status == IncidentStatus.DISPATCHED
    actions = [a for a, _ in audit(central, incident_id)]
    assert actions.count("incident.dispatched") == 1
    assert actions.count("dispatch.queued") == 4
    assert actions.count("dispatch.sent") == 4

    # The page learnt of the deliveries by push.
    expect(page.locator("table.dispatches tr.dispatch-sent")).to_have_count(4)
    expect(page.locator("#caption")).to_contain_text("image signalée")
    shoot(page, screenshots / "incident.png", full_page=True)
    shoot(page.locator("#map"), screenshots / "map.png")


def test_unacknowledged_incident_escalates_after_the_delay(central: Central) -> None:
    incident_id = new_incident(central, CARROS)
    [reminder] = wait_until(
        lambda: central.smtp.for_incident(incident_id, "RELANCE"),
        ESCALATION_AFTER_S + 15,
        "the escalation e-mail",
    )
    assert "non acquittée" in reminder["Subject"]
    with central.sessions() as session:
        incident = session.get_one(Incident, incident_id)
        escalated = session.scalars(
            select(AuditEntry).where(
                AuditEntry.incident_id == incident_id, AuditEntry.action == "incident.escalated"
            )
        ).one()
        assert (escalated.at - incident.created_at).total_seconds() >= ESCALATION_AFTER_S
        assert incident.acknowledged_at is None
    time.sleep(1.0)  # more worker rounds: a reminder is sent once
    assert len(central.smtp.for_incident(incident_id, "RELANCE")) == 1


def test_cameras_history_exports_and_kpis(page: Any, central: Central, screenshots: Path) -> None:
    from playwright.sync_api import expect

    publish(
        central.broker.port,
        [
            heartbeat(CABANELLE, "cam-1"),
            heartbeat(COURMETTES, "est", frozen=True, outbox_depth=7, last_frame_age_s=95.0),
        ],
    )
    page.goto(central.url + "/cameras")
    expect(page.locator("tr[data-camera='courmettes/est']")).to_contain_text("figée")
    expect(page.locator("tr[data-camera='cabanelle/cam-1']")).to_contain_text("en ligne")
    shoot(page, screenshots / "cameras.png", full_page=True)

    page.goto(central.url + "/historique")
    expect(page.locator("table.incidents tbody tr")).to_have_count(5)
    shoot(page, screenshots / "history.png", full_page=True)
    page.check("input[name=status][value=dismissed]")
    page.click("text=Filtrer")
    expect(page.locator("table.incidents tbody tr")).to_have_count(1)
    with page.expect_download() as download:
        page.click("text=Export CSV")
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    [record] = list(csv.DictReader(io.StringIO(text), delimiter=";"))
    assert (record["statut"], record["fausse_alerte"]) == ("dismissed", "Brouillard / brume")
    assert record["commune"]
    assert record["dfci"]
    assert record["latitude_deg"]
    with page.expect_download() as download:
        page.click("text=Export GeoJSON")
    collection = json.loads(Path(download.value.path()).read_text(encoding="utf-8"))
    [feature] = collection["features"]
    assert feature["geometry"]["type"] == "Point"
    assert feature["properties"]["fausse_alerte"] == "Brouillard / brume"

    kpis = page.request.get(central.url + "/api/v1/dispatch/kpis").json()
    [today] = kpis["periods"]
    assert today["time_to_acknowledge"]["count"] >= 3
    assert today["time_to_dispatch"]["count"] == 1
    page.goto(central.url + "/indicateurs")
    expect(page.locator("table.kpis tbody tr")).to_have_count(1)
    shoot(page, screenshots / "kpis.png")


def test_phone_layout(browser: Any, central: Central, screenshots: Path) -> None:
    from playwright.sync_api import expect

    context = browser.new_context(
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="fr-FR",
        timezone_id="Europe/Paris",
    )
    phone = context.new_page()
    login(phone, central)
    incident_id = new_incident(central, NICE_HILLS)
    expect(phone.locator(f"#incident-{incident_id}")).to_be_visible()
    # Cards, not a table wider than the screen.
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    shoot(phone, screenshots / "phone-incidents.png")
    phone.goto(f"{central.url}/incidents/{incident_id}")
    expect(phone.locator("button[data-action=dispatch]")).to_be_visible()
    shoot(phone, screenshots / "phone-incident.png", full_page=True)
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    context.close()
