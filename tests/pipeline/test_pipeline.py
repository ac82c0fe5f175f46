"""The pipeline end to end through the Hub: SQLite and PostgreSQL, in-process and RabbitMQ.

Each test drives real bytes (MedCom's DIS01 sample, re-addressed) through ``Hub.ingest`` and a
running worker to a recording channel, and checks the store, the receipts and the deliveries.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid

import pytest

from gateway.edifact import parse
from gateway.pipeline.context import delivery_command
from gateway.store import MessageRow
from tests.pipeline.conftest import (
    GP,
    HOSPITAL,
    MEDBRO_LOCAL,
    UNKNOWN,
    eventually,
    letter,
    receipt_for,
    running,
)


def ref() -> str:
    return "K" + uuid.uuid4().hex[:10].upper()


def state(hub, message_id: str) -> str:
    view = hub.message_view(message_id)
    assert view is not None
    return view["state"]


async def test_letter_is_stored_routed_and_delivered_byte_for_byte(make_hub, channel):
    hub = await make_hub()
    data = letter(ref())
    async with running(hub):
        result = await hub.ingest(data, received_via="test", source="unit")
        assert result.state == "routed" and not result.duplicate and result.error is None
        (message_id,) = result.message_ids
        await eventually(lambda: state(hub, message_id) == "delivered")
    assert channel.payloads(GP) == [data]
    view = hub.message_view(message_id)
    assert (view["type"], view["version"], view["family"]) == ("DIS01", "D0133L", "MEDDIS")
    assert (view["sender_gln"], view["receiver_gln"]) == (HOSPITAL, GP)
    assert view["letter_id"] == "BrevNr00129"
    assert view["summary"]["letter"]["patient"] == "010858-****"  # never the full CPR
    assert [a["outcome"] for a in view["attempts"]] == ["delivered"]
    assert view["attempts"][0]["external_ref"].startswith("rec:" + GP)
    events = [e["event"] for e in view["events"]]
    assert events[:5] == ["interchange_received", "message_received", "message_validate",
                          "message_route", "message_deliver"]


async def test_unknown_receiver_is_parked_and_answered_with_ctl01_lok(make_hub, channel):
    hub = await make_hub()
    data = letter(ref(), receiver=UNKNOWN)
    async with running(hub):
        result = await hub.ingest(data, received_via="test")
        assert result.state == "parked" and result.receipt is not None
        receipt = parse(result.receipt).messages[0].letter
        assert (receipt.type, str(receipt.refusal)) == ("CTL01", "LOK")
        assert UNKNOWN in receipt.text
        await eventually(lambda: len(channel.payloads(HOSPITAL)) == 1)
    assert channel.payloads(HOSPITAL) == [result.receipt]  # the CTL01 went back to the sender
    view = hub.message_view(result.message_ids[0])
    assert view["tasks"][0]["kind"] == "refused"
    assert [r["kind"] for r in view["receipts"]] == ["CTL01"]
    assert GP not in channel.delivered


async def test_version_the_receiver_does_not_take_gets_ctl01_ver(make_hub, channel):
    hub = await make_hub()
    result = await hub.ingest(letter(ref(), version="D0134L"), received_via="test")
    assert result.state == "parked"
    receipt = parse(result.receipt).messages[0].letter
    assert (receipt.type, str(receipt.refusal)) == ("CTL01", "VER")


async def test_duplicate_is_logged_never_delivered_again_and_gets_the_same_receipt(
        make_hub, channel):
    hub = await make_hub()
    data = letter(ref(), ack=True)
    async with running(hub):
        first = await hub.ingest(data, received_via="test")
        await eventually(lambda: state(hub, first.message_ids[0]) == "delivered")
        ctl03 = receipt_for(data)
        answered = await hub.ingest(ctl03, received_via="test")
        assert answered.state == "routed"
        await eventually(lambda: state(hub, first.message_ids[0]) == "acknowledged")
        again = await hub.ingest(data, received_via="test")
        refused = letter(ref(), receiver=UNKNOWN)
        refused_first = await hub.ingest(refused, received_via="test")
        refused_again = await hub.ingest(refused, received_via="test")
        await eventually(lambda: len(channel.payloads(HOSPITAL)) == 2)
    assert again.duplicate and again.message_ids == first.message_ids
    assert again.state == "acknowledged" and again.receipt == ctl03
    assert channel.payloads(GP) == [data]  # delivered once
    assert refused_again.duplicate and refused_again.receipt == refused_first.receipt
    events = [e["event"] for e in hub.message_view(first.message_ids[0])["events"]]
    assert events.count("duplicate_received") == 1


async def test_ctl03_from_the_receiver_is_correlated_and_forwarded(make_hub, channel):
    hub = await make_hub()
    data = letter(ref(), ack=True)
    async with running(hub):
        result = await hub.ingest(data, received_via="test")
        await eventually(lambda: state(hub, result.message_ids[0]) == "delivered")
        view = hub.message_view(result.message_ids[0])
        assert view["ack_requested"] and view["receipt_due_at"] is not None
        ctl03 = receipt_for(data)
        answer = await hub.ingest(ctl03, received_via="test")
        await eventually(lambda: state(hub, result.message_ids[0]) == "acknowledged")
        await eventually(lambda: channel.payloads(HOSPITAL) == [ctl03])
        await eventually(lambda: state(hub, answer.message_ids[0]) == "delivered")
    view = hub.message_view(result.message_ids[0])
    assert [(r["direction"], r["kind"]) for r in view["receipts"]] == [("in", "CTL03")]
    assert view["receipt_due_at"] is None
    from gateway.store import ReceiptRow

    with hub.store.transaction() as session:
        stored = session.query(ReceiptRow).filter_by(message_id=result.message_ids[0]).one()
        assert stored.raw == ctl03 and stored.interchange_id == answer.interchange_id


async def test_missing_receipt_is_resent_twice_then_becomes_an_operator_task(make_hub, channel):
    hub = await make_hub(receipt_timeout_seconds=0.4, max_resends=2)
    data = letter(ref(), ack=True)
    async with running(hub):
        result = await hub.ingest(data, received_via="test")
        await eventually(lambda: state(hub, result.message_ids[0]) == "parked", timeout=30)
    assert channel.payloads(GP) == [data, data, data]  # the original and two resends
    view = hub.message_view(result.message_ids[0])
    assert view["resend_count"] == 2
    assert [t["kind"] for t in view["tasks"]] == ["receipt_missing"]
    events = [e["event"] for e in view["events"]]
    assert events.count("message_resend") == 2 and "message_receipt_timed_out" in events


async def test_transient_failures_are_retried_through_the_delay_queues(make_hub, channel):
    hub = await make_hub()
    channel.transient_failures[GP] = 2
    async with running(hub):
        result = await hub.ingest(letter(ref()), received_via="test")
        await eventually(lambda: state(hub, result.message_ids[0]) == "delivered")
    attempts = hub.message_view(result.message_ids[0])["attempts"]
    assert [a["outcome"] for a in attempts] == ["transient_error", "transient_error", "delivered"]
    assert [a["attempt_no"] for a in attempts] == [1, 2, 3]


async def test_permanent_failure_or_exhausted_retries_park_with_a_task(make_hub, channel):
    hub = await make_hub(max_delivery_attempts=2)
    channel.permanent.add(GP)
    async with running(hub):
        refused = await hub.ingest(letter(ref()), received_via="test")
        await eventually(lambda: state(hub, refused.message_ids[0]) == "parked")
        channel.permanent.clear()
        channel.transient_failures[GP] = 5
        exhausted = await hub.ingest(letter(ref()), received_via="test")
        await eventually(lambda: state(hub, exhausted.message_ids[0]) == "parked")
    for result, outcomes in ((refused, ["permanent_error"]),
                             (exhausted, ["transient_error", "transient_error"])):
        view = hub.message_view(result.message_ids[0])
        assert [a["outcome"] for a in view["attempts"]] == outcomes
        assert [t["kind"] for t in view["tasks"]] == ["undeliverable"]


async def test_redelivered_queue_message_is_acked_without_a_second_delivery(make_hub, channel):
    hub = await make_hub()
    data = letter(ref())
    handled = 0  # queue messages the worker has finished with (then the transport acks)
    handle = hub.worker.handle

    async def counting_handle(incoming) -> None:
        nonlocal handled
        try:
            await handle(incoming)
        finally:
            handled += 1

    hub.worker.handle = counting_handle  # run_worker subscribes hub.worker.handle
    async with running(hub):
        result = await hub.ingest(data, received_via="test")
        await eventually(lambda: state(hub, result.message_ids[0]) == "delivered")
        await eventually(lambda: handled >= 1)
        before = handled
        with hub.store.transaction() as session:
            row = session.get(MessageRow, result.message_ids[0])
            command = delivery_command(row)
        for _ in range(3):  # the broker redelivers (worker crash, requeue, republish)
            await hub.transport.publish(command)
        await eventually(lambda: handled >= before + 3)  # all three redeliveries handled
        events = [e["event"] for e in hub.message_view(result.message_ids[0])["events"]]
    assert channel.payloads(GP) == [data] and channel.calls == 1
    assert events.count("message_deliver") == 1


async def test_malformed_interchange_is_stored_rejected_and_answered(make_hub, channel):
    hub = await make_hub()
    good = letter(ref())
    broken = good.replace(b"UNT+51+", b"UNT+50+")
    result = await hub.ingest(broken, received_via="test")
    assert result.state == "rejected" and "UNT" in (result.error or "")
    receipt = parse(result.receipt).messages[0].letter
    assert (receipt.type, str(receipt.refusal)) == ("CTL01", "SYN")
    view = hub.message_view(result.message_ids[0])
    assert view["summary"]["error"]["tag"] == "UNT"
    garbage = await hub.ingest(b"\x00\xffnot edifact at all", received_via="test")
    assert garbage.state == "rejected" and garbage.receipt is None
    garbage_view = hub.message_view(garbage.message_ids[0])
    assert garbage_view["state"] == "rejected"
    assert garbage_view["summary"]["error"]["code"] == "NOT_EDIFACT"
    assert (garbage.error or "").startswith("segment 1: not an EDIFACT interchange")


async def test_medbro_as_final_receiver_answers_ctl03_and_ctl02(make_hub, channel):
    hub = await make_hub()
    data = letter(ref(), receiver=MEDBRO_LOCAL, ack=True)
    async with running(hub):
        result = await hub.ingest(data, received_via="test")
        await eventually(lambda: state(hub, result.message_ids[0]) == "acknowledged")
        await eventually(lambda: len(channel.payloads(HOSPITAL)) == 1)
    receipt = parse(channel.payloads(HOSPITAL)[0]).messages[0].letter
    assert receipt.type == "CTL03" and receipt.original_sender == HOSPITAL
    broken = letter(ref(), receiver=MEDBRO_LOCAL).replace(b"UNT+51+", b"UNT+50+")
    rejected = await hub.ingest(broken, received_via="test")
    assert parse(rejected.receipt).messages[0].letter.type == "CTL02"


async def test_sender_must_be_one_of_the_authenticated_glns(make_hub, channel):
    hub = await make_hub()
    result = await hub.ingest(letter(ref()), received_via="http",
                              authenticated_glns=frozenset({GP}))
    assert result.state == "rejected" and HOSPITAL in (result.error or "")
    ok = await hub.ingest(letter(ref()), received_via="http",
                          authenticated_glns=frozenset({HOSPITAL}))
    assert ok.state == "routed"


@pytest.mark.parametrize("workers", [2])
async def test_competing_workers_deliver_each_interchange_once(make_hub, channel, workers):
    hubs = [await make_hub() for _ in range(workers)]
    refs = [ref() for _ in range(30)]
    async with contextlib.AsyncExitStack() as stack:
        for hub in hubs:
            await stack.enter_async_context(running(hub))
        results = [await hubs[i % workers].ingest(letter(r), received_via="test")
                   for i, r in enumerate(refs)]
        await eventually(lambda: all(state(hubs[0], r.message_ids[0]) == "delivered"
                                     for r in results), timeout=30)
    delivered = [d.control_ref for d in channel.delivered[GP]]
    assert sorted(delivered) == sorted(refs)


async def test_a_batch_that_cannot_be_stored_stores_nothing_and_tells_every_caller(
        make_hub, channel, monkeypatch):
    """Decide and store are one transaction: a failure leaves no half-stored interchange
    (nothing to recover later), every caller of the batch gets the error (HTTP 503, the
    mailbox file stays), and the same bytes are accepted once the store is back."""
    from gateway.pipeline import observers
    from gateway.store.tables import InterchangeRow

    hub = await make_hub()
    data = [letter(ref()), letter(ref())]
    real = observers.letters_received

    def store_fails(*args, **kwargs):
        raise RuntimeError("the database went away mid-transaction")

    monkeypatch.setattr(observers, "letters_received", store_fails)
    failed = await asyncio.gather(*(hub.ingest(d, received_via="test") for d in data),
                                  return_exceptions=True)
    assert all(isinstance(f, RuntimeError) for f in failed)
    with hub.store.transaction() as session:
        assert session.query(InterchangeRow).count() == 0
    monkeypatch.setattr(observers, "letters_received", real)
    async with running(hub):
        results = [await hub.ingest(d, received_via="test") for d in data]
        assert [r.state for r in results] == ["routed", "routed"]
        await eventually(lambda: sorted(channel.payloads(GP)) == sorted(data))


async def test_ctl02_from_the_receiver_fails_the_letter_and_is_forwarded(make_hub, channel):
    from datetime import datetime

    from gateway.edifact.letters import render_letter
    from gateway.edifact.receipts import Original, build_receipt
    from gateway.model import RefusalCode

    hub = await make_hub()
    data = letter(ref(), ack=True)
    envelope, negative = build_receipt(
        "CTL02", Original.of(parse(data)), now=datetime(2026, 3, 2, 10, 0),
        refusal=RefusalCode.NC, text="Lægehuset kan ikke modtage epikriser", control_ref=ref())
    ctl02 = render_letter(envelope, negative)
    async with running(hub):
        result = await hub.ingest(data, received_via="test")
        await eventually(lambda: state(hub, result.message_ids[0]) == "delivered")
        await hub.ingest(ctl02, received_via="test")
        await eventually(lambda: state(hub, result.message_ids[0]) == "failed")
        await eventually(lambda: channel.payloads(HOSPITAL) == [ctl02])
        late = receipt_for(data)  # a later positive receipt does not change a negative one
        await hub.ingest(late, received_via="test")
        await eventually(lambda: len(channel.payloads(HOSPITAL)) == 2)
    view = hub.message_view(result.message_ids[0])
    assert view["state"] == "failed"
    assert [r["kind"] for r in view["receipts"]] == ["CTL02", "CTL03"]
    assert [e["event"] for e in view["events"]].count("receipt_ignored") == 1


async def test_operator_requeues_or_closes_a_parked_message(make_hub, channel):
    hub = await make_hub()
    channel.permanent.add(GP)
    async with running(hub):
        first = await hub.ingest(letter(ref()), received_via="test")
        second = await hub.ingest(letter(ref()), received_via="test")
        for result in (first, second):
            await eventually(lambda r=result: state(hub, r.message_ids[0]) == "parked")
        channel.permanent.clear()
        from gateway.operations.actions import Refused, act
        from gateway.operations.principal import system

        anne = system("operator:anne")
        released = await act(hub, first.message_ids[0], "release", who=anne,
                             reason="GP system back", now=hub.ctx.clock())
        assert (released.state, released.changed) == ("routed", True)
        await eventually(lambda: state(hub, first.message_ids[0]) == "delivered")
        closed = await act(hub, second.message_ids[0], "close", who=anne, reason="sent by post",
                           now=hub.ctx.clock())
        assert (closed.state, closed.changed) == ("failed", True)
        again = await act(hub, first.message_ids[0], "release", who=anne, reason="twice",
                          now=hub.ctx.clock())  # idempotent: delivered, nothing changes
        assert (again.state, again.changed) == ("delivered", False)
        with pytest.raises(Refused, match="cannot close"):
            await act(hub, first.message_ids[0], "close", who=anne, reason="no",
                      now=hub.ctx.clock())
    for result in (first, second):
        view = hub.message_view(result.message_ids[0])
        assert [t["status"] for t in view["tasks"]] == ["closed"]
        assert any(e["detail"].get("by") == "operator:anne" for e in view["events"])
    assert len(channel.payloads(GP)) == 1


async def test_routed_message_never_delivered_is_republished_then_parked(make_hub, channel):
    from gateway.pipeline import resend

    hub = await make_hub(republish_after_seconds=0.05)
    # Routed in the store, but the broker lost it (nobody consumes here): the scan republishes
    # it, and after MAX_REPUBLISHES an operator task says it is stuck.
    result = await hub.ingest(letter(ref()), received_via="test")
    for _ in range(resend.MAX_REPUBLISHES + 1):
        await asyncio.sleep(0.1)
        await resend.scan_once(hub.ctx)
    view = hub.message_view(result.message_ids[0])
    assert view["state"] == "parked" and [t["kind"] for t in view["tasks"]] == ["stuck"]
    events = [e["event"] for e in view["events"]]
    assert events.count("message_republished") == resend.MAX_REPUBLISHES


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("broker", ["memory"], indirect=True)
async def test_any_bytes_are_stored_and_answered_never_raised(make_hub, channel):
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    hub = await make_hub()
    base = letter(ref())
    seen: list[object] = []

    @settings(max_examples=40, deadline=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(st.one_of(
        st.binary(max_size=300),
        st.tuples(st.integers(0, len(base)), st.binary(max_size=5)).map(
            lambda cut: base[:cut[0]] + cut[1] + base[cut[0] + len(cut[1]):]),
    ))
    def run(data: bytes) -> None:
        seen.append(data)

    run()
    for data in seen:
        result = await hub.ingest(data, received_via="fuzz")
        assert result.message_ids and result.state in {"routed", "rejected", "parked"}
        assert hub.message_view(result.message_ids[0]) is not None


async def test_a_codec_crash_is_stored_rejected_and_tasked_without_a_receipt(
        make_hub, channel, monkeypatch):
    from gateway.pipeline import codec

    hub = await make_hub()

    def crash(data: bytes):
        raise ZeroDivisionError("bug")

    monkeypatch.setattr(codec, "read", crash)
    result = await hub.ingest(letter(ref()), received_via="test")
    assert result.state == "rejected" and result.receipt is None
    assert "ZeroDivisionError" in (result.error or "")
    assert [t["kind"] for t in hub.message_view(result.message_ids[0])["tasks"]] == ["codec_error"]


class FlakyBroker:
    """The in-process transport, with publishes failing while ``down`` (a broker outage);
    what was handed to ``publish_later`` meanwhile is published when it comes back, as a
    transport does on reconnect."""

    def __init__(self) -> None:
        from gateway.transport import MemoryTransport

        self.inner = MemoryTransport()
        self.kept: list = []
        self._down = False

    def __getattr__(self, name: str):
        return getattr(self.inner, name)

    @property
    def down(self) -> bool:
        return self._down

    @down.setter
    def down(self, value: bool) -> None:
        self._down = value
        if not value:  # reconnected
            for command in self.kept:
                self.inner.publish_later(command)
            self.kept.clear()

    def publish_later(self, command) -> bool:
        self.kept.append(command)
        return True

    async def publish(self, command) -> None:
        from gateway.transport import TransportError

        if self.down:
            raise TransportError("connection lost")
        await self.inner.publish(command)


async def test_message_ingested_while_the_broker_is_down_is_delivered_later(
        pipeline_db, broker_prefix, channel):
    from gateway.pipeline import Hub
    from gateway.registry import Registry
    from gateway.settings import Settings
    from tests.pipeline.conftest import PARTNERS

    flaky = FlakyBroker()
    settings = Settings.load(database_url=pipeline_db, broker_prefix=broker_prefix,
                             publish_patience_seconds=0.2, republish_after_seconds=300,
                             scan_interval_seconds=0.1)
    hub = Hub(settings, Registry.from_dict(PARTNERS), transport=flaky,
              channel_factory=lambda endpoint: channel)
    await hub.start()
    try:
        async with running(hub):
            flaky.down = True
            data = letter(ref())
            result = await hub.ingest(data, received_via="test")
            assert result.state == "routed"  # stored and routed, not yet on a queue
            await asyncio.sleep(0.5)
            assert channel.payloads(GP) == []
            assert len(flaky.kept) == 1  # kept for the reconnect, not left for the scanner
            flaky.down = False  # back: published at once (republish_after_seconds is 300)
            await eventually(lambda: channel.payloads(GP) == [data], timeout=5)
            await asyncio.sleep(0.3)
            assert channel.payloads(GP) == [data]  # once
    finally:
        await hub.stop()


class FakeClock:
    def __init__(self) -> None:
        from datetime import UTC, datetime

        self.now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

    def __call__(self):
        return self.now

    def advance(self, **delta: float) -> None:
        from datetime import timedelta

        self.now += timedelta(**delta)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_receipt_clock_runs_on_the_injected_clock(pipeline_db, broker_prefix, channel):
    """MedCom's 30 minutes and 2 resends, on a fake clock: no test waits half an hour."""
    from gateway.pipeline import Hub, resend
    from gateway.registry import Registry
    from gateway.settings import Settings
    from tests.pipeline.conftest import PARTNERS

    clock = FakeClock()
    settings = Settings.load(database_url=pipeline_db, broker_prefix=broker_prefix,
                             scan_interval_seconds=3600)  # the test drives the scans itself
    hub = Hub(settings, Registry.from_dict(PARTNERS), clock=clock,
              channel_factory=lambda endpoint: channel)
    await hub.start()
    data = letter(ref(), ack=True)
    try:
        async with running(hub):
            result = await hub.ingest(data, received_via="test")
            message_id = result.message_ids[0]
            await eventually(lambda: state(hub, message_id) == "delivered")
            assert hub.message_view(message_id)["receipt_due_at"] == "2026-03-02T09:30:00+00:00"
            clock.advance(minutes=29)
            assert await resend.scan_once(hub.ctx) == 0
            for resends in (1, 2):
                clock.advance(minutes=31)
                assert await resend.scan_once(hub.ctx) == 1
                await eventually(lambda n=resends: len(channel.payloads(GP)) == n + 1)
                await eventually(lambda: state(hub, message_id) == "delivered")
            clock.advance(minutes=31)
            await resend.scan_once(hub.ctx)
        view = hub.message_view(message_id)
        assert view["state"] == "parked" and view["resend_count"] == 2
        assert [t["kind"] for t in view["tasks"]] == ["receipt_missing"]
        assert channel.payloads(GP) == [data] * 3
    finally:
        await hub.stop()


