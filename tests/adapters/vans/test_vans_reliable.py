"""Reliable mode: MedCom's four duplicate cases, the same receipt for a duplicate, durability.

The receiver suite runs on the in-memory store and on the SQL store (SQLite and PostgreSQL),
so the durable path is never untested.
"""

from __future__ import annotations

import itertools
import uuid
from datetime import datetime, timedelta

import pytest

from adapters.vans import (
    DuplicateCase,
    EndPoint,
    ErrorCode,
    MemorySeenStore,
    Outcome,
    ReceiptKind,
    ReliableReceiver,
    SqlSeenStore,
    classify,
    parse,
    resend,
    serialize,
    wrap,
)
from adapters.vans.reliable import DUPLICATE_TABLE, EnvelopeSeen, SeenEnvelope

NOW = datetime(2026, 11, 22, 12, 0, 0)
HOSPITAL = EndPoint("5790000192345")
GP = EndPoint("5790000121526")


@pytest.mark.parametrize(
    ("envelope", "message_seen", "case"),
    [
        (EnvelopeSeen.NO, False, DuplicateCase.NEW),
        (EnvelopeSeen.WITH_SAME_MESSAGE, True, DuplicateCase.REPEATED),
        (EnvelopeSeen.NO, True, DuplicateCase.RECEIPT_LOST),
        (EnvelopeSeen.WITH_OTHER_MESSAGE, False, DuplicateCase.ENVELOPE_REUSED),
        (EnvelopeSeen.WITH_OTHER_MESSAGE, True, DuplicateCase.ENVELOPE_REUSED),
    ],
)
def test_duplicate_table(envelope, message_seen, case):
    assert classify(envelope, message_seen) is case


def test_the_impossible_state_is_refused_and_everything_else_is_in_the_table():
    with pytest.raises(ValueError, match="impossible"):
        classify(EnvelopeSeen.WITH_SAME_MESSAGE, False)
    assert len(DUPLICATE_TABLE) == len(EnvelopeSeen) * 2 - 1


class Counter:
    """The processing step: counts calls, accepts unless told otherwise."""

    def __init__(self, outcomes=()):
        self.calls = []
        self.outcomes = list(outcomes)

    async def __call__(self, envelope):
        self.calls.append(envelope.message.meta.identifier)
        if self.outcomes:
            result = self.outcomes.pop(0)
            if isinstance(result, Exception):
                raise result
            return result
        return Outcome(accepted=True)


def _ids(start: int = 1):
    counter = itertools.count(start)
    return lambda: str(uuid.UUID(int=next(counter)))


def _envelope(envelope_id: str, message_id: str, payload=b"UNA:+.? 'UNB+UNOC:3'", reliable=True):
    return serialize(
        wrap(
            payload,
            sender=HOSPITAL,
            receiver=GP,
            message_type="DIS01",
            version="D0133L",
            envelope_id=envelope_id,
            message_id=message_id,
            now=NOW,
            reliable=reliable,
        )
    )


E1, E2, E3 = (str(uuid.uuid4()) for _ in range(3))
M1, M2 = (str(uuid.uuid4()) for _ in range(2))


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request, tmp_path):
    if request.param == "memory":
        yield MemorySeenStore()
        return
    url = (
        f"sqlite:///{tmp_path / 'vans.db'}"
        if request.param == "sqlite"
        else request.getfixturevalue("postgres_url")
    )
    sql = SqlSeenStore.create(url)
    yield sql
    with sql.engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM vans_seen_envelopes")
    sql.dispose()


def _receiver(store, process, first_id: int = 1):
    return ReliableReceiver(store, process, now=lambda: NOW, new_id=_ids(first_id))


async def test_new_message_is_processed_once_and_positively_receipted(store):
    process = Counter()
    got = await _receiver(store, process).receive(_envelope(E1, M1))
    assert got.case is DuplicateCase.NEW and process.calls == [M1]
    receipt = parse(got.receipt)
    assert receipt.receipt.kind is ReceiptKind.POSITIVE_MESSAGE
    assert receipt.receipt.original_envelope_id == E1
    assert (receipt.sender, receipt.receiver) == (GP, HOSPITAL)


async def test_same_envelope_again_is_not_reprocessed_and_gets_the_same_receipt(store):
    process = Counter()
    receiver = _receiver(store, process)
    first = await receiver.receive(_envelope(E1, M1))
    again = await receiver.receive(_envelope(E1, M1))
    assert again.case is DuplicateCase.REPEATED and process.calls == [M1]
    a, b = parse(first.receipt), parse(again.receipt)
    assert a.receipt == b.receipt  # same content ...
    assert a.envelope_id != b.envelope_id  # ... in a new envelope


async def test_resend_with_new_envelope_id_replays_the_original_receipt(store):
    process = Counter([Outcome(accepted=False, description="UNH ref missing")])
    receiver = _receiver(store, process)
    first = await receiver.receive(_envelope(E1, M1))
    resent = serialize(
        resend(parse(_envelope(E1, M1)), envelope_id=E2, now=NOW + timedelta(minutes=30))
    )
    again = await receiver.receive(resent)
    assert again.case is DuplicateCase.RECEIPT_LOST
    assert process.calls == [M1]  # not processed a second time
    # Negative the first time, negative again: never positive after negative.
    original, replayed = parse(first.receipt).receipt, parse(again.receipt).receipt
    assert replayed == original and replayed.kind is ReceiptKind.NEGATIVE_MESSAGE
    assert replayed.original_envelope_id == E1
    assert replayed.error.description == "UNH ref missing"


