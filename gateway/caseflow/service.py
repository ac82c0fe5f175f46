"""The case flow's operations: every change is one transition of the table in states.py,
recorded on the timeline with its documents in one transaction; documents leave afterwards.

Order is the guarantee (as in the pipeline's ingest): the transition, its event and every
outgoing document are committed together; ``dispatch`` then hands the unsent documents to the
``Outbox`` and records the pipeline's message id. A document the pipeline refused stays unsent
with its error and goes out on the next ``dispatch``; none is lost. All methods take ``now``
(naive local time); nothing here reads the clock.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from gateway.caseflow import documents as docs
from gateway.caseflow.deadlines import (
    Calendar,
    RegionPolicy,
    meeting_date_problem,
)
from gateway.caseflow.outbox import Outbox, OutboxError
from gateway.caseflow.queries import CaseNotFound, CaseQueries
from gateway.caseflow.states import CaseEvent, CaseState, next_state
from gateway.caseflow.tables import CaseEventRow, CaseRow, DocumentRow, MeetingRow
from gateway.errors import ConfigError, LocalUsageError
from gateway.forms import (
    Citizen,
    FieldError,
    Form,
    FormValidationError,
    Lae261,
    Lae265,
    Lae271,
    Lae275,
    Parties,
    to_xml,
    validate,
)
from gateway.forms import tree as form_tree
from gateway.logging import get_logger
from gateway.sla.calendar import DEFAULT_CALENDAR

log = get_logger(__name__)
E = CaseEvent


class CaseService(CaseQueries):
    """Operations on rehabilitation cases over a SQLAlchemy ``sessionmaker``."""

    def __init__(
        self,
        sessions: Callable[[], Session],
        *,
        calendar: Calendar = DEFAULT_CALENDAR,
        policies: Mapping[str, RegionPolicy] | None = None,
        coordinators: Mapping[str, tuple[str, str]] | None = None,
        journal: bool = False,
    ) -> None:
        self.sessions = sessions
        # journal: every document also goes to the municipality's own endpoint, whose channel
        # (the ESDH adapter) files it on the municipal case
        self.journal = journal
        self.calendar = calendar
        self.policies = dict(policies or {})
        # region -> (SOR code, name) of its health coordinator
        self.coordinators = dict(coordinators or {})

    # -- creating -------------------------------------------------------------------------------

    def create_case(self, case_ref: str, citizen: Citizen, parties: Parties, *, region: str,
                    now: datetime, urgent: bool = False) -> dict[str, Any]:
        probe = Lae261("probe", case_ref, now, citizen, parties, "x", "x")
        errors = [e for e in _check(probe) if not e.field.startswith("lae261.form_id")]
        if errors:
            raise FormValidationError([dataclasses.replace(
                e, field=e.field.replace("lae261.", "case.")) for e in errors])
        with self.sessions() as s, s.begin():
            if s.scalar(sa.select(CaseRow.id).where(CaseRow.case_ref == case_ref)):
                raise LocalUsageError(f"case {case_ref!r} exists already")
            row = CaseRow(
                case_ref=case_ref, municipality_number=parties.municipality.number,
                gp_ydernummer=parties.gp.ydernummer,
                clinical_function_sor=parties.clinical_function.sor
                if parties.clinical_function else None,
                region=region, cpr=citizen.cpr, citizen_name=citizen.name,
                parties=_to_json(form_tree.dump(parties)), state=CaseState.CREATED.value,
                urgent=urgent, created_at=now, updated_at=now)
            s.add(row)
            s.flush()
            s.add(CaseEventRow(case_id=row.id, at=now, event="case_created", from_state="",
                               to_state=row.state, data={"region": region, "urgent": urgent}))
        log.info("case_created", case_ref=case_ref, region=region)
        return self.view(case_ref, now=now)

    # -- step 1: LÆ 261 -> LÆ 265 ---------------------------------------------------------------

    def send_form(self, case_ref: str, form: Form, *, now: datetime) -> dict[str, Any]:
        """Send an LÆ 261 (to the GP) or LÆ 271 (to the clinical function)."""
        if isinstance(form, Lae261):
            event, role = E.LAE261_SENT, "gp"
        elif isinstance(form, Lae271):
            event, role = E.LAE271_SENT, "clinical_function"
        else:
            raise LocalUsageError(f"{form.form_type.label} is received, not sent; "
                                  "use record_form")
        with self.sessions() as s, s.begin():
            row = self._case(s, case_ref, lock=True)
            self._check_form_belongs(row, form)
            doc = self._document(s, row, kind=f"lae{form.form_type.value}", recipient=role,
                                 form=form, now=now)
            self._transition(s, row, event, now, {"form_id": form.form_id}, doc)
        return self.view(case_ref, now=now)

    def record_form(self, case_ref: str, form: Form, *, now: datetime) -> dict[str, Any]:
        """Record a received LÆ 265 (from the GP) or LÆ 275 (clinical function; copy to GP)."""
        if not isinstance(form, Lae265 | Lae275):
            raise LocalUsageError(f"{form.form_type.label} is sent, not received; use send_form")
        event = E.LAE265_RECEIVED if isinstance(form, Lae265) else E.LAE275_RECEIVED
        with self.sessions() as s, s.begin():
            row = self._case(s, case_ref, lock=True)
            self._check_form_belongs(row, form)
            request = "lae261_sent" if isinstance(form, Lae265) else "lae271_sent"
            sent = {e.data.get("form_id") for e in s.scalars(sa.select(CaseEventRow).where(
                CaseEventRow.case_id == row.id, CaseEventRow.event == request))}
            if form.in_reply_to not in sent:
                raise FormValidationError([FieldError(
                    f"lae{form.form_type.value}.in_reply_to",
                    f"{form.in_reply_to!r} is not a request sent in case {case_ref}")])
            doc = self._document(s, row, kind=f"lae{form.form_type.value}", recipient="",
                                 form=form, now=now, direction="in")
            data = {"form_id": form.form_id, "consultation_date":
                    form.consultation_date.isoformat()}
            self._transition(s, row, event, now, data, doc)
            if isinstance(form, Lae275):
                self._document(s, row, kind="lae275_copy", recipient="gp", form=form, now=now)
        return self.view(case_ref, now=now)

    def mark_lae265_insufficient(self, case_ref: str, reason: str, *,
                                 now: datetime) -> dict[str, Any]:
        return self._simple(case_ref, E.LAE265_INSUFFICIENT, now, {"reason": reason})

    def remind_gp(self, case_ref: str, *, now: datetime) -> dict[str, Any]:
        return self._reminder(case_ref, E.GP_REMINDED, "gp", now)

    def escalate_gp(self, case_ref: str, note: str, *, now: datetime) -> dict[str, Any]:
        return self._simple(case_ref, E.GP_ESCALATED, now, {"note": note})

    # -- step 2: coordinator, screening, clinical function ------------------------------------

    def send_to_coordinator(self, case_ref: str, *, now: datetime) -> dict[str, Any]:
        with self.sessions() as s, s.begin():
            row = self._case(s, case_ref, lock=True)
            if row.region not in self.coordinators:
                raise ConfigError(f"no health coordinator configured for region {row.region!r}")
            doc = self._document(s, row, kind="case_to_coordinator", recipient="coordinator",
                                 now=now, text=docs.coordinator_text(row, s))
            self._transition(s, row, E.SENT_TO_COORDINATOR, now, {}, doc)
        return self.view(case_ref, now=now)

    def record_screening(self, case_ref: str, *, clarified: bool, notes: str,
                         now: datetime) -> dict[str, Any]:
        event = E.SCREENED_CLARIFIED if clarified else E.SCREENED_NOT_CLARIFIED
        return self._simple(case_ref, event, now, {"clarified": clarified, "notes": notes})

    def record_late_notice(self, case_ref: str, appointment_on: date, *,
                           now: datetime) -> dict[str, Any]:
        return self._simple(case_ref, E.LATE_APPOINTMENT_NOTIFIED, now,
                            {"appointment_date": appointment_on.isoformat()})

    def record_summons(self, case_ref: str, appointment_on: date, *,
                       now: datetime) -> dict[str, Any]:
        return self._simple(case_ref, E.SUMMONS_RECEIVED, now,
                            {"appointment_date": appointment_on.isoformat()})

    def remind_clinic(self, case_ref: str, *, now: datetime) -> dict[str, Any]:
        return self._reminder(case_ref, E.CLINIC_REMINDED, "clinical_function", now)

    # -- meetings, step 3 and step 4 ----------------------------------------------------------

    def schedule_meeting(self, case_ref: str, meeting_on: date, *, now: datetime,
                         reason: str = "") -> dict[str, Any]:
        """Put the case on the team's agenda for ``meeting_on`` (moving it if it had one).

        A date before today or before the case was opened is refused (InvalidMeetingDate)."""
        with self.sessions() as s, s.begin():
            row = self._case(s, case_ref, lock=True)
            problem = meeting_date_problem(meeting_on, today=now.date(),
                                           opened_on=row.created_at.date())
            if problem is not None:
                raise InvalidMeetingDate(problem)
            event = E.MEETING_POSTPONED if row.meeting_id else E.MEETING_SCHEDULED
            old = s.get(MeetingRow, row.meeting_id) if row.meeting_id else None
            if old is not None and meeting_on <= old.meeting_on:
                raise LocalUsageError(f"a postponement must move the case to a later meeting "
                                      f"than {old.meeting_on.isoformat()}")
            meeting = s.scalar(sa.select(MeetingRow).where(
                MeetingRow.municipality_number == row.municipality_number,
                MeetingRow.meeting_on == meeting_on))
            if meeting is None:
                meeting = MeetingRow(municipality_number=row.municipality_number,
                                     meeting_on=meeting_on)
                s.add(meeting)
                s.flush()
            position = (s.scalar(sa.select(sa.func.max(CaseRow.agenda_position)).where(
                CaseRow.meeting_id == meeting.id)) or 0) + 1
            data = {"meeting_date": meeting_on.isoformat(), "agenda_position": position,
                    "previous": old.meeting_on.isoformat() if old else None, "reason": reason}
            self._transition(s, row, event, now, data, None)
            row.meeting_id, row.agenda_position = meeting.id, position
        return self.view(case_ref, now=now)

    def postpone_meeting(self, case_ref: str, meeting_on: date, reason: str, *,
                         now: datetime) -> dict[str, Any]:
        with self.sessions() as s:
            if self._case(s, case_ref).meeting_id is None:
                raise LocalUsageError(f"case {case_ref} has no meeting to postpone")
        return self.schedule_meeting(case_ref, meeting_on, now=now, reason=reason)

    def send_documents(self, case_ref: str, *, now: datetime) -> dict[str, Any]:
        """Step 3: the case documents to the team and the citizen, for the case's meeting."""
        with self.sessions() as s, s.begin():
            row = self._case(s, case_ref, lock=True)
            if row.meeting_id is None:
                raise LocalUsageError(f"case {case_ref} has no meeting: schedule one first")
            meeting = s.get(MeetingRow, row.meeting_id)
            assert meeting is not None
            text = docs.case_documents_text(row, s, meeting.meeting_on)
            doc = self._document(s, row, kind="case_documents", recipient="team", now=now,
                                 text=text)
            self._document(s, row, kind="case_documents", recipient="citizen", now=now,
                           text=text)
            self._transition(s, row, E.DOCUMENTS_SENT, now,
                             {"meeting_date": meeting.meeting_on.isoformat()}, doc)
        return self.view(case_ref, now=now)

    def send_recommendation(self, case_ref: str, text: str, *,
                            now: datetime) -> dict[str, Any]:
        """Step 4: the team's recommendation (indstilling) to the citizen and, as DIS91, the GP."""
        docs.check_letter_text(text, "recommendation.text")
        with self.sessions() as s, s.begin():
            row = self._case(s, case_ref, lock=True)
            doc = self._document(s, row, kind="recommendation", recipient="gp", now=now,
                                 text=text)
            self._document(s, row, kind="recommendation", recipient="citizen", now=now,
                           text=text)
            self._transition(s, row, E.RECOMMENDATION_SENT, now, {}, doc)
        return self.view(case_ref, now=now)

    def close_case(self, case_ref: str, *, now: datetime) -> dict[str, Any]:
        return self._simple(case_ref, E.CASE_CLOSED, now, {})

    def withdraw(self, case_ref: str, reason: str, *, now: datetime) -> dict[str, Any]:
        return self._simple(case_ref, E.WITHDRAWN, now, {"reason": reason})

    def mark_urgent(self, case_ref: str, reason: str, *, now: datetime) -> dict[str, Any]:
        with self.sessions() as s, s.begin():
            row = self._case(s, case_ref, lock=True)
            self._transition(s, row, E.MARKED_URGENT, now, {"reason": reason}, None)
            row.urgent = True
        return self.view(case_ref, now=now)

    # -- dispatch -------------------------------------------------------------------------------

    async def dispatch(self, outbox: Outbox, *, now: datetime,
                       case_ref: str | None = None) -> list[str]:
        """Hand every unsent pipeline document (of one case, or all) to ``outbox``; return the
        new message ids. Documents refused earlier are tried again."""
        with self.sessions() as s:
            q = (sa.select(DocumentRow).where(DocumentRow.route == "pipeline",
                                              DocumentRow.message_id.is_(None))
                 .order_by(DocumentRow.id))
            if case_ref is not None:
                q = q.where(DocumentRow.case_id == self._case(s, case_ref).id)
            pending = [docs.outgoing(s, d, self.coordinators) for d in s.scalars(q)]
        ids = []
        for doc in pending:
            try:
                message_id = await outbox.send(doc)
            except OutboxError as exc:
                self._mark(doc.document_id, None, str(exc), now)
                log.warning("case_document_refused", case_ref=doc.case_ref, kind=doc.kind,
                            error=str(exc))
                continue
            self._mark(doc.document_id, message_id, None, now)
            ids.append(message_id)
        return ids

    def _mark(self, document_id: int, message_id: str | None, error: str | None,
              now: datetime) -> None:
        with self.sessions() as s, s.begin():
            row = s.get(DocumentRow, document_id)
            assert row is not None
            row.message_id, row.send_error = message_id, error
            row.sent_at = now if message_id else None
            if error is not None:
                row.send_refusals += 1

    # -- internals ------------------------------------------------------------------------------

    def _transition(self, s: Session, row: CaseRow, event: CaseEvent, now: datetime,
                    data: dict[str, Any], doc: DocumentRow | None) -> None:
        before = CaseState(row.state)
        after = next_state(before, event)
        row.state, row.updated_at = after.value, now
        s.add(CaseEventRow(case_id=row.id, at=now, event=event.value, from_state=before.value,
                           to_state=after.value, data=data, document_id=doc.id if doc else None))
        log.info("case_transitioned", case_ref=row.case_ref, case_event=event.value,
                 from_state=before.value, to_state=after.value)

    def _simple(self, case_ref: str, event: CaseEvent, now: datetime,
                data: dict[str, Any]) -> dict[str, Any]:
        with self.sessions() as s, s.begin():
            self._transition(s, self._case(s, case_ref, lock=True), event, now, data, None)
        return self.view(case_ref, now=now)

    def _reminder(self, case_ref: str, event: CaseEvent, role: str,
                  now: datetime) -> dict[str, Any]:
        with self.sessions() as s, s.begin():
            row = self._case(s, case_ref, lock=True)
            doc = self._document(s, row, kind=f"reminder_{role}", recipient=role, now=now,
                                 text=docs.reminder_text(row, role))
            self._transition(s, row, event, now, {}, doc)
        return self.view(case_ref, now=now)

    def _check_form_belongs(self, row: CaseRow, form: Form) -> None:
        validate(form)
        root = f"lae{form.form_type.value}"
        errors = []
        if form.case_ref != row.case_ref:
            errors.append(FieldError(f"{root}.case_ref", f"is not {row.case_ref}"))
        if form.citizen.cpr != row.cpr:
            errors.append(FieldError(f"{root}.citizen.cpr", "is not the case's citizen"))
        if form.parties.municipality.number != row.municipality_number:
            errors.append(FieldError(f"{root}.parties.municipality.number",
                                     f"is not the case's municipality {row.municipality_number}"))
        if form.parties.gp.ydernummer != row.gp_ydernummer:
            errors.append(FieldError(f"{root}.parties.gp.ydernummer",
                                     f"is not the case's GP {row.gp_ydernummer}"))
        if errors:
            raise FormValidationError(errors)

    def _document(self, s: Session, row: CaseRow, *, kind: str, recipient: str, now: datetime,
                  form: Form | None = None, text: str = "", direction: str = "out") -> DocumentRow:
        if form is not None:
            content, content_type = to_xml(form), "application/xml"
        else:
            content, content_type = text.encode("utf-8"), "text/plain; charset=utf-8"
        local = direction == "in" or recipient in docs.LOCAL_RECIPIENTS
        doc = DocumentRow(case_id=row.id, kind=kind, direction=direction, recipient=recipient,
                          form_id=form.form_id if form else None, content_type=content_type,
                          content=content, route="local" if local else "pipeline",
                          created_at=now, send_refusals=0)
        s.add(doc)
        if self.journal:
            s.add(DocumentRow(case_id=row.id, kind=kind, direction=direction,
                              recipient="municipality", form_id=doc.form_id,
                              content_type=content_type, content=content, route="pipeline",
                              created_at=now, send_refusals=0))
        s.flush()
        return doc


class InvalidMeetingDate(LocalUsageError):
    """A meeting date the case cannot have (deadlines.meeting_date_problem): the API's 422."""


def _check(form: Form) -> list[FieldError]:
    from gateway.forms import check

    return check(form)


def _to_json(nodes: Any) -> Any:
    if isinstance(nodes, str):
        return nodes
    return [[name, _to_json(child)] for name, child in nodes]


__all__ = ["CaseNotFound", "CaseService"]
