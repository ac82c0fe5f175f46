"""Hand-written example forms of one case (K-2026-0042), used across the form tests."""

from __future__ import annotations

from datetime import date, datetime

from gateway.forms import (
    Answer,
    Attachment,
    AttachmentKind,
    Citizen,
    ClinicalFunction,
    GeneralPractitioner,
    Lae261,
    Lae265,
    Lae271,
    Lae275,
    Municipality,
    Parties,
)

PARTIES = Parties(
    Municipality("101", "Københavns Kommune", "Åse Sørensen"),
    GeneralPractitioner("291714", "Lægehuset Vandværksvej"),
    ClinicalFunction("123456789012", "Klinisk Funktion Region Hovedstaden"),
)
CITIZEN = Citizen("1502824933", "Knut Odvar Mosebryggersen")

LAE261 = Lae261(
    form_id="K42-261-1", case_ref="K-2026-0042", issued_at=datetime(2026, 3, 2, 9, 30),
    citizen=CITIZEN, parties=PARTIES,
    background="Sygedagpenge siden august 2025.\nRessourceforløb overvejes.",
    situation="Borgeren har rygsmerter og angst.\n\nHar ikke arbejdet i 7 måneder.",
    questions=("Hvilke helbredsforhold begrænser arbejdsevnen?", "Er behandlingen afsluttet?"),
)
LAE265 = Lae265(
    form_id="K42-265-1", case_ref="K-2026-0042", issued_at=datetime(2026, 3, 20, 14, 5),
    citizen=CITIZEN, parties=PARTIES, in_reply_to="K42-261-1",
    consultation_date=date(2026, 3, 16),
    health_conditions="Kroniske lændesmerter (DM545).\nGeneraliseret angst.",
    treatment_and_prognosis="Fysioterapi afsluttet. Prognose: usikker.",
    functional_ability="Kan sidde 30 min. ad gangen; løft under 5 kg.",
    citizen_view="Ønsker at komme i arbejde på nedsat tid.",
    answers=(Answer(LAE261.questions[0], "Smerter og angst."),
             Answer(LAE261.questions[1], "Ja, for fysioterapiens vedkommende.")),
)
LAE271 = Lae271(
    form_id="K42-271-1", case_ref="K-2026-0042", issued_at=datetime(2026, 4, 1, 10, 0),
    citizen=CITIZEN, parties=PARTIES,
    background="Sagen er ikke tilstrækkeligt belyst (sundhedskoordinatorens notat).",
    coordinator_assessment="Psykiatrisk vurdering mangler.",
    questions=("Er angsten behandlet til ende?",),
    attachments=(Attachment(AttachmentKind.LAE265, "LÆ 265", "K42-265-1"),
                 Attachment(AttachmentKind.REHAB_PLAN, "Rehabiliteringsplan, forberedende del",
                            "K42-plan-1"),
                 Attachment(AttachmentKind.COORDINATOR_NOTE, "Screeningsnotat", "K42-note-1")),
)
LAE275 = Lae275(
    form_id="K42-275-1", case_ref="K-2026-0042", issued_at=datetime(2026, 4, 24, 11, 0),
    citizen=CITIZEN, parties=PARTIES, in_reply_to="K42-271-1",
    consultation_date=date(2026, 4, 20),
    health_conditions="Moderat angst, behandlingsbar.",
    treatment_and_prognosis="Kognitiv terapi anbefales; god prognose.",
    functional_ability="Arbejdsevne 15 timer/uge nu.",
    citizen_view="Enig i planen.",
    answers=(Answer(LAE271.questions[0], "Nej."),),
)
ALL = (LAE261, LAE265, LAE271, LAE275)
