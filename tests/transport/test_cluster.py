"""A real distributed broker: a 3-node RabbitMQ cluster of the test's own on loopback
(tests/rabbit_cluster.py) and a PostgreSQL server of its own (tests/pg_instance.py); the
machine's RabbitMQ and PostgreSQL, shared with other test runs, are not touched.

* medbro's quorum queues are spread over the cluster: every queue has a member on every node,
  and their leaders are on more than one node (``queue_leader_locator = balanced``);
* medbro connects with every node's address (``MEDBRO_BROKER_URL``, comma-separated);
* one node is SIGKILLed in the middle of 1,000 letters: every letter is delivered exactly once
  (one outbox file per UNB ref, the bytes sent, one delivered attempt per interchange) and the
  two ``medbro worker`` processes keep going;
* PostgreSQL is restarted in the middle of a stream: the same.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from pg_instance import PgInstance, pg_instance
from pg_instance import available as postgres_installed
from rabbit_cluster import RabbitCluster, rabbit_cluster
from rabbit_cluster import available as rabbitmq_installed
from worker_processes import Fleet, letters, partners, worker_env

from gateway.pipeline.hub import Hub
from gateway.settings import Settings
from gateway.store.tables import AttemptRow
from tests.conftest import IN_CI

pytestmark = [pytest.mark.slow]


def _need(ok: bool, what: str) -> None:
    if ok:
        return
    if IN_CI:
        pytest.fail(f"{what} is not installed and CI=true", pytrace=False)
    pytest.skip(f"{what} is not installed")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RabbitCluster]:
    _need(rabbitmq_installed(), "RabbitMQ (rabbitmq-server, erl)")
    with rabbit_cluster(tmp_path_factory.mktemp("rabbit-cluster")) as running:
        yield running


@pytest.fixture(scope="module")
def postgres() -> Iterator[PgInstance]:
    _need(postgres_installed(), "PostgreSQL server binaries")
    with pg_instance() as instance:
        yield instance


@pytest.fixture
def database(postgres: PgInstance) -> str:
    name = f"medbro_cluster_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(postgres.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return postgres.url.rsplit("/", 1)[0] + f"/{name}"


@pytest.fixture
async def fleet(tmp_path: Path, cluster: RabbitCluster, database: str,
                broker_prefix: str) -> AsyncIterator[Fleet]:
    config = tmp_path / "partners.toml"
    config.write_text(partners(tmp_path / "mailboxes"), encoding="utf-8")
    # The ingesting side rides out a leader election or a database restart (an API would
    # answer 503 and the sender would send again; see ingest_retrying).
    hub = Hub.from_settings(Settings.load(
        database_url=database, broker_url=cluster.url, config=config,
        broker_prefix=broker_prefix, publish_patience_seconds=30))
    await hub.start()
    env = worker_env(database_url=database, broker_url=cluster.url, config=config,
                     prefix=broker_prefix)
    fleet = Fleet(tmp_path, hub, env)
    try:
        yield fleet
    finally:
        fleet.stop_workers()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(hub.transport.delete(hub.topology), 30)
        await hub.stop()


async def ingest_retrying(fleet: Fleet, batch: dict[str, bytes], concurrency: int = 16) -> None:
    """Every letter stored once accepted: what a sender does with a 503 (send it again; a
    repeat of something already stored is recognised as a duplicate)."""
    gate = asyncio.Semaphore(concurrency)

    async def one(data: bytes) -> None:
        async with gate:
            deadline = time.monotonic() + 120
            while True:
                try:
                    result = await fleet.hub.ingest(data, received_via="test")
                    assert result.error is None, result.error
                    return
                except AssertionError:
                    raise
                except Exception:
                    assert time.monotonic() < deadline, "the hub never took the letter"
                    await asyncio.sleep(0.5)

    await asyncio.gather(*(one(d) for d in batch.values()))


def assert_delivered_once(fleet: Fleet, batch: dict[str, bytes]) -> None:
    fleet.assert_exactly_once(batch)
    with fleet.hub.store.transaction() as session:
        attempts = session.execute(
            sa.select(AttemptRow.interchange_id, sa.func.count())
            .where(AttemptRow.outcome == "delivered").group_by(AttemptRow.interchange_id)).all()
    assert len(attempts) == len(batch)
    assert {count for _, count in attempts} == {1}


def queue_placement(cluster: RabbitCluster, prefix: str) -> list[dict]:
    alive = next(n for n in cluster.nodes if n.process and n.process.poll() is None)
    out = cluster.ctl(alive, "list_queues", "name", "type", "leader", "members",
                      "--formatter", "json", "--quiet")
    return [q for q in json.loads(out) if q["name"].startswith(prefix)]


async def stream(fleet: Fleet, batch: dict[str, bytes], fault, at: int) -> float:
    """Ingest ``batch`` while two workers deliver; run ``fault()`` once ``at`` files are out.
    Returns how long the fault took."""
    workers = [fleet.start_worker(), fleet.start_worker()]
    ingest = asyncio.create_task(ingest_retrying(fleet, batch))
    deadline = time.monotonic() + 180
    while len(fleet.files()) < at:
        assert time.monotonic() < deadline, fleet.worker_log()[-3000:]
        assert not ingest.done() or ingest.exception() is None, ingest.exception()
        await asyncio.sleep(0.05)
    start = time.monotonic()
    await asyncio.to_thread(fault)
    took = time.monotonic() - start
    await ingest
    delivered = await fleet.wait_files(len(batch), timeout=240)
    assert delivered == len(batch), f"{delivered} of {len(batch)}: {fleet.worker_log()[-3000:]}"
    for worker in workers:  # the workers kept going
        assert worker.poll() is None, fleet.worker_log()[-3000:]
    await asyncio.sleep(1.0)  # anything still in flight would now show as one too many
    return took


async def test_queues_spread_and_a_killed_node_loses_and_duplicates_nothing(
        fleet: Fleet, cluster: RabbitCluster, broker_prefix: str) -> None:
    queues = queue_placement(cluster, broker_prefix)
    assert queues, "medbro declared no queues on the cluster"
    names = {node.name for node in cluster.nodes}
    for queue in queues:
        assert queue["type"] == "quorum"
        assert set(queue["members"]) == names, queue
    leaders = {queue["leader"] for queue in queues}
    assert len(leaders) >= 2, f"every leader on {leaders}"

    victim = cluster.nodes[0]  # every client's first address: they all move
    batch = letters(1000, "NODE")
    took = await stream(fleet, batch, lambda: cluster.kill(victim), at=250)
    assert_delivered_once(fleet, batch)
    moved = {q["name"]: q["leader"] for q in queue_placement(cluster, broker_prefix)}
    assert victim.name not in moved.values()
    print(f"killed {victim.name} after 250 of 1000 files ({took:.1f} s); "
          f"{fleet.worker_log().count('mailbox_file_already_present')} redeliveries found "
          "their file written")


async def test_a_postgresql_restart_mid_stream_loses_and_duplicates_nothing(
        fleet: Fleet, postgres: PgInstance) -> None:
    batch = letters(1000, "PGRS")
    took = await stream(fleet, batch, postgres.restart, at=250)
    assert_delivered_once(fleet, batch)
    print(f"restarted PostgreSQL after 250 of 1000 files ({took:.1f} s)")
