"""Group commit at ingest and batched delivery keep every guarantee of the one-by-one path."""

from __future__ import annotations

import asyncio
import uuid

import sqlalchemy as sa

from gateway.pipeline.context import delivery_command
from gateway.store.tables import AttemptRow, InterchangeRow, MessageRow
from tests.pipeline.conftest import GP, UNKNOWN, eventually, letter, running


def ref() -> str:
    return "K" + uuid.uuid4().hex[:10].upper()


def state(hub, message_id: str) -> str:
    view = hub.message_view(message_id)
    assert view is not None
    return view["state"]


async def test_interchanges_arriving_together_commit_together_and_keep_their_outcomes(
        make_hub, channel):
    hub = await make_hub()
    plain = [letter(ref()) for _ in range(12)]
    twice = letter(ref())
    refused = letter(ref(), receiver=UNKNOWN)
    garbage = b"UNA:+.? 'UNB+UNOC:3+nonsense"
    commits = 0

    def count(_conn) -> None:
        nonlocal commits
        commits += 1

    sa.event.listen(hub.store.engine, "commit", count)
    try:
        results = await asyncio.gather(*(
            hub.ingest(d, received_via="test") for d in [*plain, twice, twice, refused, garbage]))
    finally:
        sa.event.remove(hub.store.engine, "commit", count)
    *stored, first, again, parked, rejected = results
    # 13 new letters in one transaction; the duplicate, the refusal and the garbage each take
    # ingest.py's two (one by one: 2 x 16 = 32 commits)
    assert commits <= 1 + 2 * 3
    assert all(r.state == "routed" and not r.duplicate for r in [*stored, first])
    assert again.duplicate and again.message_ids == first.message_ids
    assert parked.state == "parked" and parked.receipt is not None  # CTL01 LOK to the sender
    assert rejected.state == "rejected"
    async with running(hub):
        await eventually(lambda: len(channel.payloads(GP)) >= 13)
        for result in [*stored, first]:
            await eventually(lambda r=result: state(hub, r.message_ids[0]) == "delivered")
    assert sorted(channel.payloads(GP)) == sorted([*plain, twice])  # each once, byte for byte
    view = hub.message_view(stored[0].message_ids[0])
    events = [e["event"] for e in view["events"]]
    assert events[:5] == ["interchange_received", "message_received", "message_validate",
                          "message_route", "message_deliver"]


async def test_a_batch_of_queue_messages_with_repeats_delivers_each_interchange_once(
        make_hub, channel):
    hub = await make_hub(prefetch=64)
    data = [letter(ref()) for _ in range(10)]
    results = await asyncio.gather(*(hub.ingest(d, received_via="test") for d in data))
    with hub.store.transaction() as session:
        commands = [delivery_command(session.get(MessageRow, r.message_ids[0]))
                    for r in results]
    for command in commands[:5]:  # the broker hands some of them out twice more
        await hub.transport.publish(command)
        await hub.transport.publish(command)
    async with running(hub):
        for result in results:
            await eventually(lambda r=result: state(hub, r.message_ids[0]) == "delivered")
        await asyncio.sleep(0.5)  # the repeats are handled too (and must change nothing)
    assert sorted(channel.payloads(GP)) == sorted(data)
    with hub.store.transaction() as session:
        attempts = session.scalars(sa.select(AttemptRow.interchange_id)).all()
    assert sorted(attempts) == sorted(r.interchange_id for r in results)
    for result in results:
        events = [e["event"] for e in hub.message_view(result.message_ids[0])["events"]]
        assert events.count("message_deliver") == 1


def _messages_total(letter_type: str, state_name: str) -> float:
    from gateway import metrics

    return metrics.REGISTRY.get_sample_value(
        "medbro_messages_total", {"type": letter_type, "state": state_name}) or 0.0


async def test_bulk_inserted_batch_rows_match_the_one_by_one_rows_and_are_counted_once(
        make_hub) -> None:
    """The batch writes its rows with bulk INSERTs: same columns, same audit trail, and the
    message counters move by exactly the batch (after its commit) as the ORM path counted."""
    hub = await make_hub()
    states = ("received", "validated", "routed")
    before = {s: _messages_total("DIS01", s) for s in states}
    data = [letter(ref(), ack=True) for _ in range(6)]
    results = await asyncio.gather(*(hub.ingest(d, received_via="test", source="f.edi")
                                     for d in data))
    assert all(r.state == "routed" and not r.duplicate for r in results)
    assert {s: _messages_total("DIS01", s) - before[s] for s in states} == dict.fromkeys(
        states, 6.0)
    with hub.store.transaction() as session:
        inter = session.get(InterchangeRow, results[0].interchange_id)
        assert inter is not None and inter.status == "processed" and inter.error is None
        assert inter.ack_requested is True and inter.sender_gln and inter.receiver_gln == GP
        assert inter.raw in data and inter.source == "f.edi"
        row = session.get(MessageRow, results[0].message_ids[0])
        assert row is not None and row.state == "routed" and row.type == "DIS01"
        assert row.ack_requested is True and row.resend_count == 0
        assert row.summary["letter"]["patient"].endswith("-****")
    view = hub.message_view(results[0].message_ids[0])
    assert [(e["event"], e["detail"].get("state_to")) for e in view["events"]][:4] == [
        ("interchange_received", None), ("message_received", None),
        ("message_validate", "validated"), ("message_route", "routed")]