async def test_envelope_without_messages_is_rejected_by_the_codec(make_hub, channel):
    """The codec refuses UNB..UNZ without a UNH (NO_MESSAGES); the pipeline stores that
    refusal like any other and answers the sender."""
    hub = await make_hub()
    control = ref()
    empty = (f"UNA:+.? 'UNB+UNOC:3+{HOSPITAL}:14+{GP}:14+990115:1202+{control}++++0'"
             f"UNZ+0+{control}'").encode("latin-1")
    result = await hub.ingest(empty, received_via="test")
    again = await hub.ingest(empty, received_via="test")
    assert result.state == "rejected" and "no messages" in (result.error or "")
    assert (result.error or "").startswith("UNZ segment 2: interchange")
    assert result.receipt is not None  # a negative receipt to the sender, like any refusal
    assert again.state == "rejected" and again.message_ids != result.message_ids


def two_letter_interchange(control_ref: str) -> bytes:
    """One interchange carrying two DIS01 letters (UNZ+2), as the codec allows."""
    one = letter(control_ref, ack=True)
    start, end = one.index(b"UNH+"), one.index(b"UNZ+")
    body = one[start:end]
    second = body.replace(b"BrevNr00129", b"BrevNr00130")
    return one[:start] + body + second + one[end:].replace(b"UNZ+1+", b"UNZ+2+")


async def test_interchange_with_two_letters_travels_once_and_each_letter_is_answered(
        make_hub, channel):
    hub = await make_hub()
    data = two_letter_interchange(ref())
    async with running(hub):
        result = await hub.ingest(data, received_via="test")
        assert len(result.message_ids) == 2 and result.state == "routed"
        await eventually(lambda: all(state(hub, m) == "delivered" for m in result.message_ids))
        ctl03 = receipt_for(data)
        assert len(parse(ctl03).messages[0].letter.original_letters) == 2
        await hub.ingest(ctl03, received_via="test")
        await eventually(lambda: all(state(hub, m) == "acknowledged"
                                     for m in result.message_ids))
    assert channel.payloads(GP) == [data]  # byte for byte, once
    refs = sorted(hub.message_view(m)["message_ref"] for m in result.message_ids)
    assert refs == ["BrevNr00129", "BrevNr00130"]
