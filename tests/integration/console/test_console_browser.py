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

from central.console.export import PAGE_SIZE
from central.db import AuditEntry, Camera, Dispatch, Event, Incident
from central.incidents.lifecycle import OPEN_STATUSES, IncidentStatus
from tests.integration.console.conftest import (
    ADMIN,
    ESCALATION_AFTER_S,
    EXPECT_TIMEOUT_MS,
    Central,
)
from tests.integration.console.scenario import (
    CABANELLE,
    COURMETTES,
    event_alerts,
    heartbeat,
    publish,
)
from tests.support.waiting import wait_until

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
    page.set_default_timeout(EXPECT_TIMEOUT_MS)
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


def operator_actions(central: Central, incident_id: int) -> list[str]:
    """What the operator did, in order. Central's own entries are left out: the escalation
    (ESCALATION_AFTER_S after creation) lands among them whenever a slow run takes that long."""
    return [action for action, actor in audit(central, incident_id) if actor == ADMIN[0]]


def push_panel_update(page: Any, central: Central, alerts: list[Any]) -> None:
    """Publish ``alerts`` (more of the shown incident) and wait until the page has re-read its
    panel: the mark set on the old content is gone."""
    from playwright.sync_api import expect

    page.locator("#panel .facts").evaluate("facts => { facts.dataset.stale = 'yes'; }")
    publish(central.broker.port, alerts)
    expect(page.locator("#panel .facts[data-stale]")).to_have_count(0)


def post_action(page: Any, central: Central, incident_id: int, action: str, **form: str) -> None:
    """An action posted like a form (what a second operator's click sends)."""
    token = page.get_attribute("body", "data-csrf")
    response = page.request.post(
        f"{central.url}/incidents/{incident_id}/{action}",
        form=form,
        headers={"X-CSRF-Token": token},
        max_redirects=0,
    )
    assert response.status == 303


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
    assert operator_actions(central, first) == ["incident.acknowledged", "incident.confirmed"]
    for action in ("incident.acknowledged", "incident.confirmed"):
        expect(page.locator(f".audit li[data-action='{action}']")).to_contain_text(ADMIN[0])
    # The incident changes again (another camera): the operator's message stays on screen.
    push_panel_update(page, central, event_alerts(COURMETTES, NICE_HILLS, camera_id="est")[:1])
    expect(page.locator(".flash")).to_have_text("Incident confirmé.")

    page.click("button[data-action=close]")
    expect(page.locator(".flash")).to_have_text("Incident clos.")
    second = new_incident(central, CARROS)
    page.goto(f"{central.url}/incidents/{second}")
    page.select_option("select[name=false_positive]", "fog_haze")
    # A push while the operator chooses (here more smoke; in the failing run the stream's first
    # resync and the escalation) re-reads the panel: the chosen type must survive it.
    push_panel_update(page, central, event_alerts(CABANELLE, CARROS)[:1])
    expect(page.locator("select[name=false_positive]")).to_have_value("fog_haze")
    page.click("button[data-action=dismiss]")
    expect(page.locator(".flash")).to_have_text("Incident écarté.")
    expect(page.locator("#panel")).to_contain_text("Brouillard / brume")
    with central.sessions() as session:
        incident = session.get_one(Incident, second)
        assert (incident.status, incident.false_positive_type) == ("dismissed", "fog_haze")
    # Dismissing acknowledges too: the operator has seen it.
    assert operator_actions(central, second) == ["incident.acknowledged", "incident.dismissed"]


def test_actions_work_without_javascript(browser: Any, central: Central) -> None:
    """Every action is a plain form POST: a click before the scripts ran, or with scripting
    off, does the same as with them."""
    from playwright.sync_api import expect

    context = browser.new_context(java_script_enabled=False, locale="fr-FR")
    plain = context.new_page()
    plain.set_default_timeout(EXPECT_TIMEOUT_MS)
    login(plain, central)
    incident_id = new_incident(central, NICE_HILLS)
    plain.goto(f"{central.url}/incidents/{incident_id}")
    plain.click("button[data-action=acknowledge]")
    expect(plain.locator(".flash")).to_have_text("Incident acquitté.")
    plain.select_option("select[name=false_positive]", "cloud")
    plain.click("button[data-action=dismiss]")
    expect(plain.locator(".flash")).to_have_text("Incident écarté.")
    expect(plain.locator("#panel")).to_contain_text("Nuage")
    assert operator_actions(central, incident_id) == [
        "incident.acknowledged",
        "incident.dismissed",
    ]
    context.close()


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


