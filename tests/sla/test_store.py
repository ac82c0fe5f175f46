"""The SLA store: hooks, matching, corrections, import, the SQL report, worklist, escalation."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

from gateway import metrics
from gateway.model import Letter, LetterStatus, Party, Patient
from gateway.sla import alerts, hooks
from gateway.sla.calendar import WorkdayCalendar
from gateway.sla.config import SlaConfig
from gateway.sla.deadlines import COPENHAGEN
from gateway.sla.events_file import read_events
from gateway.sla.importer import import_file
from gateway.sla.report import aggregate
from gateway.sla.state import Clock
from gateway.sla.store_report import store_report
from gateway.sla.tables import Discharge, SlaLetter, SlaTask
from gateway.sla.worklist import worklist

# The dates here are historical (2025): a century-wide plausibility window keeps them in the
# figures whatever year the tests run in; the plausibility tests below narrow it.
CONFIG = SlaConfig(calendar=WorkdayCalendar(), plausible_days=36500)
CPR = "0108584947"
DEPT = "1301011"


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=COPENHAGEN)  # type: ignore[misc]


def epikrise(
    letter_type: str = "DIS01",
    *,
    letter_id: str = "E1",
    status: LetterStatus = LetterStatus.NEW,
    discharged_at: datetime | None = datetime(2025, 4, 16, 14, 0),
    cpr: str = CPR,
    department: str = DEPT,
) -> Letter:
    return Letter(
        type=letter_type,
        version="D0133L",
        ref="1",
        letter_id=letter_id,
        status=status,
        sender=Party(role="SSP", id=department, scheme="SKS"),
        receiver=Party(role="PO", id="123456", scheme="YNR"),
        patient=Patient(cpr=cpr),
        discharged_at=discharged_at,
    )


def report_discharge(session, discharge_id="D1", at=datetime(2025, 4, 16, 13, 0), cpr=CPR):
    return hooks.discharge_reported(
        session,
        hospital="1301",
        department=DEPT,
        patient_cpr=cpr,
        discharge_id=discharge_id,
        discharged_at=at,
        config=CONFIG,
        reported_at=at,
    )


def count(session, table) -> int:
    return session.scalar(select(func.count()).select_from(table))


def test_letter_matches_reported_discharge_and_delivery_stops_the_clock(
    sessions: sessionmaker,
) -> None:
    with sessions() as s, s.begin():
        report_discharge(s)
        hooks.letter_received(
            s, message_id="m1", letter=epikrise(), at=local(2025, 4, 22, 9), config=CONFIG
        )
        hooks.letter_delivered(s, message_id="m1", at=local(2025, 4, 22, 10))
        hooks.letter_acknowledged(s, message_id="m1", at=local(2025, 4, 22, 10, 5))
    with sessions() as s:
        (row,) = s.scalars(select(Discharge)).all()
        assert row.source == "api" and row.letters == 1
        # Wednesday before Easter: workday 1 is Tuesday 22 April, 23:59:59.999999 CEST
        assert row.deadline_1 == datetime(2025, 4, 22, 21, 59, 59, 999999)
        assert row.at_risk_at == datetime(2025, 4, 22, 10, 0)  # 12:00 CEST
        assert row.letter_sent_at == datetime(2025, 4, 22, 8, 0)
        assert row.letter_acknowledged_at == datetime(2025, 4, 22, 8, 5)
        report = store_report(s, ("hospital",))
        assert report.total.within_1_workday == 1


def test_correction_does_not_reset_the_clock_first_delivery_counts(sessions) -> None:
    with sessions() as s, s.begin():
        report_discharge(s)
        hooks.letter_received(s, message_id="m1", letter=epikrise(), at=local(2025, 4, 23, 9))
        hooks.letter_delivered(s, message_id="m1", at=local(2025, 4, 23, 9, 1))
        corrected = epikrise(status=LetterStatus.CORRECTED, discharged_at=None)
        hooks.letter_received(s, message_id="m2", letter=corrected, at=local(2025, 5, 20, 9))
        hooks.letter_delivered(s, message_id="m2", at=local(2025, 5, 20, 9, 1))
    with sessions() as s:
        (row,) = s.scalars(select(Discharge)).all()
        assert (row.letters, row.corrections) == (2, 1)
        assert row.letter_sent_at == datetime(2025, 4, 23, 7, 1)
        assert row.letter_message_id == "m1"
        figures = store_report(s, ()).total
        assert (figures.within_3_workdays, figures.within_1_workday) == (1, 0)
        late = s.scalars(select(SlaTask.kind)).all()
        assert late == ["breached_1"]  # counted once, at the first (late for 1) delivery


def test_letter_without_discharge_event_starts_its_own_clock_from_dtm91(sessions) -> None:
    with sessions() as s, s.begin():
        hooks.letter_received(s, message_id="m1", letter=epikrise(), at=local(2025, 4, 16, 15))
        # the discharge report arrives later: it takes the letter's row over
        report_discharge(s, at=datetime(2025, 4, 16, 13, 30))
    with sessions() as s:
        (row,) = s.scalars(select(Discharge)).all()
        assert (row.source, row.discharge_id, row.letters) == ("api", "D1", 1)
        assert row.discharged_at == datetime(2025, 4, 16, 11, 30)
        assert s.get(SlaLetter, "m1").discharge_pk == row.id


def test_other_patient_or_department_or_window_does_not_match(sessions) -> None:
    with sessions() as s, s.begin():
        report_discharge(s)
        hooks.letter_received(
            s, message_id="a", letter=epikrise(cpr="0202020202"), at=local(2025, 4, 16, 15)
        )
        hooks.letter_received(
            s, message_id="b", letter=epikrise(department="1301012"), at=local(2025, 4, 16, 15)
        )
        far = epikrise(discharged_at=datetime(2025, 4, 18, 14, 0), letter_id="E9")
        hooks.letter_received(s, message_id="c", letter=far, at=local(2025, 4, 19, 15))
        assert count(s, Discharge) == 4
        assert s.scalars(select(Discharge.source).order_by(Discharge.id)).all() == [
            "api",
            "letter",
            "letter",
            "letter",
        ]


def test_non_epikriser_are_ignored_and_dis17_is_a_discharge(sessions) -> None:
    with sessions() as s, s.begin():
        hooks.letter_received(s, message_id="x", letter=epikrise("DIS91"), at=local(2025, 4, 16))
        hooks.letter_delivered(s, message_id="x", at=local(2025, 4, 16, 1))
        assert count(s, Discharge) == 0 and count(s, SlaLetter) == 0
        hooks.letter_received(s, message_id="adv", letter=epikrise("DIS17"), at=local(2025, 4, 16))
        (row,) = s.scalars(select(Discharge)).all()
        assert (row.source, row.hospital) == ("dis17", "1301")
        # the API report of the same discharge takes the DIS17 row over
        report_discharge(s, at=datetime(2025, 4, 16, 14, 5))
        assert s.scalars(select(Discharge.source)).all() == ["api"]
        # a later DIS17 only confirms it
        hooks.letter_received(
            s, message_id="adv2", letter=epikrise("DIS17"), at=local(2025, 4, 16, 15)
        )
        assert count(s, Discharge) == 1


def test_reporting_twice_is_idempotent(sessions) -> None:
    with sessions() as s, s.begin():
        report_discharge(s)
        report_discharge(s, at=datetime(2025, 4, 16, 13, 45))
        (row,) = s.scalars(select(Discharge)).all()
        assert row.discharged_at == datetime(2025, 4, 16, 11, 45)


EVENTS = (
    "hospital,department,discharge_id,discharged_at,letter_sent_at\n"
    "Herlev,1301011,a1,2025-04-16T14:00,2025-04-22T23:30\n"
    "Herlev,1301011,a2,2025-04-16T14:00,2025-04-23T08:00\n"
    "Herlev,1301012,a3,2025-04-19T10:00,\n"
    "Hvidovre,1330011,b1,2025-05-02T09:00,2025-05-02T12:00\n"
    "Hvidovre,1330011,b2,2025-10-24T23:30,2025-10-27T23:30\n"
)


def test_import_is_idempotent_and_store_report_equals_file_report(sessions, tmp_path: Path):
    path = tmp_path / "herlev.csv"
    path.write_text(EVENTS)
    first = import_file(sessions, path, CONFIG, progress=False)
    assert (first.rows, first.inserted, first.updated, first.unchanged) == (5, 5, 0, 0)
    again = import_file(sessions, path, CONFIG, progress=False)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 5)
    path.write_text(EVENTS.replace("2025-04-19T10:00,", "2025-04-19T10:00,2025-04-21T09:00"))
    fixed = import_file(sessions, path, CONFIG, progress=False)
    assert (fixed.inserted, fixed.updated, fixed.unchanged) == (0, 1, 4)

    expected = aggregate(read_events(io.StringIO(path.read_text())), CONFIG.calendar)
    with sessions() as s:
        assert count(s, Discharge) == 5
        assert store_report(s).as_dict() == expected.as_dict()
        by_month = store_report(s, ("month",), start=datetime(2025, 5, 1).date())
        assert [k for k in by_month.groups] == [("2025-05",), ("2025-10",)]
        assert store_report(s, (), basis="acknowledged").total.with_letter == 0


def test_worklist_sorted_by_deadline_with_time_left(sessions) -> None:
    with sessions() as s, s.begin():
        report_discharge(s, "late", at=datetime(2025, 4, 10, 10, 0))  # Thu: 3 wd = Tue 15
        report_discharge(s, "easter", at=datetime(2025, 4, 16, 13, 0), cpr="0202020202")
        report_discharge(s, "done", at=datetime(2025, 4, 16, 9, 0), cpr="0303030303")
        hooks.letter_received(
            s, message_id="m", letter=epikrise(cpr="0303030303"), at=local(2025, 4, 16, 10)
        )
        hooks.letter_delivered(s, message_id="m", at=local(2025, 4, 16, 10, 1))
    now = local(2025, 4, 22, 13, 0)
    with sessions() as s:
        items = worklist(s, now, CONFIG)
    assert [i.discharge_id for i in items] == ["late", "easter"]
    late, easter = items
    assert (late.target, late.status) == (3, Clock.BREACHED)  # Tue 15 April 23:59 passed
    assert (easter.target, easter.status) == (1, Clock.AT_RISK)
    assert easter.time_left.total_seconds() == pytest.approx(11 * 3600, abs=1)
    assert easter.patient == "020202-****"


def test_sweep_escalates_once_and_delivery_resolves(sessions) -> None:
    seen: list[alerts.Escalation] = []
    with sessions() as s, s.begin():
        report_discharge(s)  # Wed 16 April 2025, due Tue 22 April
    before = metrics.REGISTRY.get_sample_value(
        "medbro_sla_escalations_total", {"kind": "at_risk", "target": "1"}
    )
    for now, kinds in [
        (local(2025, 4, 22, 11, 59), []),
        (local(2025, 4, 22, 12, 0), ["at_risk_1"]),
        (local(2025, 4, 22, 15, 0), []),
        (local(2025, 4, 23, 0, 0), ["breached_1"]),
    ]:
        with sessions() as s, s.begin():
            new = alerts.sweep(s, now, CONFIG, sink=seen.append)
        assert [e.task_kind for e in new] == kinds, now
    assert seen[0].deadline == local(2025, 4, 22, 23, 59, 59, 999999)
    after = metrics.REGISTRY.get_sample_value(
        "medbro_sla_escalations_total", {"kind": "at_risk", "target": "1"}
    )
    assert after == (before or 0) + 1
    with sessions() as s, s.begin():
        hooks.letter_received(s, message_id="m1", letter=epikrise(), at=local(2025, 4, 23, 8))
        hooks.letter_delivered(s, message_id="m1", at=datetime(2025, 4, 23, 7, 0, tzinfo=UTC))
        assert alerts.open_tasks(s) == []
        assert alerts.sweep(s, local(2025, 4, 25), CONFIG, sink=seen.append) == []


def test_migration_creates_exactly_the_declared_sla_tables(sessions) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from gateway.db import Base

    with sessions() as s:
        context = MigrationContext.configure(s.connection(), opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    assert [d for d in diff if "sla_" in repr(d)] == []


def test_backlog_bridge_gives_the_worker_deadlines_and_escalates_once(sessions) -> None:
    from gateway.sla import backlog
    from gateway.sla.scheduling import Escalate, decide

    with sessions() as s, s.begin():
        report_discharge(s)
        hooks.letter_received(s, message_id="m1", letter=epikrise(), at=local(2025, 4, 22, 9))
        summary = backlog.summary_for(
            s, "m1", received_at=local(2025, 4, 22, 9), attempts=3,
            last_attempt_at=local(2025, 4, 22, 11, 59),
        )  # fmt: skip
        assert summary.deadlines[0] == (1, local(2025, 4, 22, 23, 59, 59, 999999))
        assert summary.at_risk_at == local(2025, 4, 22, 12, 0)
        decision = decide(summary, local(2025, 4, 22, 12, 0))
        assert isinstance(decision, Escalate) and decision.kind == "at_risk_1"
        assert backlog.record_escalation(s, "m1", decision.kind, local(2025, 4, 22, 12)) is not None
        assert backlog.record_escalation(s, "m1", decision.kind, local(2025, 4, 22, 12)) is None
        # the sweep knows it was raised already
        assert alerts.sweep(s, local(2025, 4, 22, 12, 1), CONFIG, sink=lambda e: None) == []
        again = backlog.summary_for(s, "m1", received_at=local(2025, 4, 22, 9))
        assert again.escalated == {"at_risk_1"}
        hooks.letter_delivered(s, message_id="m1", at=local(2025, 4, 22, 12, 5))
        assert backlog.summary_for(s, "m1", received_at=local(2025, 4, 22, 9)).deadlines == ()
        assert backlog.summary_for(s, "other", received_at=local(2025, 4, 22, 9)).deadlines == ()


def test_sample_letters_from_the_codec_start_and_join_clocks(sessions, samples_dir) -> None:
    from medcom_samples import sample_bytes

    from gateway.edifact import parse

    (dis01,) = [m.letter for m in parse(sample_bytes("edifact_DIS01_1.edi")).messages]
    (dis17,) = [m.letter for m in parse(sample_bytes("edifact_DIS17_1.edi")).messages]
    with sessions() as s, s.begin():
        hooks.letter_received(s, message_id="dis01", letter=dis01, at=local(1999, 1, 12, 9))
        hooks.letter_received(s, message_id="dis17", letter=dis17, at=local(2000, 1, 25, 9))
        rows = {r.source: r for r in s.scalars(select(Discharge))}
    assert set(rows) == {"letter", "dis17"}
    letter_row = rows["letter"]
    assert (letter_row.hospital, letter_row.department) == ("2001", "2001060")
    assert letter_row.discharged_at == datetime(1999, 1, 11, 12, 0)  # DTM+91 13:00 CET
    assert letter_row.corrections == 1  # the sample is a GIS+M correction
    assert rows["dis17"].department == "4202090"
    assert rows["dis17"].discharged_at == datetime(2000, 1, 24, 20, 30)  # DTM+137 21:30 CET


def test_worklist_keeps_open_discharges_of_any_age(sessions) -> None:
    """A patient still without a letter after months stays on the printed list."""
    with sessions() as s, s.begin():
        report_discharge(s, "january", at=datetime(2025, 1, 6, 10, 0))  # 106 days before now
        report_discharge(s, "easter", at=datetime(2025, 4, 16, 13, 0), cpr="0202020202")
        report_discharge(s, "today", at=datetime(2025, 4, 22, 9, 0), cpr="0303030303")
    now = local(2025, 4, 22, 13, 0)
    with sessions() as s:
        items = worklist(s, now, CONFIG)
        # the limit is applied after the sort: the most urgent deadlines survive it
        first_two = worklist(s, now, CONFIG, limit=2)
    assert [(i.discharge_id, i.target, i.status) for i in items] == [
        ("january", 3, Clock.BREACHED),
        ("easter", 1, Clock.AT_RISK),
        ("today", 1, Clock.PENDING),
    ]
    assert [i.discharge_id for i in first_two] == ["january", "easter"]


CLOSED_XMAS = SlaConfig(calendar=WorkdayCalendar.from_spec(["12-24", "12-31"]))
XMAS_EVENTS = (
    "hospital,department,discharge_id,discharged_at,letter_sent_at\n"
    "1301,1301011,x1,2026-12-23T10:00,\n"  # deadline 1: Thu 24 Dec, or Mon 28 Dec when closed
    "1301,1301011,x2,2026-11-10T10:00,\n"  # no closed day near: unchanged
)


def test_reimport_after_a_calendar_change_counts_new_deadlines_as_updated(
    sessions, tmp_path: Path
) -> None:
    path = tmp_path / "xmas.csv"
    path.write_text(XMAS_EVENTS)
    import_file(sessions, path, CONFIG, progress=False)
    again = import_file(sessions, path, CLOSED_XMAS, progress=False)
    assert (again.inserted, again.updated, again.unchanged) == (0, 1, 1)
    with sessions() as s:
        row = s.scalar(select(Discharge).where(Discharge.discharge_id == "x1"))
        assert row.deadline_1 == datetime(2026, 12, 28, 22, 59, 59, 999999)  # naive UTC
    assert import_file(sessions, path, CLOSED_XMAS, progress=False).unchanged == 2


def test_recompute_refreshes_stale_deadlines_idempotently(sessions) -> None:
    from gateway.sla.recompute import recompute

    with sessions() as s, s.begin():
        report_discharge(s, "open", at=datetime(2026, 12, 23, 10, 0))
        report_discharge(s, "sent", at=datetime(2026, 12, 23, 9, 0), cpr="0303030303")
        report_discharge(s, "november", at=datetime(2026, 11, 10, 10, 0), cpr="0202020202")
        hooks.letter_received(
            s,
            message_id="m",
            letter=epikrise(cpr="0303030303", discharged_at=datetime(2026, 12, 23, 9, 0)),
            at=local(2026, 12, 23, 10),
        )
        hooks.letter_delivered(s, message_id="m", at=local(2026, 12, 29, 10))  # late by default
    with sessions() as s, s.begin():  # at risk on Thu 24 Dec 12:00 by the default calendar
        alerts.sweep(s, local(2026, 12, 24, 13, 0), CONFIG, sink=lambda e: None)

    def deadline_1(discharge_id: str) -> datetime:
        with sessions() as s:
            return s.scalar(
                select(Discharge.deadline_1).where(Discharge.discharge_id == discharge_id)
            )

    sent_before = deadline_1("sent")
    batches: list[int] = []
    first = recompute(sessions, CLOSED_XMAS, on_batch=batches.append, batch=1)
    assert (first.rows, first.changed, first.unchanged) == (2, 1, 1)  # open ones only
    assert batches == [1, 1]
    assert deadline_1("open") == datetime(2026, 12, 28, 22, 59, 59, 999999)
    assert deadline_1("sent") == sent_before  # reported figures stay by default
    with sessions() as s:
        task = s.scalar(select(SlaTask).where(SlaTask.kind == "at_risk_1"))
        assert (task.resolved_at, task.deadline) == (None, deadline_1("open"))
        assert s.scalar(
            select(Discharge.at_risk_at).where(Discharge.discharge_id == "open")
        ) == datetime(2026, 12, 28, 11, 0)  # Mon 28 Dec 12:00 local
    again = recompute(sessions, CLOSED_XMAS)
    assert (again.rows, again.changed) == (2, 0)
    everything = recompute(sessions, CLOSED_XMAS, include_closed=True)
    assert (everything.rows, everything.changed) == (3, 1)
    assert deadline_1("sent") == datetime(2026, 12, 28, 22, 59, 59, 999999)


WINDOW = SlaConfig(calendar=WorkdayCalendar(), plausible_days=730)


def test_live_letter_with_an_implausible_date_is_kept_and_delivered_but_no_month_row(
    sessions: sessionmaker,
) -> None:
    """A MedCom sample letter dated 1999, received now: a warning, not a "1999-01" row."""
    received = local(2026, 11, 20, 9)
    with sessions() as s, s.begin():
        hooks.letter_received(
            s, message_id="old", letter=epikrise(discharged_at=datetime(1999, 1, 4, 10)),
            at=received, config=WINDOW,
        )
        hooks.letter_received(
            s, message_id="new", letter=epikrise(letter_id="E2", cpr="0202020202",
                                                 discharged_at=datetime(2026, 11, 19, 10)),
            at=received, config=WINDOW,
        )
        hooks.letters_delivered(s, ["old", "new"], at=local(2026, 11, 20, 9, 1), config=WINDOW)
    with sessions() as s:
        old = s.scalar(select(Discharge).where(Discharge.discharge_key == "letter/old"))
        assert old.warning == "implausible_discharge_date" and old.letter_sent_at is not None
        report = store_report(s, ("month",), today=date(2026, 12, 4), plausible_days=730)
        assert list(report.groups) == [("2026-11",)]
        assert report.total.discharges == 1 and report.total.within_1_workday == 1
        assert [(w.code, w.discharge) for w in report.warnings] == [
            ("implausible_discharge_date", "letter/old")]
        # listed in the period it was received in, whatever its own date
        november = store_report(s, (), start=date(2026, 11, 1), end=date(2026, 11, 30),
                                today=date(2026, 12, 4))
        assert [w.discharge for w in november.warnings] == ["letter/old"]
        assert store_report(s, (), start=date(2026, 10, 1), end=date(2026, 10, 31),
                            today=date(2026, 12, 4)).warnings == []


def test_live_letter_on_an_earlier_day_than_its_reported_discharge(
    sessions: sessionmaker,
) -> None:
    """The letter went at 22:40; the API then reports the discharge for the next morning."""
    with sessions() as s, s.begin():
        hooks.letter_received(
            s, message_id="m1", letter=epikrise(discharged_at=datetime(2025, 4, 16, 22, 0)),
            at=local(2025, 4, 16, 22, 30), config=CONFIG,
        )
        hooks.letter_delivered(s, message_id="m1", at=local(2025, 4, 16, 22, 40), config=CONFIG)
        report_discharge(s, "D9", at=datetime(2025, 4, 17, 8, 0))
    with sessions() as s:
        (row,) = s.scalars(select(Discharge)).all()
        assert (row.source, row.warning) == ("api", "letter_before_discharge")
        figures = store_report(s, (), today=date(2026, 12, 4), plausible_days=36500)
        assert (figures.total.discharges, figures.total.with_letter) == (1, 1)
        assert (figures.total.within_3_workdays, figures.total.within_1_workday) == (0, 0)
        assert [w.code for w in figures.warnings] == ["letter_before_discharge"]
        assert str(figures.warnings[0]).startswith(
            "discharge 1301/D9, column 'letter_sent_at': 2025-04-16T22:40 is on an earlier day")


def test_a_discharge_in_the_future_counts_once_its_day_has_come(sessions: sessionmaker) -> None:
    with sessions() as s, s.begin():
        report_discharge(s, "P1", at=datetime(2025, 4, 18, 10, 0))
    with sessions() as s:
        before = store_report(s, ("month",), today=date(2025, 4, 17))
        assert before.total.discharges == 0 and before.groups == {}
        assert [w.code for w in before.warnings] == ["discharge_in_future"]
        after = store_report(s, ("month",), today=date(2025, 4, 18))
        assert after.total.discharges == 1 and after.warnings == []
        assert s.scalar(select(Discharge.warning)) is None  # the future is never stored
