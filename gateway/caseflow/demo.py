"""One rehabilitation case from LÆ 261 to the recommendation reaching the GP, for ``medbro demo``.

``demo_case(hub, now)`` runs the whole flow on the Hub's database with a simulated clock that
starts at ``now`` (the case's dates are spread over the following weeks, counted in workdays
of the SLA calendar) and hands every outgoing document to ``hub.ingest``. The demo's partner
registry must hold ``DEMO_ENDPOINTS`` (all accept DIS91) for the documents to be routed; a
document the pipeline refuses is shown as refused, never hidden. Returns the printed lines.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from gateway.caseflow.outbox import HubOutbox
from gateway.caseflow.service import CaseService
from gateway.db import create_engine, session_factory
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
from gateway.sla.calendar import DEFAULT_CALENDAR

MUNICIPALITY_GLN = "5790000101013"
GP_GLN = "5790000128686"  # the demo's Lægehuset Vandværksvej
COORDINATOR_GLN = "5790000187654"
CLINIC_GLN = "5790000123457"
DEMO_ADDRESS_BOOK = {
    ("KOM", "101"): MUNICIPALITY_GLN,
    ("YNR", "291714"): GP_GLN,
    ("SOR", "987654321098"): COORDINATOR_GLN,
    ("SOR", "123456789012"): CLINIC_GLN,
}
# Endpoints the demo registry needs (same shape as the partner TOML's [[endpoints]]); the GP's
# channel is the demo's choice, so it is left to the caller (add DIS91 to its accepts).
DEMO_ENDPOINTS = (
    {"gln": MUNICIPALITY_GLN, "name": "Københavns Kommune, Jobcenter", "kind": "municipality",
     "accepts": [{"type": "DIS91"}]},
    {"gln": COORDINATOR_GLN, "name": "Sundhedskoordinator Region H", "kind": "region",
     "accepts": [{"type": "DIS91"}]},
    {"gln": CLINIC_GLN, "name": "Klinisk Funktion Region H", "kind": "region",
     "accepts": [{"type": "DIS91"}]},
)
COORDINATORS = {"hovedstaden": ("987654321098", "Sundhedskoordinator Region H")}
PARTIES = Parties(
    Municipality("101", "Københavns Kommune", "Åse Sørensen"),
    GeneralPractitioner("291714", "Lægehuset Vandværksvej"),
    ClinicalFunction("123456789012", "Klinisk Funktion Region Hovedstaden"),
)
CITIZEN = Citizen("0101509991", "Søren Ærøboe")  # fictitious test person (9xxx serial)
COPENHAGEN = ZoneInfo("Europe/Copenhagen")


def _local(now: datetime) -> datetime:
    return now.astimezone(COPENHAGEN).replace(tzinfo=None) if now.tzinfo else now


async def demo_case(hub: Any, now: datetime, *, echo: Callable[[str], None] = print) -> list[str]:
    """Run one case through every step; print and return one line per step."""
    start = _local(now).replace(second=0, microsecond=0)
    engine = create_engine(hub.settings.database_url)
    try:
        return await _run(hub, engine, start, echo)
    finally:
        engine.dispose()


async def _run(hub: Any, engine: Any, start: datetime, echo: Callable[[str], None]) -> list[str]:
    service = CaseService(session_factory(engine), coordinators=COORDINATORS)
    outbox = HubOutbox(hub, DEMO_ADDRESS_BOOK)
    ref = f"REHAB-{uuid.uuid4().hex[:6].upper()}"
    cal = DEFAULT_CALENDAR

    def day(n: int, hour: int = 10) -> datetime:
        """The n-th workday after the start, at ``hour``."""
        return datetime.combine(cal.nth_workday_after(start.date(), n), time(hour))

    lines: list[str] = []

    async def step(title: str) -> None:
        await service.dispatch(outbox, now=view_time[0], case_ref=ref)
        view = service.view(ref, now=view_time[0])
        open_ = [f"{d['name']} {d['due']} {d['status']}" for d in view["deadlines"]
                 if d["status"] not in ("met", "not_applicable")]
        line = f"case {ref} {view_time[0]:%d.%m.%Y}: {title} -> {view['state']}"
        if open_:
            line += f" [{'; '.join(open_)}]"
        lines.append(line)
        echo(line)
        for doc in view["documents"]:
            if doc["id"] in shown:
                continue
            shown.add(doc["id"])
            if doc["route"] == "pipeline":
                where = (f"routed as DIS91, message {doc['message_id']}" if doc["message_id"]
                         else f"REFUSED by the pipeline: {doc['send_error']}")
            else:
                where = f"kept on the case ({doc['direction']})"
            detail = f"    {doc['kind']} -> {doc['recipient'] or 'municipality'}: {where}"
            lines.append(detail)
            echo(detail)

    shown: set[int] = set()
    view_time = [start]

    async def at(when: datetime, title: str, action: Callable[[], dict[str, Any]]) -> None:
        view_time[0] = when
        action()
        await step(title)

    meeting = cal.nth_workday_after(start.date(), 30)
    s = service
    await at(day(0, 9), "case created, meeting scheduled", lambda: (
        s.create_case(ref, CITIZEN, PARTIES, region="hovedstaden", now=day(0, 9)),
        s.schedule_meeting(ref, meeting, now=day(0, 9)))[1])
    await at(day(0), "LÆ 261 sent to the GP", lambda: s.send_form(ref, _lae261(ref, day(0)),
                                                                   now=day(0)))
    await at(day(8), "LÆ 265 received", lambda: s.record_form(
        ref, _lae265(ref, day(8), day(5).date()), now=day(8)))
    await at(day(9), "case sent to the health coordinator",
             lambda: s.send_to_coordinator(ref, now=day(9)))
    await at(day(11), "screening: not sufficiently clarified", lambda: s.record_screening(
        ref, clarified=False, notes="Psykiatrisk vurdering mangler.", now=day(11)))
    await at(day(12), "LÆ 271 sent to the clinical function",
             lambda: s.send_form(ref, _lae271(ref, day(12)), now=day(12)))
    appointment = day(18).date()
    await at(day(13), "summons received", lambda: s.record_summons(ref, appointment,
                                                                   now=day(13)))
    await at(day(20), "LÆ 275 received (copy to the GP)", lambda: s.record_form(
        ref, _lae275(ref, day(20), appointment), now=day(20)))
    await at(day(22), "case documents sent to the team and the citizen",
             lambda: s.send_documents(ref, now=day(22)))
    after = datetime.combine(meeting + timedelta(days=1), time(10))
    await at(after, "recommendation sent to the citizen and, as DIS91, the GP",
             lambda: s.send_recommendation(ref, "Rehabiliteringsteamet indstiller til et "
                                           "ressourceforløb på 2 år.", now=after))
    await at(after + timedelta(hours=1), "case closed", lambda: s.close_case(
        ref, now=after + timedelta(hours=1)))
    return lines


def _lae261(ref: str, at: datetime) -> Lae261:
    return Lae261(f"{ref}-261", ref, at, CITIZEN, PARTIES,
                  background="Sygedagpenge siden august. Ressourceforløb overvejes.",
                  situation="Rygsmerter og angst; har ikke arbejdet i 7 måneder.",
                  questions=("Hvilke helbredsforhold begrænser arbejdsevnen?",))


def _lae265(ref: str, at: datetime, consultation: date) -> Lae265:
    return Lae265(f"{ref}-265", ref, at, CITIZEN, PARTIES, in_reply_to=f"{ref}-261",
                  consultation_date=consultation,
                  health_conditions="Kroniske lændesmerter.\nGeneraliseret angst.",
                  treatment_and_prognosis="Fysioterapi afsluttet; prognose usikker.",
                  functional_ability="Kan sidde 30 minutter ad gangen.",
                  citizen_view="Ønsker arbejde på nedsat tid.",
                  answers=(Answer("Hvilke helbredsforhold begrænser arbejdsevnen?",
                                  "Smerter og angst."),))


def _lae271(ref: str, at: datetime) -> Lae271:
    return Lae271(f"{ref}-271", ref, at, CITIZEN, PARTIES,
                  background="Sundhedskoordinatoren: sagen er ikke tilstrækkeligt belyst.",
                  coordinator_assessment="Psykiatrisk vurdering mangler.",
                  questions=("Er angsten behandlet til ende?",),
                  attachments=(Attachment(AttachmentKind.LAE265, "LÆ 265", f"{ref}-265"),
                               Attachment(AttachmentKind.REHAB_PLAN, "Rehabiliteringsplan",
                                          f"{ref}-plan")))


def _lae275(ref: str, at: datetime, consultation: date) -> Lae275:
    return Lae275(f"{ref}-275", ref, at, CITIZEN, PARTIES, in_reply_to=f"{ref}-271",
                  consultation_date=consultation,
                  health_conditions="Moderat angst, behandlingsbar.",
                  treatment_and_prognosis="Kognitiv terapi; god prognose.",
                  functional_ability="Arbejdsevne 15 timer om ugen.",
                  citizen_view="Enig.",
                  answers=(Answer("Er angsten behandlet til ende?", "Nej."),))
