"""The SLA dashboard: the region's table, the 1- and 3-workday charts, the worklist, CSV.

Every figure comes from the SLA package's own functions (gateway.sla.store_report.store_report,
gateway.sla.worklist.worklist, gateway.sla.report.Report for the percentages), the same ones
``GET /v1/sla/report`` and ``/v1/sla/worklist`` answer with, so the console and the API can
never disagree. A person sees the hospitals of their organisations, or all of them in a region
or operator organisation (ConsoleUser.sla_hospitals).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.console import formats, i18n
from gateway.console.auth import ConsoleUser, Visit, visit
from gateway.console.pages import language, render
from gateway.sla.api import clock, config, session
from gateway.sla.config import SlaConfig
from gateway.sla.report import Figures, Report
from gateway.sla.store_report import store_report
from gateway.sla.tables import Discharge
from gateway.sla.worklist import WorklistItem, worklist

router = APIRouter()

TABLE_GROUPS = ("hospital", "department", "month")
WORKLIST_LIMIT = 200


@dataclass(frozen=True)
class SlaFilter:
    """The dashboard's choices: a period of discharge dates, a hospital, a department."""

    start: date
    end: date
    hospital: str = ""
    department: str = ""

    @classmethod
    def parse(cls, params: Any, today: date) -> SlaFilter:
        """From the query string; the default period is the last twelve months to today."""
        first = date(today.year - (1 if today.month < 12 else 0), today.month % 12 + 1, 1)

        def read(name: str, default: date) -> date:
            value = params.get(name) or ""
            if not value:
                return default
            try:
                return date.fromisoformat(value)
            except ValueError:
                raise HTTPException(422, f"{name}: {value!r} is not a date YYYY-MM-DD") from None

        return cls(read("from", first), read("to", today),
                   (params.get("hospital") or "").strip(), (params.get("department") or "").strip())

    def hospitals(self, user: ConsoleUser) -> frozenset[str] | None:
        """The hospitals to count: the chosen one (if the user may see it), else all visible."""
        visible = user.sla_hospitals
        if not self.hospital:
            return visible
        if visible is not None and self.hospital not in visible:
            raise HTTPException(status.HTTP_403_FORBIDDEN,
                                f"hospital {self.hospital!r} is not one of yours")
        return frozenset({self.hospital})


def filtered_report(db: Session, group_by: tuple[str, ...], choice: SlaFilter,
                    hospitals: frozenset[str] | None) -> Report:
    """The table for ``choice``; a department keeps only its groups (and their total)."""
    keys = group_by if not choice.department or "department" in group_by \
        else ("department", *group_by)
    report = store_report(db, keys, start=choice.start, end=choice.end, hospitals=hospitals)
    if not choice.department:
        return report
    where = keys.index("department")
    kept = Report(group_by)
    for key, figures in report.groups.items():
        if key[where] != choice.department:
            continue
        short = tuple(v for k, v in zip(keys, key, strict=True) if k in group_by)
        kept.groups.setdefault(short, Figures()).add(figures)
        kept.total.add(figures)
    return kept


def chart_data(report: Report, cfg: SlaConfig, lang: str) -> dict[str, Any]:
    """Per month: the 1- and 3-workday percentages and the goals (the page's chart reads it)."""
    _ = i18n.translator(lang)
    months = sorted(key[0] for key in report.groups)
    rows = [report.groups[(m,)].as_dict() for m in months]
    return {
        "text": {
            "within_1": _("Within 1 workday"),
            "within_3": _("Within 3 workdays"),
            "goal_1": _("Goal, 1 workday"),
            "goal_3": _("Goal, 3 workdays"),
            "axis": _("Percent of discharges"),
        },
        "months": months,
        "labels": [formats.month_short(m, lang) for m in months],
        "within_1": [r["pct_within_1_workday"] for r in rows],
        "within_3": [r["pct_within_3_workdays"] for r in rows],
        "discharges": [r["discharges"] for r in rows],
        "goal_1": cfg.goal_pct.get(1),
        "goal_3": cfg.goal_pct.get(3),
    }


def choices(db: Session, user: ConsoleUser) -> tuple[list[str], list[str]]:
    """The hospitals and departments the user can pick (those with discharges)."""
    visible = user.sla_hospitals
    query = select(Discharge.hospital, Discharge.department).distinct()
    if visible is not None:
        query = query.where(Discharge.hospital.in_(sorted(visible)))
    pairs = db.execute(query).all()
    return sorted({h for h, _ in pairs}), sorted({d for _, d in pairs})


def open_worklist(db: Session, now: datetime, cfg: SlaConfig, choice: SlaFilter,
                  hospitals: frozenset[str] | None) -> list[WorklistItem]:
    return worklist(db, now, cfg, department=choice.department or None,
                    hospital=choice.hospital or None, hospitals=hospitals, limit=WORKLIST_LIMIT)


Db = Annotated[Session, Depends(session)]


@router.get("/sla")
def sla_page(request: Request, v: Annotated[Visit, Depends(visit)], db: Db,
             now: Annotated[datetime, Depends(clock)],
             cfg: Annotated[SlaConfig, Depends(config)]) -> Response:
    choice = SlaFilter.parse(request.query_params, now.date())
    hospitals = choice.hospitals(v.user)
    table = filtered_report(db, TABLE_GROUPS, choice, hospitals)
    by_month = filtered_report(db, ("month",), choice, hospitals)
    hospital_options, department_options = choices(db, v.user)
    return render(
        request, "sla.html", v,
        choice=choice,
        rows=table.as_dict()["groups"],
        total=table.total.as_dict(),
        chart=chart_data(by_month, cfg, language(request)),
        goals=cfg.goal_pct,
        worklist=open_worklist(db, now, cfg, choice, hospitals),
        worklist_limit=WORKLIST_LIMIT,
        hospitals=hospital_options,
        departments=department_options,
        now=now,
    )


@router.get("/sla/report.csv")
def sla_csv(request: Request, v: Annotated[Visit, Depends(visit)], db: Db,
            now: Annotated[datetime, Depends(clock)]) -> Response:
    """The table as the API's CSV (Report.to_csv), for the filters on the page."""
    choice = SlaFilter.parse(request.query_params, now.date())
    report = filtered_report(db, TABLE_GROUPS, choice, choice.hospitals(v.user))
    name = f"sla-{choice.start:%Y%m%d}-{choice.end:%Y%m%d}.csv"
    return Response(report.to_csv(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"',
                             "Cache-Control": "no-store"})
