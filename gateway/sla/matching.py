"""Which discharge a letter (or a second report of a discharge) belongs to.

The rule (docs/sla.md "Matching"):

1. A letter whose (sender SKS code, letter id RFF+SRI) is already known joins that letter's
   discharge: corrections (GIS+M) and resends never start a second clock.
2. Otherwise the candidates are discharges of the **same patient (CPR)** at the **same hospital
   department (SKS code)**, the letter's sender (NAD+SSP scheme SKS):
   * when the letter carries DTM+91, discharges within ``DISCHARGE_WINDOW`` (12 h) of it;
   * else discharges from ``LOOKBACK`` (30 days) before the letter was received up to
     ``LOOKAHEAD`` (1 day) after it.
   Discharges that have no letter yet come first, then the one nearest in time (to DTM+91, or
   the latest before reception).
3. No candidate: the letter starts its own discharge (source ``letter``), timed by DTM+91, or
   by the reception time when DTM+91 is absent (stated in the row's source).

A discharge report (API, import, DIS17) for the same patient and department within
``DISCHARGE_WINDOW`` of a discharge that a *weaker* source created takes that row over (its
time, key and source win) instead of adding a second discharge: the strength order is
``letter`` < ``dis17`` < ``api`` = ``import``.

``choose`` is pure; ``candidates`` does the one query.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.sla.tables import Discharge, SlaLetter

DISCHARGE_WINDOW = timedelta(hours=12)
LOOKBACK = timedelta(days=30)
LOOKAHEAD = timedelta(days=1)
SOURCE_STRENGTH = {"letter": 1, "dis17": 2, "api": 3, "import": 3}


def window(discharged_at: datetime | None, received_at: datetime) -> tuple[datetime, datetime]:
    """The [start, end] of discharge times a letter may match (naive UTC in, naive UTC out)."""
    if discharged_at is not None:
        return discharged_at - DISCHARGE_WINDOW, discharged_at + DISCHARGE_WINDOW
    return received_at - LOOKBACK, received_at + LOOKAHEAD


def choose(
    candidates: Sequence[Discharge], discharged_at: datetime | None, received_at: datetime
) -> Discharge | None:
    """The best candidate by the rule above (``candidates`` already in the window)."""
    if not candidates:
        return None
    anchor = discharged_at if discharged_at is not None else received_at

    def rank(row: Discharge) -> tuple[int, timedelta, int]:
        has_letter = 1 if row.letter_message_id is not None else 0
        return (has_letter, abs(row.discharged_at - anchor), row.id or 0)

    return min(candidates, key=rank)


def candidates(
    session: Session, patient_cpr: str, department: str, start: datetime, end: datetime
) -> list[Discharge]:
    """Discharges of this patient at this department with discharge time in [start, end]."""
    if not patient_cpr or not department:
        return []
    query = select(Discharge).where(
        Discharge.patient_cpr == patient_cpr,
        Discharge.department == department,
        Discharge.discharged_at >= start,
        Discharge.discharged_at <= end,
    )
    return list(session.scalars(query))


def discharge_of_known_letter(session: Session, sender_id: str, letter_id: str) -> int | None:
    """The discharge an earlier version of this letter (same sender, same RFF+SRI) joined."""
    if not letter_id:
        return None
    query = (
        select(SlaLetter.discharge_pk)
        .where(
            SlaLetter.sender_id == sender_id,
            SlaLetter.letter_id == letter_id,
            SlaLetter.discharge_pk.is_not(None),
        )
        .order_by(SlaLetter.received_at)
        .limit(1)
    )
    return session.scalar(query)


def weaker_duplicate(
    session: Session, patient_cpr: str, department: str, discharged_at: datetime, source: str
) -> tuple[Discharge | None, Discharge | None]:
    """For a discharge report: (the nearest weaker row to take over, the nearest row at least
    as strong), both within ``DISCHARGE_WINDOW``; a DIS17 covered by a stronger row only
    confirms it."""
    rows = candidates(
        session,
        patient_cpr,
        department,
        discharged_at - DISCHARGE_WINDOW,
        discharged_at + DISCHARGE_WINDOW,
    )
    strength = SOURCE_STRENGTH[source]

    def nearest(group: list[Discharge]) -> Discharge | None:
        return min(group, key=lambda r: abs(r.discharged_at - discharged_at)) if group else None

    weaker = nearest([r for r in rows if SOURCE_STRENGTH.get(r.source, 0) < strength])
    covering = nearest([r for r in rows if SOURCE_STRENGTH.get(r.source, 0) >= strength])
    return weaker, covering
