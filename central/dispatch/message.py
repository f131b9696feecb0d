"""What a dispatch says: the incident facts and their French (or English) text.

``IncidentFacts`` is built from the database by ``central.dispatch.facts``; everything here is
pure so that the wording is tested without any I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

Purpose = Literal["dispatch", "escalation"]


@dataclass(frozen=True, slots=True)
class CameraView:
    """One camera's bearing on the smoke, as a lookout says it."""

    camera_key: str  # "<site_id>/<camera_id>"
    azimuth_deg: float  # clockwise from true north


@dataclass(frozen=True, slots=True)
class IncidentFacts:
    """Everything a firefighter needs to go there; positions are WGS84 degrees."""

    incident_id: int
    status: str
    detection_class: str  # "smoke" | "fire"
    first_seen_at: datetime
    confidence: float  # [0, 1], best alert score
    latitude_deg: float | None
    longitude_deg: float | None
    uncertainty_m: float | None  # 1-sigma semi-major axis of the ellipse
    method: str | None  # triangulation | terrain | bearing_only | none
    # Why the position is weaker than its method suggests (``LocationEstimate.degenerate``,
    # e.g. "cut_angle_below_30deg"): the crew must know before trusting the ellipse.
    caveat: str | None
    dfci_code: str | None
    commune: str | None
    massif: str | None
    cameras: tuple[CameraView, ...]
    snapshot_url: str | None
    console_url: str


@dataclass(frozen=True, slots=True)
class RenderedMessage:
    subject: str
    body: str
    language: str


_TEXT = {
    "fr": {
        "smoke": "Fumée suspecte",
        "fire": "Feu",
        "dispatch": "ALERTE",
        "escalation": "RELANCE : alerte non acquittée",
        "incident": "Incident n° {id}, première détection le {date} à {time} ({zone})",
        "position": "Position : {lat:.5f} N, {lon:.5f} E (± {sigma} m, {method})",
        "no_position": "Position : non déterminée (relèvements seuls ci-dessous)",
        "dfci": "Carré DFCI : {code}",
        "commune": "Commune : {name}",
        "massif": "Massif : {name}",
        "cameras": "Caméras :",
        "bearing": "dans mes {az:03.0f}°",
        "confidence": "Confiance : {pct:.0f} %",
        "snapshot": "Image : {url}",
        "console": "Console : {url}",
        "unknown": "inconnu",
        "methods": {
            "triangulation": "triangulation",
            "terrain": "une caméra + relief",
            "bearing_only": "relèvement seul",
            "none": "non localisé",
        },
        "caveat": "Attention, position dégradée : {reason}",
        "caveats": {
            "cut_angle_below_30deg": "relèvements presque parallèles (angle de coupe < 30°)",
            "colocated_cameras": "caméras trop proches pour trianguler",
            "rays_diverge": "relèvements qui ne se croisent pas",
            "beyond_range": "croisement hors de portée des caméras",
            "no_terrain_data": "pas de relief connu à cet endroit",
            "ray_never_meets_ground": "la visée ne rencontre pas le sol",
            "sea": "la visée tombe en mer",
            "grazing_angle_below_5deg": "visée rasante (< 5°), distance incertaine",
            "range_interval_too_long": "distance mal déterminée (> 1,5 km)",
            "masking_ridge_ambiguity": "une crête peut cacher la base de la fumée",
            "eye_below_terrain": "position de la caméra à vérifier",
            "ray_blocked_near_camera": "orientation de la caméra à vérifier",
            "bearing_disagrees": "un relèvement ne concorde pas avec les autres (autre feu ?)",
        },
    },
    "en": {
        "smoke": "Suspected smoke",
        "fire": "Fire",
        "dispatch": "ALERT",
        "escalation": "REMINDER: alert not acknowledged",
        "incident": "Incident #{id}, first seen on {date} at {time} ({zone})",
        "position": "Position: {lat:.5f} N, {lon:.5f} E (± {sigma} m, {method})",
        "no_position": "Position: not determined (bearings only, below)",
        "dfci": "DFCI square: {code}",
        "commune": "Commune: {name}",
        "massif": "Massif: {name}",
        "cameras": "Cameras:",
        "bearing": "bearing {az:03.0f}°",
        "confidence": "Confidence: {pct:.0f} %",
        "snapshot": "Picture: {url}",
        "console": "Console: {url}",
        "unknown": "unknown",
        "methods": {
            "triangulation": "triangulation",
            "terrain": "one camera + terrain",
            "bearing_only": "bearing only",
            "none": "not located",
        },
        "caveat": "Caution, degraded position: {reason}",
        "caveats": {
            "cut_angle_below_30deg": "nearly parallel bearings (cut angle < 30°)",
            "colocated_cameras": "cameras too close to triangulate",
            "rays_diverge": "bearings that do not cross",
            "beyond_range": "crossing beyond the cameras' range",
            "no_terrain_data": "no terrain known there",
            "ray_never_meets_ground": "the line of sight never meets the ground",
            "sea": "the line of sight falls into the sea",
            "grazing_angle_below_5deg": "grazing line of sight (< 5°), distance uncertain",
            "range_interval_too_long": "distance poorly determined (> 1.5 km)",
            "masking_ridge_ambiguity": "a ridge may hide the base of the smoke",
            "eye_below_terrain": "camera position to be checked",
            "ray_blocked_near_camera": "camera orientation to be checked",
            "bearing_disagrees": "one bearing disagrees with the others (another fire?)",
        },
    },
}


