"""History: past incidents with filters, and the same selection as CSV or GeoJSON."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BeforeValidator

from central.console.actions import STATUS_LABELS_FR
from central.console.deps import DbDep, OperatorDep, render
from central.console.views import PARIS, IncidentRow, incident_row, operator_names
from central.incidents.lifecycle import IncidentStatus
from central.incidents.queries import IncidentFilter, list_incidents

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50
# One export holds at most this many incidents (a season of a department is a few thousand).
MAX_EXPORT = 10_000


@dataclass(frozen=True, slots=True)
class HistoryQuery:
    """Form values: dates are local calendar days, ``until`` inclusive."""

    statuses: tuple[IncidentStatus, ...]
    since: date | None
    until: date | None
    massif: str | None
    commune: str | None

    def to_filter(self) -> IncidentFilter:
        def start_of(day: date) -> datetime:
            return datetime.combine(day, time(0), PARIS)

        return IncidentFilter(
            self.statuses,
            start_of(self.since) if self.since else None,
            start_of(self.until + timedelta(days=1)) if self.until else None,
            self.massif or None,
            self.commune or None,
        )

    def query_string(self) -> str:
        pairs: list[tuple[str, str]] = [("status", s.value) for s in self.statuses]
        pairs += [
            (name, str(value))
            for name, value in (
                ("since", self.since),
                ("until", self.until),
                ("massif", self.massif),
                ("commune", self.commune),
            )
            if value
        ]
        return urlencode(pairs)


def _blank_is_none(value: object) -> object:
    """An empty form field (``since=``) means "no filter", not an invalid date."""
    return None if value == "" else value


OptionalDate = Annotated[date | None, BeforeValidator(_blank_is_none)]


def history_query(
    status: Annotated[list[IncidentStatus] | None, Query()] = None,
    since: OptionalDate = None,
    until: OptionalDate = None,
    massif: Annotated[str | None, Query(max_length=100)] = None,
    commune: Annotated[str | None, Query(max_length=100)] = None,
) -> HistoryQuery:
    return HistoryQuery(tuple(status or ()), since, until, massif or None, commune or None)


QueryDep = Annotated[HistoryQuery, Depends(history_query)]


def _rows(
    session: DbDep, wanted: HistoryQuery, limit: int, offset: int
) -> tuple[list[IncidentRow], int]:
    page = list_incidents(session, wanted.to_filter(), limit, offset)
    names = operator_names(session)
    return [incident_row(session, item.incident, names) for item in page.items], page.total


@router.get("/historique")
def history(
    request: Request,
    operator: OperatorDep,
    session: DbDep,
    wanted: QueryDep,
    page: Annotated[int, Query(ge=1)] = 1,
) -> Response:
    rows, total = _rows(session, wanted, PAGE_SIZE, (page - 1) * PAGE_SIZE)
    context = {
        "rows": rows,
        "total": total,
        "page": page,
        "pages": max(1, -(-total // PAGE_SIZE)),
        "query": wanted,
        "query_string": wanted.query_string(),
        "statuses": STATUS_LABELS_FR,
    }
    return render(request, "history.html", context, operator)


CSV_COLUMNS = (
    ("id", "incident"),
    ("status", "statut"),
    ("detection_class", "classe"),
    ("first_seen_iso", "premiere_detection_utc"),
    ("confidence_pct", "confiance_pct"),
    ("latitude_deg", "latitude_deg"),
    ("longitude_deg", "longitude_deg"),
    ("uncertainty_m", "incertitude_m"),
    ("method", "methode"),
    ("dfci_code", "dfci"),
    ("commune", "commune"),
    ("massif", "massif"),
    ("cameras", "cameras"),
    ("acknowledged_by", "acquitte_par"),
    ("false_positive", "fausse_alerte"),
)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, tuple):
        return " ; ".join(value)
    text = str(value)
    # A cell starting with = + - @ is a formula to a spreadsheet: neutralise it.
    return "'" + text if text[:1] in ("=", "+", "-", "@") and not _is_number(text) else text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


@router.get("/historique.csv")
def history_csv(operator: OperatorDep, session: DbDep, wanted: QueryDep) -> Response:
    rows, _ = _rows(session, wanted, MAX_EXPORT, 0)
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")  # Excel in French locale expects semicolons
    writer.writerow([header for _, header in CSV_COLUMNS])
    for row in rows:
        writer.writerow([_cell(getattr(row, name)) for name, _ in CSV_COLUMNS])
    return Response(
        "\ufeff" + buffer.getvalue(),  # BOM: Excel then reads UTF-8 accents right
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="vigifeu-incidents.csv"'},
    )


@router.get("/historique.geojson")
def history_geojson(operator: OperatorDep, session: DbDep, wanted: QueryDep) -> Response:
    rows, _ = _rows(session, wanted, MAX_EXPORT, 0)
    features = []
    for row in rows:
        geometry = None
        if row.latitude_deg is not None and row.longitude_deg is not None:
            geometry = {"type": "Point", "coordinates": [row.longitude_deg, row.latitude_deg]}
        properties = {header: getattr(row, name) for name, header in CSV_COLUMNS}
        features.append(
            {"type": "Feature", "id": row.id, "geometry": geometry, "properties": properties}
        )
    return JSONResponse(
        {"type": "FeatureCollection", "features": features},
        media_type="application/geo+json",
        headers={"Content-Disposition": 'attachment; filename="vigifeu-incidents.geojson"'},
    )
