"""A bulk operation whose process died is not shown ``running`` for ever; repeated acts.

``bulk.shown_state`` decides from the heartbeat (a table of cases); ``GET /v1/operations/{id}``
marks such an operation ``interrupted`` with how far it got; a process that stops cleanly
marks its own walks at once. A replay repeated while the first replay's attempt is still
pending delivers once.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from gateway.operations import bulk
from gateway.operations.tables import BulkOperationRow
from tests.operations.conftest import GP, KEYS, eventually, letter, working

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
OPS = {"X-API-Key": KEYS["ops"]}


@pytest.mark.parametrize(("state", "beat_age", "shown"), [
    ("running", timedelta(seconds=0), "running"),
    ("running", bulk.STALE_AFTER, "running"),  # exactly at the limit: still alive
    ("running", bulk.STALE_AFTER + timedelta(seconds=1), "interrupted"),
    ("running", timedelta(days=3), "interrupted"),
    ("done", timedelta(days=3), "done"),
    ("failed", timedelta(days=3), "failed"),
    ("interrupted", timedelta(0), "interrupted"),
])
def test_shown_state(state, beat_age, shown):
    assert bulk.shown_state(state, NOW - beat_age, NOW) == shown


def _operation(ops, *, state: str, beat: datetime | None, updated: datetime) -> str:
    with ops.hub.store.transaction() as session:
        session.add(BulkOperationRow(
            id="op-1", action="release", filter={"state": "parked"}, reason="GP back",
            actor="key:Drift", state=state, matched=40, done=12, skipped=3, failed=1, error="",
            created_at=updated, updated_at=updated, heartbeat_at=beat))
    return "op-1"


async def test_an_operation_whose_runner_died_is_shown_interrupted_with_its_progress(ops):
    now = datetime.now(UTC)
    op = _operation(ops, state="running", beat=now - timedelta(minutes=5),
                    updated=now - timedelta(minutes=6))
    r = await ops.client.get(f"/v1/operations/{op}", headers=OPS)
    body = r.json()
    assert r.status_code == 200 and body["state"] == "interrupted"
    assert (body["done"], body["skipped"], body["failed"], body["matched"]) == (12, 3, 1, 40)
    assert "16 of 40" in body["error"] and "run the same bulk release again" in body["error"]
    with ops.hub.store.transaction() as session:  # written, not only shown
        assert session.get(BulkOperationRow, op).state == "interrupted"
    assert (await ops.client.get(f"/v1/operations/{op}", headers=OPS)).json() == body


async def test_a_row_of_an_older_release_without_heartbeat_uses_its_last_progress(ops):
    now = datetime.now(UTC)
    op = _operation(ops, state="running", beat=None, updated=now - timedelta(hours=1))
    assert (await ops.client.get(f"/v1/operations/{op}", headers=OPS)).json()[
        "state"] == "interrupted"


async def test_a_live_walk_stays_running_and_a_clean_stop_marks_it_interrupted(ops):
    ops.channel.down.add(GP)
    async with working(ops.hub):
        ids = [await ops.ingest(letter(i)) for i in range(1, 4)]
        await eventually(lambda: all(ops.state(i) == "parked" for i in ids))
    ops.app.state.bulk_rate = 0.5  # one message every two seconds: the walk is still going
    r = await ops.client.post("/v1/operations/release", headers=OPS, json={
        "filter": {"state": "parked"}, "dry_run": False, "reason": "GP back"})
    assert r.status_code == 202, r.text
    op = r.json()["id"]
    await asyncio.sleep(0.3)
    assert (await ops.client.get(f"/v1/operations/{op}", headers=OPS)).json()[
        "state"] == "running"
    await bulk.interrupt(list(ops.app.state.bulk_walks))  # what the app does when it stops
    body = (await ops.client.get(f"/v1/operations/{op}", headers=OPS)).json()
    assert body["state"] == "interrupted" and "stopped with its process" in body["error"]
    assert f"of {body['matched']} messages" in body["error"]


async def test_a_replay_repeated_while_its_attempt_is_pending_delivers_once(ops):
    async with working(ops.hub):
        message_id = await ops.ingest(letter(1))
        await eventually(lambda: ops.state(message_id) == "delivered")
    assert ops.channel.count(GP) == 1
    # no worker runs: the first replay's delivery is pending when the operator asks again
    url = f"/v1/messages/{message_id}/replay"
    first = await ops.client.post(url, json={"reason": "GP lost it"}, headers=OPS)
    again = await ops.client.post(url, json={"reason": "GP lost it"}, headers=OPS)
    assert first.json()["changed"] is True and first.json()["state"] == "routed"
    assert again.status_code == 202 and again.json()["changed"] is False
    assert again.json()["detail"] == "a delivery is already under way"
    async with working(ops.hub):
        await eventually(lambda: ops.state(message_id) == "delivered")
        await asyncio.sleep(0.5)  # a second delivery, if any, would land now
    assert ops.channel.count(GP) == 2  # the original and one replay
    attempts = ops.hub.message_view(message_id)["attempts"]
    assert [a["outcome"] for a in attempts] == ["delivered", "delivered"]
