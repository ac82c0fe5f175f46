"""SLA endpoints: discharge events in, the region's report, the worklist, tasks, ``/metrics``.

Mounted by gateway.api.app through the ``medbro.routers`` entry point ``sla``.

* ``POST /v1/discharges``: a discharge event (hospital, department SKS code, patient CPR,
  discharge id, discharged_at; naive times are Copenhagen local). Idempotent per
  hospital + discharge id: 201 when new, 200 when it updated a known discharge.
* ``GET /v1/sla/report?from=&to=&group_by=hospital,department,month&basis=sent``: the table as
  JSON, or CSV with ``format=csv`` or ``Accept: text/csv``.
* ``GET /v1/sla/worklist?department=&hospital=&limit=``: open discharges by deadline.
* ``GET /v1/sla/tasks?department=``: unresolved escalation tasks.
* ``GET /metrics``: every medbro metric (gateway.metrics), for Prometheus; no key.

The ``/v1`` endpoints need the ``X-API-Key`` of an organisation in the partner registry (the
hub's ``registry.organisation_for_key``), as ``/v1/messages`` does. An organisation reports
discharges only for the hospitals (SKS sygehus codes) in its ``hospitals`` list: both the
``hospital`` and the department's hospital (its first four characters), else 403. It sees the
report, the worklist and the tasks of those hospitals only; a ``region`` or ``operator``
organisation sees every hospital (gateway.registry.Organisation.sla_hospitals).

The database session comes from ``app.state.sla_sessions`` (a sessionmaker) when set, else from
the hub's store; the clock from ``app.state.clock`` when set (tests), else the system clock.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response, Security, status
from fastapi.security import APIKeyHeader
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway import metrics
from gateway.api.responses import answers, json_body, ok, problems
from gateway.errors import MedbroError
from gateway.sla import alerts, hooks
from gateway.sla.config import SlaConfig
from gateway.sla.deadlines import as_local, from_utc_naive
from gateway.sla.report import parse_group_by
from gateway.sla.state import SlaState
from gateway.sla.store_report import store_report
from gateway.sla.tables import Discharge
from gateway.sla.worklist import worklist

router = APIRouter(tags=["sla"])
_api_key = APIKeyHeader(name="X-API-Key", auto_error=False, description="organisation API key")


def organisation(request: Request, api_key: Annotated[str | None, Security(_api_key)]) -> Any:
    """The organisation behind ``X-API-Key``; 401 when absent or unknown."""
    registry = getattr(getattr(request.app.state, "hub", None), "registry", None)
    org = registry.organisation_for_key(api_key) if registry is not None and api_key else None
    if org is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "a known X-API-Key header is required",
            headers={"WWW-Authenticate": "ApiKey"},
        )
    return org


def session(request: Request) -> Iterator[Session]:
    """One transaction per request."""
    factory = getattr(request.app.state, "sla_sessions", None)
    if factory is not None:
        with factory.begin() as s:
            yield s
        return
    with request.app.state.hub.store.transaction() as s:
        yield s


def clock(request: Request) -> datetime:
    now: Callable[[], datetime] | None = getattr(request.app.state, "clock", None)
    return as_local(now() if now is not None else datetime.now(UTC))


def config(request: Request) -> SlaConfig:
    return getattr(request.app.state, "sla_config", None) or hooks.current_config()


def _forbidden(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_403_FORBIDDEN, detail)


def visible_hospitals(org: Any) -> frozenset[str] | None:
    """The hospitals ``org`` may see in the SLA views; None = all. Nothing when undeclared."""
    return getattr(org, "sla_hospitals", frozenset())


Auth = Annotated[Any, Depends(organisation)]
Db = Annotated[Session, Depends(session)]
Now = Annotated[datetime, Depends(clock)]
Config = Annotated[SlaConfig, Depends(config)]


class DischargeIn(BaseModel):
    hospital: str = Field(min_length=1, max_length=64)
    department: str = Field(min_length=1, max_length=32, description="SKS department code")
    patient_cpr: str = Field(pattern=r"^\d{6}-?\d{4}$")
    discharge_id: str = Field(min_length=1, max_length=128)
    discharged_at: datetime = Field(description="naive = Europe/Copenhagen local time")


class DischargeOut(BaseModel):
    discharge_key: str
    discharged_at: datetime
    deadline_1: datetime
    deadline_3: datetime
    at_risk_at: datetime
    status: str
    letter_sent_at: datetime | None


def _out(row: Discharge, now: datetime, cfg: SlaConfig) -> DischargeOut:
    state = SlaState.from_row(row, cfg)
    return DischargeOut(
        discharge_key=row.discharge_key,
        discharged_at=state.discharged_at,
        deadline_1=state.deadlines[1],
        deadline_3=state.deadlines[3],
        at_risk_at=from_utc_naive(row.at_risk_at),
        status=state.overall(now).value,
        letter_sent_at=state.letter_sent_at,
    )


DISCHARGE_IN_EXAMPLE = {"hospital": "1301", "department": "1301011", "patient_cpr": "0101804321",
                        "discharge_id": "ADM-2026-000123",
                        "discharged_at": "2026-03-02T10:15:00"}
DISCHARGE_OUT_EXAMPLE = {
    "discharge_key": "1301/ADM-2026-000123", "discharged_at": "2026-03-02T10:15:00+01:00",
    "deadline_1": "2026-03-03T23:59:59.999999+01:00",
    "deadline_3": "2026-03-05T23:59:59.999999+01:00",
    "at_risk_at": "2026-03-03T12:00:00+01:00", "status": "open", "letter_sent_at": None,
}
_COUNTS = {"discharges": 412, "with_letter": 404, "within_3_workdays": 398,
           "within_1_workday": 371, "pct_with_letter": 98.1, "pct_within_3_workdays": 96.6,
           "pct_within_1_workday": 90.1}
REPORT_EXAMPLE = {"total": _COUNTS, "groups": [{"hospital": "1301", **_COUNTS}], "warnings": [{
    "discharge": "1301/ADM-2026-000200", "column": "discharged_at", "code": "discharge_in_future",
    "message": "2026-03-31T10:00 is after today 2026-03-30",
    "counted_as": "left out of every figure"}]}
REPORT_CSV_EXAMPLE = (
    "hospital,discharges,with_letter,within_3_workdays,within_1_workday,pct_with_letter,"
    "pct_within_3_workdays,pct_within_1_workday\n1301,412,404,398,371,98.1,96.6,90.1\n"
    "total,412,404,398,371,98.1,96.6,90.1\n")
WORKLIST_EXAMPLE = [{
    "hospital": "1301", "department": "1301011", "discharge_id": "ADM-2026-000123",
    "patient": "010180-****", "discharged_at": "2026-03-02T10:15:00+01:00",
    "target_workdays": 1, "deadline": "2026-03-03T23:59:59.999999+01:00",
    "time_left_hours": 11.5, "status": "at_risk", "letter_received": False,
}]
TASKS_EXAMPLE = [{"id": 17, "kind": "at_risk_1", "hospital": "1301", "department": "1301011",
                  "deadline": "2026-03-03T23:59:59.999999+01:00",
                  "created_at": "2026-03-03T12:00:00+01:00"}]


@router.post(
    "/v1/discharges", response_model=DischargeOut, status_code=201,
    responses=answers(
        ok(DISCHARGE_OUT_EXAMPLE, status=201, description="a new discharge: its SLA clock"),
        ok(DISCHARGE_OUT_EXAMPLE, description="a known discharge (same hospital and id), "
           "updated"),
        problems(400, 401, 403, 422, _403="the hospital or the department's hospital is not one "
                 "of the organisation's")),
    openapi_extra=json_body(DISCHARGE_IN_EXAMPLE),
)
def post_discharge(body: DischargeIn, response: Response, org: Auth, db: Db, now: Now, cfg: Config):
    """Record a discharge event; repeating it (same hospital + discharge id) updates it."""
    owns = getattr(org, "owns_hospital", lambda _hospital: False)
    if not owns(body.hospital):
        raise _forbidden(f"hospital {body.hospital!r} is not one of this organisation's hospitals")
    if not owns(hooks.hospital_of(body.department)):
        raise _forbidden(
            f"department {body.department!r} is not at one of this organisation's hospitals "
            "(its first four characters are the SKS hospital code)"
        )
    key = f"{body.hospital}/{body.discharge_id}"
    known = db.scalar(select(Discharge.id).where(Discharge.discharge_key == key)) is not None
    row = hooks.discharge_reported(
        db,
        hospital=body.hospital,
        department=body.department,
        patient_cpr=body.patient_cpr.replace("-", ""),
        discharge_id=body.discharge_id,
        discharged_at=body.discharged_at,
        source="api",
        config=cfg,
        reported_at=now,
    )
    if known:
        response.status_code = status.HTTP_200_OK
    return _out(row, now, cfg)


_DAY = r"^(\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01]))?$"  # a day (or empty); 02-30 is 422


def _date_param(name: str, value: str | None) -> date | None:
    """An optional date query parameter; empty means unbounded (``?from=&to=``)."""
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise HTTPException(422, f"{name}: {value!r} is not a date YYYY-MM-DD") from None


@router.get(
    "/v1/sla/report",
    responses=answers(
        ok(REPORT_EXAMPLE, description="the table as JSON, or as CSV with format=csv or "
           "Accept: text/csv", other_media={"text/csv": REPORT_CSV_EXAMPLE}),
        problems(401, 422)),
)
def get_report(
    request: Request,
    org: Auth,
    db: Db,
    now: Now,
    cfg: Config,
    start: Annotated[str | None, Query(alias="from", pattern=_DAY,
                                       description="YYYY-MM-DD; empty: unbounded")] = None,
    end: Annotated[str | None, Query(alias="to", pattern=_DAY,
                                     description="YYYY-MM-DD; empty: unbounded")] = None,
    group_by: Annotated[str, Query(
        pattern=r"^(none|(hospital|department|month)(,(hospital|department|month)){0,2})?$",
        description="comma list of hospital, department, month (each at most once); "
                    "none or empty: the total only")] = "hospital,department,month",
    basis: Annotated[Literal["sent", "acknowledged"],
                     Query(description="what counts as the letter's time")] = "sent",
    format: Annotated[Literal["json", "csv"] | None,  # noqa: A002 - the public name
                      Query(description="json (default) or csv")] = None,
) -> Any:
    """The region's table (a, b, c, d, b/a, c/a, d/a) per group and in total."""
    first, last = _date_param("from", start), _date_param("to", end)
    try:
        report = store_report(
            db,
            parse_group_by(group_by),
            start=first,
            end=last,
            basis=basis,
            hospitals=visible_hospitals(org),
            today=now.date(),
            plausible_days=cfg.plausible_days,
        )
    except MedbroError as exc:
        raise HTTPException(422, str(exc)) from None
    wants_csv = format == "csv" or (
        format is None and "text/csv" in request.headers.get("accept", "")
    )
    if wants_csv:
        return Response(report.to_csv(), media_type="text/csv; charset=utf-8")
    return report.as_dict()


