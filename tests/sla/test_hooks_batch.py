"""The batch hooks (letters_received / letters_delivered) leave exactly the rows the one-by-one
hooks leave, and the common case costs a few statements per batch, not per letter."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, event, select
from sqlalchemy.orm import sessionmaker

from gateway.model import LetterStatus
from gateway.sla import alerts, hooks
from gateway.sla.tables import Discharge, SlaLetter, SlaTask
from tests.sla.test_store import CONFIG, epikrise, local, report_discharge

T0 = local(2025, 4, 17, 9)


def received_batches():
    """Batches of (message id, letter) as ingest would hand them over, in order."""
    fresh = [
        (f"new{i}", epikrise(letter_id=f"L{i}", cpr=f"01018{i:05d}", department="1301011"))
        for i in range(6)
    ]
    mixed = [
        # a correction of new0 (same letter id): joins new0's discharge
        ("fix0", epikrise(letter_id="L0", cpr="0101800000", status=LetterStatus.CORRECTED)),
        # the patient of the reported discharge D1
        ("rep", epikrise(letter_id="R1")),
        ("adv", epikrise("DIS17", letter_id="A1", cpr="0202020202")),
        ("gp", epikrise("DIS91", letter_id="X1")),
        # two letters of one new patient in one batch
        ("twin1", epikrise(letter_id="T1", cpr="0303030303")),
        ("twin2", epikrise(letter_id="T2", cpr="0303030303")),
    ]
    late = [("late", epikrise(letter_id="Z1", cpr="0404040404",
                              discharged_at=datetime(2025, 4, 1, 10, 0)))]
    return [fresh, mixed, late]


DELIVERIES = [
    ["new0", "fix0", "new1", "nobody"],  # two letters of one discharge: new0 counts
    ["rep", "twin1", "twin2", "late"],  # late: both deadlines breached on delivery
    ["new0", "new2"],  # new0 again changes nothing
]


def apply(sessions: sessionmaker, *, batched: bool) -> None:
    with sessions() as s, s.begin():
        report_discharge(s)
    for batch in received_batches():
        with sessions() as s, s.begin():
            if batched:
                hooks.letters_received(s, batch, at=T0, config=CONFIG)
            else:
                for message_id, letter in batch:
                    hooks.letter_received(s, message_id=message_id, letter=letter, at=T0,
                                          config=CONFIG)
    with sessions() as s, s.begin():  # open at-risk tasks that a delivery must resolve
        alerts.sweep(s, local(2025, 4, 22, 12, 30), CONFIG, sink=lambda e: None)
    for n, ids in enumerate(DELIVERIES):
        at = datetime(2025, 4, 22, 10, 0, tzinfo=UTC) + timedelta(hours=n)
        with sessions() as s, s.begin():
            if batched:
                hooks.letters_delivered(s, ids, at=at)
            else:
                for message_id in ids:
                    hooks.letter_delivered(s, message_id=message_id, at=at)


def snapshot(sessions: sessionmaker) -> dict[str, list[tuple]]:
    with sessions() as s:
        keys = dict(s.execute(select(Discharge.id, Discharge.discharge_key)).all())
        return {
            "discharges": sorted(
                (d.discharge_key, d.source, d.department, d.patient_cpr, d.discharged_at,
                 d.deadline_1, d.deadline_3, d.at_risk_at, d.letter_message_id,
                 d.letter_received_at, d.letter_sent_at, d.letters, d.corrections)
                for d in s.scalars(select(Discharge))),
            "letters": sorted(
                (x.message_id, keys.get(x.discharge_pk), x.letter_type, x.letter_id, x.status,
                 x.received_at, x.delivered_at)
                for x in s.scalars(select(SlaLetter))),
            "tasks": sorted(
                (keys.get(t.discharge_pk), t.kind, t.deadline, t.resolved_at)
                for t in s.scalars(select(SlaTask))),
        }


def wipe(sessions: sessionmaker) -> None:
    with sessions() as s, s.begin():
        for table in (SlaTask, SlaLetter, Discharge):
            s.execute(delete(table))


def test_batch_hooks_leave_the_same_rows_as_one_by_one(sessions) -> None:
    apply(sessions, batched=False)
    one_by_one = snapshot(sessions)
    wipe(sessions)
    apply(sessions, batched=True)
    batched = snapshot(sessions)
    assert batched == one_by_one
    # the scenario really exercised what it claims
    by_key = {d[0]: d for d in one_by_one["discharges"]}
    assert by_key["letter/new0"][11:] == (2, 1)  # new0 + its correction, one clock
    assert by_key["letter/new0"][8] == "new0"  # the first delivered letter counts
    assert by_key["1301/D1"][10] is not None  # the reported discharge got its letter
    assert {t[1] for t in one_by_one["tasks"] if t[0] == "letter/late"} == {
        "breached_1", "breached_3"}
    sent = {key for key, d in by_key.items() if d[10] is not None}
    assert any(t[0] in sent and t[1].startswith("at_risk") for t in one_by_one["tasks"])
    assert all(t[3] is not None for t in one_by_one["tasks"] if t[0] in sent)  # resolved


def test_new_letters_of_a_batch_cost_a_few_statements_not_a_few_per_letter(sessions) -> None:
    """PostgreSQL inserts the batch's rows with one multi-row INSERT .. RETURNING each (SQLite
    returns generated ids row by row, so there the count is per letter by design)."""
    letters = [(f"m{i}", epikrise(letter_id=f"B{i}", cpr=f"05059{i:05d}")) for i in range(40)]
    statements: list[str] = []
    with sessions() as s, s.begin():
        s.execute(select(1))  # connect first: count only the hook's own statements
        engine = s.get_bind()
        if engine.dialect.name != "postgresql":
            pytest.skip("multi-row INSERT .. RETURNING is PostgreSQL's")

        def record(conn, cursor, statement, *_):  # noqa: ANN001, ANN202
            statements.append(statement)

        event.listen(engine, "before_cursor_execute", record)
        try:
            hooks.letters_received(s, letters, at=T0, config=CONFIG)
            s.flush()
        finally:
            event.remove(engine, "before_cursor_execute", record)
    count = len(statements)
    with sessions() as s:
        assert s.scalar(select(SlaLetter.discharge_pk).where(SlaLetter.message_id == "m39"))
        assert len(s.scalars(select(Discharge)).all()) == 40
    assert count <= 6, statements
