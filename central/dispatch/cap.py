"""OASIS CAP 1.2 (Common Alerting Protocol) document of an incident, for dispatch centres.

Element order and value sets follow the CAP 1.2 schema; times carry a numeric UTC offset
(the standard forbids "Z"). The alert is ``Restricted`` to the fire service: it is an
operational message, not a public warning.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime

from central.dispatch.message import IncidentFacts, Purpose, RenderedMessage, bearing_text

CAP_NAMESPACE = "urn:oasis:names:tc:emergency:cap:1.2"
# Smallest circle we announce: a point estimate still needs room for the crew to search.
MIN_RADIUS_KM = 0.5


def cap_time(moment: datetime) -> str:
    """``2025-07-28T14:03:00+02:00`` (seconds, numeric offset), as CAP 1.2 requires."""
    return moment.replace(microsecond=0).isoformat()


def _certainty(status: str) -> str:
    return "Observed" if status in ("confirmed", "dispatched") else "Possible"


def _add(parent: ET.Element, tag: str, text: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{CAP_NAMESPACE}}}{tag}")
    element.text = text
    return element


def _parameter(info: ET.Element, name: str, value: str) -> None:
    parameter = ET.SubElement(info, f"{{{CAP_NAMESPACE}}}parameter")
    _add(parameter, "valueName", name)
    _add(parameter, "value", value)


def render_cap(
    facts: IncidentFacts,
    purpose: Purpose,
    rendered: RenderedMessage,
    sender: str,
    sender_name: str,
    sent_at: datetime,
) -> bytes:
    """The CAP 1.2 XML document (UTF-8, with declaration)."""
    ET.register_namespace("", CAP_NAMESPACE)
    alert = ET.Element(f"{{{CAP_NAMESPACE}}}alert")
    _add(alert, "identifier", f"vigifeu-incident-{facts.incident_id}-{purpose}")
    _add(alert, "sender", sender)
    _add(alert, "sent", cap_time(sent_at))
    _add(alert, "status", "Actual")
    _add(alert, "msgType", "Alert")
    _add(alert, "scope", "Restricted")
    _add(alert, "restriction", "Service départemental d'incendie et de secours")
    if purpose == "escalation":
        _add(alert, "note", "Relance : incident non acquitté dans le délai")
    _add(alert, "incidents", f"vigifeu-incident-{facts.incident_id}")

    info = ET.SubElement(alert, f"{{{CAP_NAMESPACE}}}info")
    _add(info, "language", "fr-FR" if rendered.language == "fr" else "en-GB")
    _add(info, "category", "Fire")
    _add(info, "event", "Feu de forêt" if rendered.language == "fr" else "Wildfire")
    _add(info, "responseType", "Assess")
    _add(info, "urgency", "Immediate")
    _add(info, "severity", "Severe")
    _add(info, "certainty", _certainty(facts.status))
    _add(info, "onset", cap_time(facts.first_seen_at.astimezone(sent_at.tzinfo)))
    _add(info, "senderName", sender_name)
    _add(info, "headline", rendered.subject[:160])
    _add(info, "description", rendered.body)
    _add(info, "web", facts.console_url)
    _parameter(info, "confidence", f"{facts.confidence:.2f}")
    if facts.method:
        _parameter(info, "location_method", facts.method)
    for view in facts.cameras:
        _parameter(info, "bearing", f"{view.camera_key} {bearing_text(view, rendered.language)}")
    if facts.snapshot_url:
        resource = ET.SubElement(info, f"{{{CAP_NAMESPACE}}}resource")
        _add(resource, "resourceDesc", "image de la détection")
        _add(resource, "mimeType", "image/jpeg")
        _add(resource, "uri", facts.snapshot_url)

    area = ET.SubElement(info, f"{{{CAP_NAMESPACE}}}area")
    place = ", ".join(part for part in (facts.massif, facts.commune, facts.dfci_code) if part)
    _add(area, "areaDesc", place or "Alpes-Maritimes")
    if facts.latitude_deg is not None and facts.longitude_deg is not None:
        # 2 sigma of the ellipse's major axis covers ~86 % of a circular 2-D error.
        radius_km = max(MIN_RADIUS_KM, 2 * (facts.uncertainty_m or 0.0) / 1000)
        _add(area, "circle", f"{facts.latitude_deg:.5f},{facts.longitude_deg:.5f} {radius_km:.1f}")
    if facts.dfci_code:
        geocode = ET.SubElement(area, f"{{{CAP_NAMESPACE}}}geocode")
        _add(geocode, "valueName", "DFCI")
        _add(geocode, "value", facts.dfci_code)
    body: bytes = ET.tostring(alert, encoding="utf-8", xml_declaration=True)
    return body
