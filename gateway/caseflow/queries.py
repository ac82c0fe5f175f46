"""The read side of the case flow: a case with its timeline, deadlines and advice; the lists
(per municipality, at risk, a meeting's agenda). Deadlines are computed at the ``now`` given,
from the timeline (gateway.caseflow.facts), never stored."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from gateway.caseflow.deadlines import (
    DEFAULT_POLICY,
    Calendar,
    RegionPolicy,
    evaluate,
    recommend_postponement,
)
from gateway.caseflow.facts import facts_from_events
from gateway.caseflow.states import CaseEvent, CaseState, allowed_events
from gateway.caseflow.tables import CaseEventRow, CaseRow, DocumentRow, MeetingRow
from gateway.errors import LocalUsageError
from gateway.logging import get_logger

log = get_logger(__name__)


class CaseNotFound(LocalUsageError):
    """No such case, or not one the asking organisation may see."""


class CaseQueries:
    """Reads over ``sessions``; the service adds the operations."""

    sessions: Callable[[], Session]
    calendar: Calendar
    policies: dict[str, RegionPolicy]

    def view(self, case_ref: str, *, now: datetime,
             municipality: str | None = None) -> dict[str, Any]:
        """The case with its timeline, its deadlines' status and the flow's advice."""
        with self.sessions() as s:
            row = self._case(s, case_ref, municipality)
            events = s.scalars(sa.select(CaseEventRow).where(CaseEventRow.case_id == row.id)
                               .order_by(CaseEventRow.id)).all()
            documents = s.scalars(sa.select(DocumentRow).where(DocumentRow.case_id == row.id)
                                  .order_by(DocumentRow.id)).all()
            meeting = s.get(MeetingRow, row.meeting_id) if row.meeting_id else None
            facts = facts_from_events(row, events, meeting.meeting_on if meeting else None)
            rules = self.policy(row.region).rules(row.urgent)
            deadlines = evaluate(facts, rules, self.calendar, now)
            return {
                "case_ref": row.case_ref, "state": row.state, "region": row.region,
                "urgent": row.urgent, "municipality": row.municipality_number,
                "gp": row.gp_ydernummer, "clinical_function": row.clinical_function_sor,
                "citizen": {"cpr": row.cpr, "name": row.citizen_name},
                "meeting": {"date": meeting.meeting_on.isoformat(),
                            "agenda_position": row.agenda_position} if meeting else None,
                "allowed_events": [e.value for e in _allowed(row.state)],
                "deadlines": [d.to_dict() for d in deadlines],
                "postponement_advised": recommend_postponement(facts, rules, self.calendar, now),
                "timeline": [{"at": e.at.isoformat(), "event": e.event, "from": e.from_state,
                              "to": e.to_state, "data": e.data, "document_id": e.document_id}
                             for e in events],
                "documents": [_doc_view(d) for d in documents],
            }

    def list_cases(self, *, municipality: str | None = None) -> list[dict[str, str]]:
        with self.sessions() as s:
            q = sa.select(CaseRow).order_by(CaseRow.case_ref)
            if municipality is not None:
                q = q.where(CaseRow.municipality_number == municipality)
            return [{"case_ref": r.case_ref, "state": r.state, "municipality":
                     r.municipality_number, "region": r.region} for r in s.scalars(q)]

    def at_risk(self, municipality: str | None, *, now: datetime) -> list[dict[str, Any]]:
        """Open cases (of ``municipality``, or all) with a deadline due soon or missed, or
        advice to postpone: what the caseworker must act on today."""
        out = []
        for case in self.list_cases(municipality=municipality):
            if case["state"] in (CaseState.CLOSED.value, CaseState.WITHDRAWN.value):
                continue
            v = self.view(case["case_ref"], now=now)
            risky = [d for d in v["deadlines"] if d["status"] in ("due_soon", "missed")]
            if risky or v["postponement_advised"]:
                out.append({"case_ref": v["case_ref"], "state": v["state"],
                            "municipality": v["municipality"], "deadlines": risky,
                            "postponement_advised": v["postponement_advised"]})
        return out

    def alert(self, *, now: datetime) -> list[dict[str, Any]]:
        """Log one warning per deadline due soon or missed and per postponement advice, over
        every municipality (run it from a timer: ``medbro case alert``); returns the cases."""
        cases = self.at_risk(None, now=now)
        for case in cases:
            for d in case["deadlines"]:
                log.warning(f"case_deadline_{d['status']}", case_ref=case["case_ref"],
                            municipality=case["municipality"], deadline=d["name"], due=d["due"])
            for reason in case["postponement_advised"]:
                log.warning("case_postponement_advised", case_ref=case["case_ref"],
                            municipality=case["municipality"], reason=reason)
        return cases

    def policy(self, region: str) -> RegionPolicy:
        return self.policies.get(region, DEFAULT_POLICY)

    def agenda(self, municipality: str, meeting_on: date) -> list[str]:
        """The case refs on the team's agenda for that day, in order."""
        with self.sessions() as s:
            return list(s.scalars(sa.select(CaseRow.case_ref).join(
                MeetingRow, CaseRow.meeting_id == MeetingRow.id).where(
                MeetingRow.municipality_number == municipality,
                MeetingRow.meeting_on == meeting_on).order_by(CaseRow.agenda_position)))

    def _case(self, s: Session, case_ref: str, municipality: str | None = None, *,
              lock: bool = False) -> CaseRow:
        """The case row; ``lock`` serialises changes of one case (row lock on PostgreSQL,
        SQLite serialises writers itself)."""
        q = sa.select(CaseRow).where(CaseRow.case_ref == case_ref)
        if lock and s.bind is not None and s.bind.dialect.name == "postgresql":
            q = q.with_for_update()
        row = s.scalar(q)
        if row is None or (municipality is not None and row.municipality_number != municipality):
            raise CaseNotFound(f"no case {case_ref!r}")
        return row


def _allowed(state: str) -> list[CaseEvent]:

    return allowed_events(CaseState(state))


def _doc_view(d: DocumentRow) -> dict[str, Any]:
    return {"id": d.id, "kind": d.kind, "direction": d.direction, "recipient": d.recipient,
            "form_id": d.form_id, "route": d.route, "message_id": d.message_id,
            "send_error": d.send_error, "created_at": d.created_at.isoformat(),
            "sent_at": d.sent_at.isoformat() if d.sent_at else None}