def bearing_text(view: CameraView, language: str) -> str:
    """The lookout's form: "dans mes 041°" (three digits, true north)."""
    return str(_TEXT[language]["bearing"]).format(az=view.azimuth_deg % 360)


def caveat_text(caveat: str, language: str) -> str:
    """The reader's words for a ``LocationEstimate.degenerate`` code (the code when unknown)."""
    text: dict[str, Any] = _TEXT[language]
    return str(text["caveats"].get(caveat, caveat))


def _round_sigma(metres: float | None) -> str:
    # Metres to the nearest 10 below 1 km, to the nearest 100 above: more digits are noise.
    if metres is None:
        return "?"
    step = 10 if metres < 1000 else 100
    return f"{round(metres / step) * step:.0f}"


def render(
    facts: IncidentFacts, purpose: Purpose, language: str, zone: ZoneInfo
) -> RenderedMessage:
    """Subject and plain-text body of the message, in ``language`` ("fr" or "en")."""
    text: dict[str, Any] = _TEXT[language]
    what = text[facts.detection_class] if facts.detection_class in text else text["smoke"]
    place = " – ".join(part for part in (facts.massif, facts.commune) if part) or text["unknown"]
    subject = f"[vigifeu] {text[purpose]} – {what} – {place}"
    local = facts.first_seen_at.astimezone(zone)
    lines = [
        f"{text[purpose]} – {what}",
        text["incident"].format(
            id=facts.incident_id,
            date=local.strftime("%d/%m/%Y"),
            time=local.strftime("%H:%M"),
            zone=local.tzname(),
        ),
    ]
    if facts.latitude_deg is not None and facts.longitude_deg is not None:
        method = text["methods"].get(facts.method or "none", facts.method)
        lines.append(
            text["position"].format(
                lat=facts.latitude_deg,
                lon=facts.longitude_deg,
                sigma=_round_sigma(facts.uncertainty_m),
                method=method,
            )
        )
    else:
        lines.append(text["no_position"])
    if facts.caveat:
        lines.append(text["caveat"].format(reason=caveat_text(facts.caveat, language)))
    lines.append(text["dfci"].format(code=facts.dfci_code or text["unknown"]))
    lines.append(text["commune"].format(name=facts.commune or text["unknown"]))
    lines.append(text["massif"].format(name=facts.massif or text["unknown"]))
    lines.append(text["cameras"])
    lines += [f"  - {view.camera_key} : {bearing_text(view, language)}" for view in facts.cameras]
    lines.append(text["confidence"].format(pct=100 * facts.confidence))
    if facts.snapshot_url:
        lines.append(text["snapshot"].format(url=facts.snapshot_url))
    lines.append(text["console"].format(url=facts.console_url))
    return RenderedMessage(subject=subject, body="\n".join(lines) + "\n", language=language)


def to_json(facts: IncidentFacts, purpose: Purpose, rendered: RenderedMessage) -> dict[str, Any]:
    """The JSON document of the webhook and MQTT channels (schema ``vigifeu.dispatch/1``)."""
    position = None
    if facts.latitude_deg is not None and facts.longitude_deg is not None:
        position = {
            "latitude_deg": facts.latitude_deg,
            "longitude_deg": facts.longitude_deg,
            "uncertainty_m": facts.uncertainty_m,
            "method": facts.method,
            "caveat": facts.caveat,
        }
    return {
        "schema": "vigifeu.dispatch/1",
        "purpose": purpose,
        "incident_id": facts.incident_id,
        "status": facts.status,
        "detection_class": facts.detection_class,
        "first_seen_at": facts.first_seen_at.isoformat(),
        "confidence": round(facts.confidence, 3),
        "position": position,
        "dfci_code": facts.dfci_code,
        "commune": facts.commune,
        "massif": facts.massif,
        "cameras": [
            {
                "camera": view.camera_key,
                "azimuth_deg": round(view.azimuth_deg % 360, 1),
                "text": bearing_text(view, rendered.language),
            }
            for view in facts.cameras
        ],
        "snapshot_url": facts.snapshot_url,
        "console_url": facts.console_url,
        "language": rendered.language,
        "subject": rendered.subject,
        "text": rendered.body,
    }