async def test_envelope_id_reused_for_another_message_is_an_error(store):
    process = Counter()
    receiver = _receiver(store, process)
    await receiver.receive(_envelope(E1, M1))
    got = await receiver.receive(_envelope(E1, M2, payload=b"UNB+other"))
    assert got.case is DuplicateCase.ENVELOPE_REUSED and process.calls == [M1]
    receipt = parse(got.receipt).receipt
    assert receipt.kind is ReceiptKind.NEGATIVE_MESSAGE
    assert receipt.error.code == ErrorCode.ENVELOPE_REUSED
    assert "never be reused" in receipt.error.description
    # M2 was not remembered: sent properly under a fresh envelope id it is processed.
    fresh = await receiver.receive(_envelope(E3, M2, payload=b"UNB+other"))
    assert fresh.case is DuplicateCase.NEW and process.calls == [M1, M2]


async def test_size_mismatch_gets_a_negative_receipt_without_processing(store):
    process = Counter()
    data = _envelope(E1, M1).replace(b"<SizeInBytes>", b"<SizeInBytes>1")
    got = await _receiver(store, process).receive(data)
    assert process.calls == []
    receipt = parse(got.receipt).receipt
    assert receipt.kind is ReceiptKind.NEGATIVE_MESSAGE
    assert receipt.error.code == ErrorCode.SIZE_MISMATCH


async def test_a_transient_failure_remembers_nothing(store):
    process = Counter([ConnectionError("database down")])
    receiver = _receiver(store, process)
    with pytest.raises(ConnectionError):
        await receiver.receive(_envelope(E1, M1))
    assert store.by_envelope(E1) is None
    got = await receiver.receive(_envelope(E1, M1))
    assert got.case is DuplicateCase.NEW and process.calls == [M1, M1]


async def test_unreliable_envelopes_are_deduplicated_but_not_receipted(store):
    process = Counter()
    receiver = _receiver(store, process)
    first = await receiver.receive(_envelope(E1, M1, reliable=False))
    again = await receiver.receive(_envelope(E2, M1, reliable=False))
    assert first.receipt == b"" and again.receipt == b""
    assert process.calls == [M1] and again.case is DuplicateCase.RECEIPT_LOST


async def test_incoming_receipts_are_remembered_never_answered(store):
    process = Counter()
    receiver = _receiver(store, process)
    first = await receiver.receive(_envelope(E1, M1))
    got = await receiver.receive(first.receipt)
    assert got.case is DuplicateCase.NEW and got.receipt == b"" and process.calls == [M1]
    twice = await receiver.receive(first.receipt)
    assert twice.case is DuplicateCase.REPEATED and twice.receipt == b""


async def test_memory_survives_a_new_store_on_the_same_database(tmp_path):
    url = f"sqlite:///{tmp_path / 'vans.db'}"
    process = Counter()
    first_store = SqlSeenStore.create(url)
    first = await _receiver(first_store, process).receive(_envelope(E1, M1))
    first_store.dispose()
    second_store = SqlSeenStore.create(url)  # a restarted process
    again = await _receiver(second_store, process, 1000).receive(_envelope(E2, M1))
    second_store.dispose()
    assert again.case is DuplicateCase.RECEIPT_LOST and process.calls == [M1]
    assert parse(again.receipt).receipt == parse(first.receipt).receipt


def test_store_contract_first_envelope_wins_and_old_rows_are_forgotten(store):
    row = SeenEnvelope(E1, HOSPITAL.id, M1, NOW, b"<r/>")
    assert store.remember(row) is True
    assert store.remember(SeenEnvelope(E1, HOSPITAL.id, M1, NOW, b"<other/>")) is False
    store.remember(SeenEnvelope(E2, HOSPITAL.id, M1, NOW + timedelta(minutes=30)))
    assert store.by_message(HOSPITAL.id, M1).envelope_id == E1
    assert store.by_message(GP.id, M1) is None
    assert store.by_envelope(E1).receipt == b"<r/>"
    assert store.forget_before(NOW + timedelta(minutes=1)) == 1
    assert store.by_envelope(E1) is None and store.by_envelope(E2) is not None


async def test_vans_ingest_forgets_envelopes_older_than_the_retention(store):
    from adapters.vans import VansIngest

    ingested = []

    async def ingest(data, **kwargs):
        ingested.append(data)

        class Result:
            message_ids = ["m"]
            state = "routed"
            error = None

        return Result()

    clock = [NOW]
    vans = VansIngest(ingest, store, received_via="test", retention=timedelta(days=7),
                      now=lambda: clock[0], new_id=_ids(500))
    payload = b"UNA:+.? 'UNB+UNOC:3+x'"
    await vans.receive(_envelope(E1, M1, payload=payload), source="t")
    clock[0] = NOW + timedelta(days=8)
    again = await vans.receive(_envelope(E2, M1, payload=payload), source="t")
    # The first envelope was forgotten before the second arrived: processed as new.
    assert again.case is DuplicateCase.NEW and len(ingested) == 2
    assert store.by_envelope(E1) is None
