"""The case service on real databases with a fake clock: the straight path and every loop."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime

import pytest

from gateway.caseflow.service import CaseNotFound
from gateway.caseflow.states import IllegalTransition
from gateway.forms import FormValidationError, from_letter

from .scenario import create, lae261, lae265, lae271, lae275, new_ref


def t(month: int, day: int, hour: int = 10) -> datetime:
    return datetime(2026, month, day, hour)


def deadline(view, name):
    return next(d for d in view["deadlines"] if d["name"] == name)


async def test_straight_path_from_lae261_to_the_recommendation_at_the_gp(service, outbox):
    ref = new_ref()
    create(service, ref, t(3, 2, 9))
    service.schedule_meeting(ref, date(2026, 4, 15), now=t(3, 2, 9))
    v = service.send_form(ref, lae261(ref, t(3, 2)), now=t(3, 2))
    assert v["state"] == "awaiting_lae265"
    assert deadline(v, "lae265_answer")["due"] == "2026-04-01"  # 30 days, no consultation yet
    assert deadline(v, "coordinator_receipt")["due"] == "2026-03-27"  # 10 workdays over Easter
    v = service.record_form(ref, lae265(ref, t(3, 20), date(2026, 3, 16)), now=t(3, 20))
    assert deadline(v, "lae265_answer") | {"status": "met"} == deadline(v, "lae265_answer")
    assert deadline(v, "lae265_answer")["due"] == "2026-03-30"  # 14 days after consultation
    v = service.send_to_coordinator(ref, now=t(3, 26))
    assert deadline(v, "coordinator_receipt")["status"] == "met"
    screening = deadline(v, "screening")
    assert screening["due"] == "2026-04-07"  # 5 workdays: 27, 30, 31 March, 1 and 7 April
    assert service.view(ref, now=t(3, 30))["deadlines"][2]["status"] == "pending"
    assert deadline(service.view(ref, now=t(3, 31)), "screening")["status"] == "due_soon"
    v = service.record_screening(ref, clarified=False, notes="Psykiatrisk vurdering mangler.",
                                 now=t(3, 31))
    assert v["state"] == "not_clarified"
    v = service.send_form(ref, lae271(ref, t(4, 1)), now=t(4, 1))
    v = service.record_summons(ref, date(2026, 4, 14), now=t(4, 8))
    assert deadline(v, "late_appointment_notice")["status"] == "not_applicable"  # 13 days
    assert v["postponement_advised"]  # the LÆ 275 cannot come before the meeting day
    v = service.record_form(ref, lae275(ref, t(4, 14, 9), date(2026, 4, 14)), now=t(4, 14, 9))
    assert v["state"] == "ready_for_team" and not v["postponement_advised"]
    v = service.send_documents(ref, now=t(4, 14, 11))
    assert v["state"] == "documents_sent"
    assert ref in service.agenda("101", date(2026, 4, 15))  # other tests share the day
    v = service.send_recommendation(ref, "Teamet indstiller til ressourceforløb i 2 år.",
                                    now=t(4, 16))
    v = service.close_case(ref, now=t(4, 17))
    assert v["state"] == "closed"
    assert [e["event"] for e in v["timeline"]] == [
        "case_created", "meeting_scheduled", "lae261_sent", "lae265_received",
        "sent_to_coordinator", "screened_not_clarified", "lae271_sent", "summons_received",
        "lae275_received", "documents_sent", "recommendation_sent", "case_closed"]

    ids = await service.dispatch(outbox, now=t(4, 17), case_ref=ref)
    assert len(ids) == 5
    sent = [(d.kind, letter.receiver.scheme, letter.type) for d, letter in outbox.sent]
    assert sent == [("lae261", "YNR", "DIS91"), ("case_to_coordinator", "SOR", "DIS91"),
                    ("lae271", "SOR", "DIS91"), ("lae275_copy", "YNR", "DIS91"),
                    ("recommendation", "YNR", "DIS91")]
    assert from_letter(outbox.sent[0][1]) == lae261(ref, t(3, 2))
    assert from_letter(outbox.sent[3][1]).form_id == f"{ref}-275-1"
    recommendation = outbox.sent[4][1]
    assert recommendation.receiver.id == "291714"
    assert "ressourceforløb" in recommendation.texts[1].text
    view = service.view(ref, now=t(4, 17))
    local = [(d["kind"], d["recipient"]) for d in view["documents"] if d["route"] == "local"]
    assert ("case_documents", "citizen") in local and ("recommendation", "citizen") in local
    assert all(d["message_id"] for d in view["documents"] if d["route"] == "pipeline")
    # nothing is sent twice
    assert await service.dispatch(outbox, now=t(4, 17), case_ref=ref) == []


async def test_insufficient_lae265_loops_back_to_a_new_lae261(service, outbox):
    ref = new_ref()
    create(service, ref, t(3, 2))
    service.send_form(ref, lae261(ref, t(3, 2)), now=t(3, 2))
    service.record_form(ref, lae265(ref, t(3, 10), date(2026, 3, 9)), now=t(3, 10))
    v = service.mark_lae265_insufficient(ref, "Spørgsmål 2 er ikke besvaret", now=t(3, 11))
    assert v["state"] == "lae265_insufficient"
    v = service.send_form(ref, lae261(ref, t(3, 12), n=2), now=t(3, 12))
    assert v["state"] == "awaiting_lae265"
    answer = deadline(v, "lae265_answer")
    assert answer["due"] == "2026-04-11" and answer["status"] == "pending"  # the clock restarted
    with pytest.raises(FormValidationError) as exc:  # an answer to no request of this case
        service.record_form(ref, lae265(ref, t(3, 20), date(2026, 3, 19), n=7), now=t(3, 20))
    assert exc.value.fields == ("lae265.in_reply_to",)
    v = service.record_form(ref, lae265(ref, t(3, 20), date(2026, 3, 19), n=2), now=t(3, 20))
    assert v["state"] == "lae265_received"
    await service.dispatch(outbox, now=t(3, 20), case_ref=ref)
    assert [d.kind for d, _ in outbox.sent] == ["lae261", "lae261"]


async def test_gp_who_does_not_answer_is_reminded_then_escalated(service, outbox):
    ref = new_ref()
    create(service, ref, t(3, 2))
    service.send_form(ref, lae261(ref, t(3, 2)), now=t(3, 2))
    assert service.at_risk("101", now=t(3, 20)) == [] or all(
        c["case_ref"] != ref for c in service.at_risk("101", now=t(3, 20)))
    risky = {c["case_ref"]: c for c in service.at_risk("101", now=t(3, 30))}
    assert risky[ref]["deadlines"][0]["status"] == "due_soon"  # due 1 April, warned 30 March
    v = service.remind_gp(ref, now=t(3, 30))
    assert v["state"] == "awaiting_lae265"
    risky = {c["case_ref"]: c for c in service.at_risk("101", now=t(4, 2))}
    assert risky[ref]["deadlines"][0]["status"] == "missed"
    v = service.escalate_gp(ref, "Ringet til praksis; ingen svar", now=t(4, 7))
    assert v["state"] == "gp_escalated"
    v = service.record_form(ref, lae265(ref, t(4, 8), date(2026, 4, 7)), now=t(4, 8))
    assert deadline(v, "lae265_answer")["status"] == "late"
    await service.dispatch(outbox, now=t(4, 8), case_ref=ref)
    assert [d.kind for d, _ in outbox.sent] == ["lae261", "reminder_gp"]
    assert "LÆ 265" in outbox.sent[1][1].texts[1].text


async def test_postponement_to_a_later_meeting(service):
    ref = new_ref()
    create(service, ref, t(3, 2))
    service.schedule_meeting(ref, date(2026, 4, 8), now=t(3, 2))
    service.send_form(ref, lae261(ref, t(3, 2)), now=t(3, 2))
    service.record_form(ref, lae265(ref, t(3, 20), date(2026, 3, 16)), now=t(3, 20))
    v = service.send_to_coordinator(ref, now=t(3, 30))
    # 30 March + 5 workdays = 9 April (31/3, 1/4, 7/4, 8/4, 9/4), after the 8 April meeting
    assert v["postponement_advised"] and "2026-04-09" in v["postponement_advised"][0]
    assert deadline(v, "coordinator_receipt")["status"] == "late"  # due 24 March
    with pytest.raises(Exception, match="later meeting"):
        service.postpone_meeting(ref, date(2026, 4, 1), "for tidligt", now=t(3, 30))
    v = service.postpone_meeting(ref, date(2026, 4, 29), "screeningsfristen kan ikke nås",
                                 now=t(3, 30))
    assert v["meeting"]["date"] == "2026-04-29" and not v["postponement_advised"]
    assert v["timeline"][-1]["data"]["previous"] == "2026-04-08"
    assert ref not in service.agenda("101", date(2026, 4, 8))
    assert ref in service.agenda("101", date(2026, 4, 29))
    v = service.record_screening(ref, clarified=True, notes="", now=t(4, 1))
    v = service.send_documents(ref, now=t(4, 20))
    v = service.postpone_meeting(ref, date(2026, 5, 13), "borger syg", now=t(4, 27))
    assert v["state"] == "ready_for_team"  # documents must go out again for the new meeting


async def test_late_appointment_notice_across_easter(service):
    told, untold = new_ref(), new_ref()
    for ref in (told, untold):
        create(service, ref, t(3, 2))
        service.send_form(ref, lae261(ref, t(3, 2)), now=t(3, 2))
        service.record_form(ref, lae265(ref, t(3, 20), date(2026, 3, 16)), now=t(3, 20))
        service.send_to_coordinator(ref, now=t(3, 23))
        service.record_screening(ref, clarified=False, notes="", now=t(3, 25))
        service.send_form(ref, lae271(ref, t(3, 31)), now=t(3, 31))
    v = service.record_late_notice(told, date(2026, 4, 16), now=t(4, 1))
    assert deadline(v, "late_appointment_notice")["status"] == "met"
    v = service.record_summons(told, date(2026, 4, 16), now=t(4, 7))
    assert deadline(v, "late_appointment_notice")["status"] == "met"
    v = service.record_summons(untold, date(2026, 4, 16), now=t(4, 7))  # 16 days after 31 March
    assert deadline(v, "late_appointment_notice")["status"] == "missed"
    assert deadline(v, "lae275_answer")["due"] == "2026-04-30"  # capped at 30 days
    assert untold in {c["case_ref"] for c in service.at_risk("101", now=t(4, 7))}


async def test_urgent_case_has_its_own_deadlines(service):
    ref = new_ref()
    create(service, ref, t(3, 2))
    service.schedule_meeting(ref, date(2026, 4, 10), now=t(3, 2))
    assert deadline(service.view(ref, now=t(3, 2)), "coordinator_receipt")["due"] == "2026-03-24"
    v = service.mark_urgent(ref, "Borger uden forsørgelse", now=t(3, 2))
    assert v["urgent"] is True
    # urgent: 5 workdays before Friday 10 April, over Easter: 9, 8, 7, 1 April, 31 March
    assert deadline(v, "coordinator_receipt")["due"] == "2026-03-31"
    v = service.send_form(ref, lae261(ref, t(3, 2)), now=t(3, 2))
    assert deadline(v, "lae265_answer")["due"] == "2026-03-16"  # urgent: 14 days


async def test_withdrawal_and_illegal_steps(service):
    ref = new_ref()
    create(service, ref, t(3, 2))
    with pytest.raises(IllegalTransition, match="'lae275_received'|'sent_to_coordinator'"):
        service.send_to_coordinator(ref, now=t(3, 2))
    service.send_form(ref, lae261(ref, t(3, 2)), now=t(3, 2))
    v = service.withdraw(ref, "Borger raskmeldt", now=t(3, 5))
    assert v["state"] == "withdrawn" and v["allowed_events"] == []
    with pytest.raises(IllegalTransition):
        service.remind_gp(ref, now=t(3, 6))


async def test_organisations_see_only_their_own_cases(service):
    ref = new_ref()
    create(service, ref, t(3, 2))
    assert service.view(ref, now=t(3, 2), municipality="101")["case_ref"] == ref
    with pytest.raises(CaseNotFound):
        service.view(ref, now=t(3, 2), municipality="851")
    assert all(c["municipality"] == "101" for c in service.list_cases(municipality="101"))
    assert service.list_cases(municipality="851") == []


async def test_forms_must_belong_to_the_case(service):
    ref = new_ref()
    create(service, ref, t(3, 2))
    other = lae261(new_ref(), t(3, 2))
    with pytest.raises(FormValidationError) as exc:
        service.send_form(ref, other, now=t(3, 2))
    assert exc.value.fields == ("lae261.case_ref",)


async def test_a_refused_document_is_kept_and_sent_again(service, outbox):
    from gateway.caseflow.outbox import OutboxError

    class Refusing:
        async def send(self, doc):
            raise OutboxError("receiver GLN unknown (CTL01 LOK)")

    ref = new_ref()
    create(service, ref, t(3, 2))
    service.send_form(ref, lae261(ref, t(3, 2)), now=t(3, 2))
    assert await service.dispatch(Refusing(), now=t(3, 2), case_ref=ref) == []
    doc = service.view(ref, now=t(3, 2))["documents"][0]
    assert doc["message_id"] is None and "CTL01 LOK" in doc["send_error"]
    ids = await service.dispatch(outbox, now=t(3, 3), case_ref=ref)
    doc = service.view(ref, now=t(3, 3))["documents"][0]
    assert doc["message_id"] == ids[0] and doc["send_error"] is None
    resent = outbox.sent[0][0]  # a new reference, so the Hub does not take it for the refused one
    assert resent.attempt == 1 and resent.ref != dataclasses.replace(resent, attempt=0).ref
    assert doc["sent_at"] == "2026-03-03T10:00:00"


async def test_journal_copies_go_to_the_municipality(service, outbox):
    service.journal = True
    try:
        ref = new_ref()
        create(service, ref, t(3, 2))
        service.send_form(ref, lae261(ref, t(3, 2)), now=t(3, 2))
        service.record_form(ref, lae265(ref, t(3, 10), date(2026, 3, 9)), now=t(3, 10))
        await service.dispatch(outbox, now=t(3, 10), case_ref=ref)
    finally:
        service.journal = False
    sent = [(d.kind, letter.receiver.scheme, letter.receiver.id) for d, letter in outbox.sent]
    assert sent == [("lae261", "YNR", "291714"), ("lae261", "KOM", "101"),
                    ("lae265", "KOM", "101")]
    assert from_letter(outbox.sent[2][1]) == lae265(ref, t(3, 10), date(2026, 3, 9))


async def test_alert_logs_each_deadline_before_it_is_missed(service):
    import structlog

    ref = new_ref()
    create(service, ref, t(3, 2))
    service.send_form(ref, lae261(ref, t(3, 2)), now=t(3, 2))
    with structlog.testing.capture_logs() as logs:
        service.alert(now=t(3, 27))  # LÆ 265 due 1 April: not yet in the warning window
    assert not [e for e in logs if e.get("case_ref") == ref]
    with structlog.testing.capture_logs() as logs:
        cases = service.alert(now=t(3, 30))
    mine = [e for e in logs if e.get("case_ref") == ref]
    assert [(e["event"], e["deadline"], e["due"]) for e in mine] == [
        ("case_deadline_due_soon", "lae265_answer", "2026-04-01")]
    assert "cpr" not in str(mine) and "1502824933" not in str(mine)
    assert ref in {c["case_ref"] for c in cases}
    with structlog.testing.capture_logs() as logs:
        service.alert(now=t(4, 2))
    assert [e["event"] for e in logs if e.get("case_ref") == ref] == ["case_deadline_missed"]
