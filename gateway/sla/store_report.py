"""The region's table from the store: one GROUP BY over the precomputed deadline columns.

Same ``Report`` as report.py, filled in SQL so a region-year (420,000 discharges) aggregates in
well under a second on SQLite and PostgreSQL (bench/sla_bench.py). ``basis`` picks what counts
as "sent": delivery to the receiver's channel (default) or the receiver's acknowledgement.

Odd rows count by counting.py's rule, read from the table of rules, not restated here: a row
whose stored ``warning`` is a left-out rule, or whose discharge date is after ``today``, is in
no figure; a not-on-time rule counts in a and b only. The warnings are listed (at most
``MAX_WARNINGS``) for rows in the period and for rows reported in it.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import and_, case, func, not_, or_, select
from sqlalchemy.orm import Session

from gateway.errors import LocalUsageError
from gateway.sla import counting
from gateway.sla.config import DEFAULT_PLAUSIBLE_DAYS
from gateway.sla.deadlines import COPENHAGEN, as_local, as_utc_naive, from_utc_naive
from gateway.sla.report import DEFAULT_GROUP_BY, Figures, Report
from gateway.sla.tables import Discharge

BASES = ("sent", "acknowledged")
MAX_WARNINGS = 1000


def _day_start(day: date) -> datetime:
    return as_utc_naive(datetime.combine(day, time(0), tzinfo=COPENHAGEN))


def _warnings(
    session: Session,
    *,
    start: date | None,
    end: date | None,
    today: date,
    plausible_days: int,
    hospitals: Collection[str] | None,
) -> list[counting.RowWarning]:
    """The warnings of odd stored rows: in the period, or reported in it (a 1999 date)."""
    in_period = []
    reported = []
    if start is not None:
        in_period.append(Discharge.discharge_date >= start)
        reported.append(Discharge.reported_at >= _day_start(start))
    if end is not None:
        in_period.append(Discharge.discharge_date <= end)
        reported.append(Discharge.reported_at < _day_start(end + timedelta(days=1)))
    # Two indexed reads, not one OR over the table: rows with a stored warning
    # (ix_sla_discharges_warning), and discharges after today (the report index, by month).
    future = and_(Discharge.month >= f"{today:%Y-%m}", Discharge.discharge_date > today)
    rows: dict[int, Discharge] = {}
    reads = ((Discharge.warning.is_not(None), Discharge.warning), (future, Discharge.month))
    for odd, order in reads:
        query = select(Discharge).where(odd)
        if in_period:
            query = query.where(or_(and_(*in_period), and_(*reported)))
        if hospitals is not None:
            query = query.where(Discharge.hospital.in_(sorted(hospitals)))
        for row in session.scalars(query.order_by(order, Discharge.id).limit(MAX_WARNINGS)):
            rows[row.id] = row
    found: list[counting.RowWarning] = []
    for row in [rows[k] for k in sorted(rows)][:MAX_WARNINGS]:
        found.extend(
            counting.judge(
                from_utc_naive(row.discharged_at),
                from_utc_naive(row.letter_sent_at) if row.letter_sent_at else None,
                reference=from_utc_naive(row.reported_at) if row.reported_at else None,
                plausible_days=plausible_days,
                today=today,
                discharge_key=row.discharge_key,
            )
        )
        if row.warning is not None and not any(w.code == row.warning for w in found[-3:]):
            # judged when stored, under another MEDBRO_SLA_PLAUSIBLE_DAYS: still say why
            found.append(
                counting.RowWarning(
                    row.warning, "judged when it was stored", discharge=row.discharge_key
                )
            )
    return found


def store_report(
    session: Session,
    group_by: tuple[str, ...] = DEFAULT_GROUP_BY,
    *,
    start: date | None = None,
    end: date | None = None,
    basis: str = "sent",
    hospitals: Collection[str] | None = None,
    today: date | None = None,
    plausible_days: int = DEFAULT_PLAUSIBLE_DAYS,
) -> Report:
    """The table over discharges with local discharge date in [start, end]; ``hospitals``
    limits it to those hospitals (an API client's own, api.py), None = all. ``today``: the
    local date the report runs (default: now), for discharges in the future."""
    today = today or as_local(datetime.now(UTC)).date()
    if basis not in BASES:
        raise LocalUsageError(f"basis must be one of {', '.join(BASES)}, not {basis!r}")
    sent = Discharge.letter_sent_at if basis == "sent" else Discharge.letter_acknowledged_at
    columns = {
        "hospital": Discharge.hospital,
        "department": Discharge.department,
        "month": Discharge.month,
    }
    keys = [columns[k] for k in group_by]
    on_time = or_(
        Discharge.warning.is_(None), not_(Discharge.warning.in_(counting.NOT_ON_TIME_CODES))
    )
    query = select(
        *keys,
        func.count(),
        func.sum(case((sent.is_not(None), 1), else_=0)),
        func.sum(case((and_(sent <= Discharge.deadline_3, on_time), 1), else_=0)),
        func.sum(case((and_(sent <= Discharge.deadline_1, on_time), 1), else_=0)),
    ).where(
        or_(Discharge.warning.is_(None), not_(Discharge.warning.in_(counting.LEFT_OUT_CODES))),
        Discharge.discharge_date <= today,  # discharge_in_future: left out until it is not
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
    report.warnings = _warnings(
        session,
        start=start,
        end=end,
        today=today,
        plausible_days=plausible_days,
        hospitals=hospitals,
    )
    return report
