"""The region's table from the store: one GROUP BY over the precomputed deadline columns.

Same ``Report`` as report.py, filled in SQL so a region-year (420,000 discharges) aggregates in
well under a second on SQLite and PostgreSQL (bench/sla_bench.py). ``basis`` picks what counts
as "sent": delivery to the receiver's channel (default) or the receiver's acknowledgement.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from gateway.errors import LocalUsageError
from gateway.sla.report import DEFAULT_GROUP_BY, Figures, Report
from gateway.sla.tables import Discharge

BASES = ("sent", "acknowledged")


def store_report(
    session: Session,
    group_by: tuple[str, ...] = DEFAULT_GROUP_BY,
    *,
    start: date | None = None,
    end: date | None = None,
    basis: str = "sent",
    hospitals: Collection[str] | None = None,
) -> Report:
    """The table over discharges with local discharge date in [start, end]; ``hospitals``
    limits it to those hospitals (an API client's own, api.py), None = all."""
    if basis not in BASES:
        raise LocalUsageError(f"basis must be one of {', '.join(BASES)}, not {basis!r}")
    sent = Discharge.letter_sent_at if basis == "sent" else Discharge.letter_acknowledged_at
    columns = {
        "hospital": Discharge.hospital,
        "department": Discharge.department,
        "month": Discharge.month,
    }
    keys = [columns[k] for k in group_by]
    query = select(
        *keys,
        func.count(),
        func.sum(case((sent.is_not(None), 1), else_=0)),
        func.sum(case((sent <= Discharge.deadline_3, 1), else_=0)),
        func.sum(case((sent <= Discharge.deadline_1, 1), else_=0)),
    )
    if start is not None:
        query = query.where(Discharge.discharge_date >= start)
    if end is not None:
        query = query.where(Discharge.discharge_date <= end)
    if hospitals is not None:
        query = query.where(Discharge.hospital.in_(sorted(hospitals)))
    if keys:
        query = query.group_by(*keys).order_by(*keys)
    report = Report(group_by)
    width = len(keys)
    for row in session.execute(query):
        figures = Figures(*(int(v or 0) for v in row[width:]))
        report.total.add(figures)
        if keys:
            report.groups[tuple(str(v) for v in row[:width])] = figures
    return report
