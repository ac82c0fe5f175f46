"""The documents of the flow that are not LÆ forms, and who receives what over which route.

Routes: the GP, the health coordinator and the clinical function are reached through the
pipeline (DIS91 via the Hub; the registry picks EDI mailbox or HTTP). The rehabilitation team
is the municipality's own and the citizen gets digital post, for which medbro has no channel
yet: those documents are kept on the case (route ``local``). With journalisation on, every
document also goes to the municipality's own endpoint (recipient ``municipality``), where the
ESDH channel files it on the municipal case.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from gateway.caseflow.outbox import OutgoingDocument
from gateway.caseflow.tables import CaseEventRow, CaseRow, DocumentRow
from gateway.errors import ConfigError
from gateway.forms import FieldError, FormValidationError, Parties
from gateway.forms import tree as form_tree
from gateway.forms.validation import text_problem
from gateway.model import Party, Patient

LOCAL_RECIPIENTS = frozenset({"team", "citizen"})


def check_letter_text(text: str, field: str) -> None:
    """Text for a DIS91 letter: ISO-8859-1, no control characters, and no line that MedCom's
    FTX rules would change (a line that is "." or ends in a backslash)."""
    problem = text_problem(text)
    if problem is None and not text.strip():
        problem = "must not be blank"
    for no, line in enumerate(text.split("\n"), start=1):
        if problem is None and (line == "." or line.endswith("\\")):
            problem = f"line {no} is '.' or ends in a backslash (FTX would change it)"
    if problem:
        raise FormValidationError([FieldError(field, problem)])


def parties(case: CaseRow) -> Parties:
    nodes = _from_json(case.parties)
    return form_tree.load(Parties, nodes, "case.parties")


def _from_json(value: Any) -> Any:
    if isinstance(value, str):
        return value
    return [(name, _from_json(child)) for name, child in value]


def _forms_sent(s: Session, case: CaseRow) -> list[str]:
    rows = s.scalars(sa.select(DocumentRow).where(DocumentRow.case_id == case.id,
                                                  DocumentRow.form_id.is_not(None))
                     .order_by(DocumentRow.id))
    return [f"- {d.kind.upper()} {d.form_id} ({d.created_at:%d.%m.%Y})" for d in rows]


def coordinator_text(case: CaseRow, s: Session) -> str:
    lines = [f"Sag {case.case_ref} sendes til screening hos sundhedskoordinatoren.",
             "Sagens dokumenter:", *_forms_sent(s, case)]
    return "\n".join(lines)


def case_documents_text(case: CaseRow, s: Session, meeting_on: date) -> str:
    notes = [e.data.get("notes", "") for e in s.scalars(sa.select(CaseEventRow).where(
        CaseEventRow.case_id == case.id, CaseEventRow.event.like("screened_%")))]
    lines = [f"Sag {case.case_ref} behandles på rehabiliteringsteamets møde "
             f"{meeting_on:%d.%m.%Y}, punkt {case.agenda_position}.",
             "Sagens dokumenter:", *_forms_sent(s, case)]
    lines += [f"Sundhedskoordinatorens notat: {n}" for n in notes if n]
    return "\n".join(lines)


def reminder_text(case: CaseRow, role: str) -> str:
    what = "LÆ 265" if role == "gp" else "LÆ 275"
    return (f"Påmindelse: kommunen afventer {what} i sag {case.case_ref}.\n"
            "Svarfristen er 14 dage efter konsultationen og senest 30 dage efter anmodningen.")


def _party(role: str, case: CaseRow, coordinators: dict[str, tuple[str, str]]) -> Party:
    p = parties(case)
    if role == "gp":
        return Party("PO", p.gp.ydernummer, "YNR", "SFU", (p.gp.name[:35],))
    if role == "clinical_function":
        if p.clinical_function is None:
            raise ConfigError(f"case {case.case_ref} has no clinical function")
        return Party("PO", p.clinical_function.sor, "SOR", "SST",
                     (p.clinical_function.name[:35],))
    if role == "municipality":  # the journal copy, for the ESDH channel
        return Party("PO", p.municipality.number, "KOM", "IM", (p.municipality.name[:35],))
    if role == "coordinator":
        if case.region not in coordinators:
            raise ConfigError(f"no health coordinator configured for region {case.region!r}")
        sor, name = coordinators[case.region]
        return Party("PO", sor, "SOR", "SST", (name[:35],))
    raise ConfigError(f"no pipeline route for recipient {role!r}")


def outgoing(s: Session, doc: DocumentRow,
             coordinators: dict[str, tuple[str, str]]) -> OutgoingDocument:
    """The port's view of a stored outgoing document."""
    case = s.get(CaseRow, doc.case_id)
    assert case is not None
    p = parties(case)
    municipality = Party("SSP", p.municipality.number, "KOM", "IM", (p.municipality.name[:35],))
    is_form = doc.content_type == "application/xml"
    subjects = {"case_to_coordinator": "Sag til screening",
                "recommendation": "Rehabiliteringsteamets indstilling",
                "reminder_gp": "Påmindelse om LÆ 265",
                "reminder_clinical_function": "Påmindelse om LÆ 275"}
    return OutgoingDocument(
        document_id=doc.id, case_ref=case.case_ref, kind=doc.kind, sender=municipality,
        receiver=_party(doc.recipient, case, coordinators),
        patient=Patient(cpr=case.cpr, surname=" ".join(case.citizen_name.split())[:35]),
        created_at=doc.created_at, form_xml=doc.content if is_form else None,
        subject=f"{subjects.get(doc.kind, doc.kind)}, sag {case.case_ref}",
        text="" if is_form else doc.content.decode("utf-8"), attempt=doc.send_refusals)