@router.get(
    "/v1/sla/worklist",
    responses=answers(ok(WORKLIST_EXAMPLE, description="open discharges, most urgent first"),
                      problems(401, 403, 422, _403="the hospital is not one of the "
                               "organisation's")),
)
def get_worklist(
    org: Auth,
    db: Db,
    now: Now,
    cfg: Config,
    department: str | None = None,
    hospital: str | None = None,
    limit: Annotated[int, Query(ge=1, le=10000)] = 500,
) -> list[dict[str, Any]]:
    """Discharged patients without a delivered letter, most urgent deadline first."""
    hospitals = visible_hospitals(org)
    if hospital and hospitals is not None and hospital not in hospitals:
        raise _forbidden(f"hospital {hospital!r} is not one of this organisation's hospitals")
    items = worklist(
        db, now, cfg, department=department, hospital=hospital, hospitals=hospitals, limit=limit
    )
    return [item.as_dict() for item in items]


@router.get(
    "/v1/sla/tasks",
    responses=answers(ok(TASKS_EXAMPLE, description="unresolved escalation tasks"),
                      problems(401)),
)
def get_tasks(org: Auth, db: Db, department: str | None = None) -> list[dict[str, Any]]:
    """Unresolved escalation tasks (at risk, breached), most urgent deadline first."""
    return [
        {
            "id": task.id,
            "kind": task.kind,
            "hospital": task.hospital,
            "department": task.department,
            "deadline": from_utc_naive(task.deadline).isoformat(),
            "created_at": from_utc_naive(task.created_at).isoformat(),
        }
        for task in alerts.open_tasks(db, department=department, hospitals=visible_hospitals(org))
    ]


@router.get("/metrics", include_in_schema=False)
def get_metrics() -> Response:
    body, content_type = metrics.render()
    return Response(body, media_type=content_type)
