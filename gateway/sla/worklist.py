"""The daily worklist: discharged patients still without a delivered letter, most urgent first.

Hospitals print this list so doctors dictate in time. Each item names the deadline still to
play for (1 workday while it is open, then 3), the time left (negative once passed) and the
status. The patient is shown as a masked CPR (DDMMYY-****) plus the hospital's discharge id,
which is what the department looks the patient up by.

There is no age limit: a patient still without a letter stays on the list however old the
discharge (the alert sweep looks back 45 days; the list must not). The query reads only open
rows (``letter_sent_at IS NULL``, index ``ix_sla_discharges_open``) and sorts and limits in
SQL, so years of unanswered discharges cost one indexed scan, not a Python sort.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from gateway.logging import mask_cpr
from gateway.sla.config import SlaConfig
from gateway.sla.deadlines import as_local, as_utc_naive
from gateway.sla.state import Clock, SlaState
from gateway.sla.tables import Discharge


@dataclass(frozen=True)
class WorklistItem:
    hospital: str
    department: str
    discharge_id: str
    patient: str  # masked CPR
    discharged_at: datetime
    target: int  # workdays of the deadline below
    deadline: datetime
    time_left: timedelta
    status: Clock
    letter_received: bool  # the letter reached medbro but is not delivered yet

    def as_dict(self) -> dict[str, Any]:
        return {
            "hospital": self.hospital,
            "department": self.department,
            "discharge_id": self.discharge_id,
            "patient": self.patient,
            "discharged_at": self.discharged_at.isoformat(),
            "target_workdays": self.target,
            "deadline": self.deadline.isoformat(),
            "time_left_hours": round(self.time_left.total_seconds() / 3600, 1),
            "status": self.status.value,
            "letter_received": self.letter_received,
        }


def item_for(row: Discharge, now: datetime, config: SlaConfig) -> WorklistItem:
    """The worklist line of one open discharge (pure given the row)."""
    state = SlaState.from_row(row, config)
    target = 1 if as_local(now) <= state.deadlines[1] else 3
    due = state.deadlines[target]
    return WorklistItem(
        hospital=row.hospital,
        department=row.department,
        discharge_id=row.discharge_id or row.discharge_key,
        patient=mask_cpr(row.patient_cpr) if row.patient_cpr else "",
        discharged_at=state.discharged_at,
        target=target,
        deadline=due,
        time_left=due - as_local(now),
        status=state.status(target, now),
        letter_received=row.letter_received_at is not None,
    )


def worklist(
    session: Session,
    now: datetime,
    config: SlaConfig,
    *,
    department: str | None = None,
    hospital: str | None = None,
    hospitals: Collection[str] | None = None,
    limit: int = 500,
) -> list[WorklistItem]:
    """Open discharges (no delivered letter, of any age), most urgent deadline first.

    The deadline of an item is deadline 1 while it has not passed at ``now``, then deadline 3
    (item_for); the SQL sort uses the same rule so ``limit`` keeps the most urgent items.
    """
    now_utc = as_utc_naive(now)
    due = case((Discharge.deadline_1 >= now_utc, Discharge.deadline_1), else_=Discharge.deadline_3)
    shown_id = func.coalesce(func.nullif(Discharge.discharge_id, ""), Discharge.discharge_key)
    query = select(Discharge).where(Discharge.letter_sent_at.is_(None))
    if department:
        query = query.where(Discharge.department == department)
    if hospital:
        query = query.where(Discharge.hospital == hospital)
    if hospitals is not None:
        query = query.where(Discharge.hospital.in_(sorted(hospitals)))
    query = query.order_by(due, Discharge.department, shown_id, Discharge.id).limit(limit)
    return [item_for(row, now, config) for row in session.scalars(query)]


def render_worklist_table(items: list[WorklistItem]) -> str:
    heads = ["department", "discharge", "patient", "discharged", "deadline", "left (h)", "status"]
    rows = [
        [
            i.department,
            i.discharge_id,
            i.patient,
            i.discharged_at.strftime("%Y-%m-%d %H:%M"),
            f"{i.deadline:%Y-%m-%d} ({i.target} wd)",
            f"{i.time_left.total_seconds() / 3600:.1f}",
            i.status.value + (" (letter received)" if i.letter_received else ""),
        ]
        for i in items
    ]
    widths = [
        max(len(h), *(len(r[c]) for r in rows)) if rows else len(h) for c, h in enumerate(heads)
    ]
    lines = ["  ".join(h.ljust(w) for h, w in zip(heads, widths, strict=True))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join(lines) + "\n"
