"""SIGTERM is honoured within 10 s whatever the broker's state, and nothing is lost.

A real ``medbro worker`` reaches the machine's RabbitMQ through a TCP proxy (tests/tcp_proxy.py)
that the test cuts: for the worker the broker is gone, for everyone else it keeps running.
Before the fix the worker sat out its 30 s connect patience while starting, and a stop while
the broker was away waited on broker calls and publish retries for over a minute.
"""

from __future__ import annotations

import contextlib
import signal
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from databases import fresh_postgres_database
from tcp_proxy import TcpProxy
from worker_processes import Fleet, letters, partners, worker_env

from gateway.pipeline.hub import Hub
from gateway.settings import Settings

pytestmark = [pytest.mark.slow, pytest.mark.rabbitmq, pytest.mark.postgres]

HONOURED_WITHIN = 10.0


def stop_within(proc: subprocess.Popen, seconds: float) -> float:
    """SIGTERM ``proc``; how long it took to exit (fails after ``seconds``)."""
    start = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)
        raise AssertionError(f"the worker ignored SIGTERM for {seconds} s") from None
    return time.monotonic() - start


@pytest.fixture
def database(postgres_url: str) -> Iterator[str]:
    yield from fresh_postgres_database("medbro_sigterm")


@pytest.fixture
def proxy(amqp_url: str) -> Iterator[TcpProxy]:
    proxy = TcpProxy(int(amqp_url.rsplit(":", 1)[1].split("/")[0]))
    yield proxy
    proxy.close()


@pytest.fixture
async def fleet(tmp_path: Path, amqp_url: str, broker_prefix: str, database: str,
                proxy: TcpProxy) -> AsyncIterator[Fleet]:
    config = tmp_path / "partners.toml"
    config.write_text(partners(tmp_path / "mailboxes"), encoding="utf-8")
    hub = Hub.from_settings(Settings.load(database_url=database, broker_url=amqp_url,
                                          config=config, broker_prefix=broker_prefix))
    await hub.start()
    env = worker_env(database_url=database, config=config, prefix=broker_prefix,
                     broker_url=f"amqp://guest:guest@127.0.0.1:{proxy.port}/")
    fleet = Fleet(tmp_path, hub, env)
    try:
        yield fleet
    finally:
        fleet.stop_workers()
        with contextlib.suppress(Exception):
            await hub.transport.delete(hub.topology)
        await hub.stop()


async def test_sigterm_while_the_broker_is_away_at_start(fleet: Fleet, proxy: TcpProxy) -> None:
    proxy.cut()
    worker = fleet.start_worker()
    deadline = time.monotonic() + 60
    while "broker_unreachable" not in fleet.worker_log():  # connecting, retrying
        assert worker.poll() is None and time.monotonic() < deadline, fleet.worker_log()[-2000:]
        time.sleep(0.1)
    took = stop_within(worker, HONOURED_WITHIN)
    print(f"stopped {took:.1f} s after SIGTERM while connecting")
    assert worker.returncode == 0, fleet.worker_log()[-2000:]


async def test_sigterm_mid_stream_while_the_broker_is_away_loses_nothing(
        fleet: Fleet, proxy: TcpProxy) -> None:
    batch = letters(300, "TERM")
    await fleet.ingest_all(batch)  # stored and queued before the worker starts
    worker = fleet.start_worker()
    assert await fleet.wait_files(40, timeout=60) >= 40, fleet.worker_log()[-3000:]
    proxy.cut()  # the broker goes away in the middle of the stream
    time.sleep(1.0)
    took = stop_within(worker, HONOURED_WITHIN)
    at_stop = len(fleet.files())
    print(f"stopped {took:.1f} s after SIGTERM with the broker away, {at_stop} delivered")
    assert at_stop < len(batch), "the stop must come mid-stream"
    proxy.restore()
    fleet.start_worker()
    assert await fleet.wait_files(len(batch), timeout=120) == len(batch), \
        fleet.worker_log()[-3000:]
    time.sleep(1.0)  # anything still in flight would now show as one file too many
    fleet.assert_exactly_once(batch)