def test_operator_splits_another_fire_out_and_merges_it_back(
    page: Any, central: Central, screenshots: Path
) -> None:
    """Correcting the clustering: one camera's event out into its own incident, then merged."""
    from playwright.sync_api import expect

    merged_id = new_incident(central, NICE_HILLS)
    page.goto(f"{central.url}/incidents/{merged_id}")
    expect(page.locator("table.events tbody tr")).to_have_count(2)
    shoot(page, screenshots / "incident-events.png", full_page=True)
    page.locator("tr", has_text="courmettes/est").locator("button[data-split]").click()
    expect(page.locator(".flash")).to_contain_text("Détection de courmettes/est séparée")
    with central.sessions() as session:
        [split_id] = session.scalars(
            select(Incident.id).where(Incident.id > merged_id, Incident.status == "new")
        ).all()
        cameras = session.scalars(
            select(Camera.camera_id)
            .join(Event, Event.camera_pk == Camera.id)
            .where(Event.incident_id == split_id)
        ).all()
        assert cameras == ["est"]
    expect(page.locator("table.events tbody tr")).to_have_count(1)
    expect(page.locator(".audit li[data-action='incident.split']")).to_contain_text(
        f"l'incident n° {split_id}"
    )

    page.goto(f"{central.url}/incidents/{split_id}")
    page.select_option("select[name=into]", str(merged_id))
    page.click("button[data-action=merge]")
    page.wait_for_url(f"{central.url}/incidents/{merged_id}")
    expect(page.locator(".flash")).to_have_text(
        f"Incident n° {split_id} regroupé dans l'incident n° {merged_id}."
    )
    expect(page.locator("table.events tbody tr")).to_have_count(2)
    with central.sessions() as session:
        source = session.get_one(Incident, split_id)
        target = session.get_one(Incident, merged_id)
        assert (source.status, source.merged_into_id) == (IncidentStatus.CLOSED, merged_id)
        assert target.location is not None
        assert (target.location.method, target.location.camera_count) == ("triangulation", 2)
    assert operator_actions(central, split_id)[-1] == "incident.merged"
    assert operator_actions(central, merged_id)[-2:] == ["incident.split", "incident.joined"]
    page.goto(f"{central.url}/incidents/{split_id}")
    expect(page.locator(f"[data-merged-into='{merged_id}']")).to_be_visible()
    # Merging the closed incident again is refused back on its own page, nothing changes.
    refused = page.request.post(
        f"{central.url}/incidents/{split_id}/merge",
        form={"into": str(merged_id)},
        headers={"X-CSRF-Token": page.get_attribute("body", "data-csrf")},
        max_redirects=0,
    )
    assert refused.status == 303
    assert refused.headers["location"].endswith(f"/incidents/{split_id}")
    assert operator_actions(central, split_id)[-1] == "incident.merged"


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

    # What this test reads, it makes: one dismissed incident, one dispatched; the counts are
    # taken relative to the rest of the module's incidents, so that it passes alone too.
    kpis_before = kpi_counts(page, central)
    dismissed = new_incident(central, NICE_HILLS)
    post_action(page, central, dismissed, "dismiss", false_positive="fog_haze")
    dispatched = new_incident(central, CARROS)
    post_action(page, central, dispatched, "dispatch")
    with central.sessions() as session:
        everything = session.scalars(select(Incident.id)).all()
        dismissed_ids = session.scalars(
            select(Incident.id).where(Incident.status == IncidentStatus.DISMISSED)
        ).all()
    assert len(everything) <= PAGE_SIZE  # one page of history

    page.goto(central.url + "/historique")
    expect(page.locator("table.incidents tbody tr")).to_have_count(len(everything))
    shoot(page, screenshots / "history.png", full_page=True)
    page.check("input[name=status][value=dismissed]")
    page.click("text=Filtrer")
    expect(page.locator("table.incidents tbody tr")).to_have_count(len(dismissed_ids))
    with page.expect_download() as download:
        page.click("text=Export CSV")
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    records = list(csv.DictReader(io.StringIO(text), delimiter=";"))
    assert sorted(int(r["incident"]) for r in records) == sorted(dismissed_ids)
    [record] = [r for r in records if r["incident"] == str(dismissed)]
    assert (record["statut"], record["fausse_alerte"]) == ("dismissed", "Brouillard / brume")
    assert record["commune"]
    assert record["dfci"]
    assert record["latitude_deg"]
    with page.expect_download() as download:
        page.click("text=Export GeoJSON")
    collection = json.loads(Path(download.value.path()).read_text(encoding="utf-8"))
    assert sorted(f["id"] for f in collection["features"]) == sorted(dismissed_ids)
    [feature] = [f for f in collection["features"] if f["id"] == dismissed]
    assert feature["geometry"]["type"] == "Point"
    assert feature["properties"]["fausse_alerte"] == "Brouillard / brume"

    # Two more incidents today, one dismissed; dismissing and dispatching both acknowledge.
    assert kpi_counts(page, central) == tuple(
        before + added for before, added in zip(kpis_before, (2, 1, 2, 1), strict=True)
    )
    page.goto(central.url + "/indicateurs")
    expect(page.locator("table.kpis tbody tr")).to_have_count(1)
    shoot(page, screenshots / "kpis.png")


def kpi_counts(page: Any, central: Central) -> tuple[int, int, int, int]:
    """Today's incidents, dismissed, acknowledged and dispatched, from the KPI API."""
    periods = page.request.get(central.url + "/api/v1/dispatch/kpis").json()["periods"]
    if not periods:
        return 0, 0, 0, 0
    [today] = periods
    return (
        today["incidents"],
        today["dismissed"],
        today["time_to_acknowledge"]["count"],
        today["time_to_dispatch"]["count"],
    )


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
