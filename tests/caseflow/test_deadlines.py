"""Deadlines across Easter 2026 (Maundy Thursday 2 April, Good Friday 3 April, Easter Monday
6 April), Ascension (14 May) and Whit Monday (25 May), with a fake ``now``."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from gateway.caseflow.deadlines import (
    DEFAULT_POLICY,
    WITHIN_LEAD_POLICY,
    CaseFacts,
    DeadlineStatus,
    coordinator_deadline,
    evaluate,
    meeting_date_problem,
    notice_required,
    recommend_postponement,
    screening_deadline,
    workdays_before,
)
from gateway.sla.calendar import WorkdayCalendar

CAL = WorkdayCalendar()
RULES = DEFAULT_POLICY.normal


def at(d: date, hour: int = 12) -> datetime:
    return datetime(d.year, d.month, d.day, hour)


def by_name(deadlines):
    return {d.name: d for d in deadlines}


@pytest.mark.parametrize(
    ("meeting", "latest"),
    [
        (date(2026, 4, 15), date(2026, 3, 27)),  # 10 workdays back over Easter (3 days closed)
        (date(2026, 3, 25), date(2026, 3, 11)),  # an ordinary fortnight
        (date(2026, 5, 27), date(2026, 5, 11)),  # back over Whit Monday and Ascension
    ],
)
def test_coordinator_receives_the_case_10_workdays_before_the_meeting(meeting, latest) -> None:
    assert coordinator_deadline(meeting, RULES, CAL) == latest


@pytest.mark.parametrize(
    ("received", "due"),
    [
        (date(2026, 3, 30), date(2026, 4, 9)),  # Mon before Easter: 31/3, 1/4, 7/4, 8/4, 9/4
        (date(2026, 4, 1), date(2026, 4, 13)),  # Wed before Easter: 7, 8, 9, 10, 13 April
        (date(2026, 5, 11), date(2026, 5, 19)),  # Ascension on Thursday 14 May
        (date(2026, 3, 9), date(2026, 3, 16)),  # no holiday: Mon -> next Mon
    ],
)
def test_screening_within_5_workdays_of_receipt(received, due) -> None:
    assert screening_deadline(received, None, RULES, CAL) == due


def test_region_with_screening_any_time_within_the_lead_time() -> None:
    rules = WITHIN_LEAD_POLICY.normal
    assert screening_deadline(date(2026, 3, 27), date(2026, 4, 15), rules, CAL) == date(2026, 4, 14)
    assert screening_deadline(date(2026, 3, 27), date(2026, 4, 7), rules, CAL) == date(2026, 4, 1)
    assert screening_deadline(date(2026, 3, 27), None, rules, CAL) is None


def test_workdays_before_skips_holidays() -> None:
    assert workdays_before(CAL, date(2026, 4, 7), 1) == date(2026, 4, 1)


@pytest.mark.parametrize(
    ("received", "appointment", "required"),
    [
        (date(2026, 3, 31), date(2026, 4, 14), False),  # exactly 14 days (Easter in between)
        (date(2026, 3, 31), date(2026, 4, 15), True),  # 15 days
        (date(2026, 5, 13), date(2026, 5, 27), False),  # over Ascension and Whit Monday: 14
        (date(2026, 5, 13), date(2026, 5, 28), True),
    ],
)
def test_14_day_notice_counts_calendar_days(received, appointment, required) -> None:
    assert notice_required(received, appointment, RULES) is required


def test_statuses_move_from_pending_to_due_soon_to_missed() -> None:
    facts = CaseFacts(meeting_date=date(2026, 4, 15))
    # due Fri 27 March; warning window starts 2 workdays earlier: Wed 25 March
    assert by_name(evaluate(facts, RULES, CAL, at(date(2026, 3, 24))))[
        "coordinator_receipt"].status is DeadlineStatus.PENDING
    assert by_name(evaluate(facts, RULES, CAL, at(date(2026, 3, 25))))[
        "coordinator_receipt"].status is DeadlineStatus.DUE_SOON
    assert by_name(evaluate(facts, RULES, CAL, at(date(2026, 3, 27), 23)))[
        "coordinator_receipt"].status is DeadlineStatus.DUE_SOON
    assert by_name(evaluate(facts, RULES, CAL, at(date(2026, 3, 28))))[
        "coordinator_receipt"].status is DeadlineStatus.MISSED
    done = CaseFacts(meeting_date=date(2026, 4, 15), sent_to_coordinator_on=date(2026, 3, 30))
    d = by_name(evaluate(done, RULES, CAL, at(date(2026, 4, 1))))
    assert d["coordinator_receipt"].status is DeadlineStatus.LATE
    assert d["screening"].due == date(2026, 4, 9)
    assert d["screening"].status is DeadlineStatus.PENDING
    assert by_name(evaluate(done, RULES, CAL, at(date(2026, 4, 7))))[
        "screening"].status is DeadlineStatus.DUE_SOON  # 2 workdays before 9 April: 7 April


def test_late_appointment_notice_met_missed_and_pending() -> None:
    base = CaseFacts(lae271_sent_on=date(2026, 3, 31))
    now = at(date(2026, 4, 8))
    assert by_name(evaluate(base, RULES, CAL, now))[
        "late_appointment_notice"].status is DeadlineStatus.NOT_APPLICABLE
    far = CaseFacts(lae271_sent_on=date(2026, 3, 31), appointment_on=date(2026, 4, 20))
    assert by_name(evaluate(far, RULES, CAL, now))[
        "late_appointment_notice"].status is DeadlineStatus.DUE_SOON
    told = CaseFacts(lae271_sent_on=date(2026, 3, 31), appointment_on=date(2026, 4, 20),
                     late_notice_on=date(2026, 4, 1), summons_received_on=date(2026, 4, 2))
    assert by_name(evaluate(told, RULES, CAL, now))[
        "late_appointment_notice"].status is DeadlineStatus.MET
    not_told = CaseFacts(lae271_sent_on=date(2026, 3, 31), appointment_on=date(2026, 4, 20),
                         summons_received_on=date(2026, 4, 2))
    assert by_name(evaluate(not_told, RULES, CAL, now))[
        "late_appointment_notice"].status is DeadlineStatus.MISSED
    near = CaseFacts(lae271_sent_on=date(2026, 3, 31), appointment_on=date(2026, 4, 14),
                     summons_received_on=date(2026, 4, 2))
    assert by_name(evaluate(near, RULES, CAL, now))[
        "late_appointment_notice"].status is DeadlineStatus.NOT_APPLICABLE


def test_certificate_deadlines() -> None:
    facts = CaseFacts(lae261_sent_on=date(2026, 3, 2), lae265_consultation_on=date(2026, 3, 5))
    d = by_name(evaluate(facts, RULES, CAL, at(date(2026, 3, 18))))["lae265_answer"]
    assert d.due == date(2026, 3, 19) and d.status is DeadlineStatus.DUE_SOON
    urgent = DEFAULT_POLICY.rules(urgent=True)
    d = by_name(evaluate(facts, urgent, CAL, at(date(2026, 3, 13))))["lae265_answer"]
    assert d.due == date(2026, 3, 12) and d.status is DeadlineStatus.MISSED


def test_postponement_recommended_when_screening_cannot_be_met() -> None:
    meeting = date(2026, 4, 8)
    # received 30 March: screening due 9 April, after the meeting on 8 April -> postpone
    facts = CaseFacts(meeting_date=meeting, sent_to_coordinator_on=date(2026, 3, 30))
    reasons = recommend_postponement(facts, RULES, CAL, at(date(2026, 3, 30)))
    assert reasons and "2026-04-09" in reasons[0]
    # same dates in the "within the 10 days" region: due 7 April, before the meeting
    assert recommend_postponement(facts, WITHIN_LEAD_POLICY.normal, CAL,
                                  at(date(2026, 3, 30))) == []
    # a later meeting gives the coordinator time: no recommendation
    ok = CaseFacts(meeting_date=date(2026, 4, 22), sent_to_coordinator_on=date(2026, 3, 30))
    assert recommend_postponement(ok, RULES, CAL, at(date(2026, 3, 30))) == []
    # screened clarified: nothing to postpone
    done = CaseFacts(meeting_date=meeting, sent_to_coordinator_on=date(2026, 3, 30),
                     screened_on=date(2026, 3, 31), clarified=True)
    assert recommend_postponement(done, RULES, CAL, at(date(2026, 3, 31))) == []


def test_postponement_recommended_when_the_clinical_answer_comes_too_late() -> None:
    facts = CaseFacts(meeting_date=date(2026, 4, 22), sent_to_coordinator_on=date(2026, 3, 30),
                      screened_on=date(2026, 3, 31), clarified=False,
                      lae271_sent_on=date(2026, 4, 1), appointment_on=date(2026, 4, 24))
    assert recommend_postponement(facts, RULES, CAL, at(date(2026, 4, 2)))
    sooner = CaseFacts(**{**facts.__dict__, "appointment_on": date(2026, 4, 9)})
    assert recommend_postponement(sooner, RULES, CAL, at(date(2026, 4, 2))) == []


@pytest.mark.parametrize(
    ("meeting", "opened", "problem"),
    [
        (date(2026, 4, 15), date(2026, 3, 2), None),
        (date(2026, 3, 4), date(2026, 3, 2), None),  # today is allowed
        (date(2026, 3, 3), date(2026, 3, 2), "meeting date 2026-03-03 is in the past "
                                            "(today is 2026-03-04)"),
        (date(2000, 1, 5), date(2026, 3, 2), "meeting date 2000-01-05 is before the case was "
                                            "opened (2026-03-02)"),
        # a case opened on a clock ahead of today: its own date still bounds the meeting
        (date(2026, 3, 5), date(2026, 3, 6), "meeting date 2026-03-05 is before the case was "
                                            "opened (2026-03-06)"),
    ],
)
def test_meeting_date_rule(meeting: date, opened: date, problem: str | None) -> None:
    assert meeting_date_problem(meeting, today=date(2026, 3, 4), opened_on=opened) == problem
