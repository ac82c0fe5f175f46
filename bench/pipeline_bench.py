"""Pipeline throughput: medbro end to end against raw aio-pika, on the same broker, same run.

    .venv/bin/python bench/pipeline_bench.py [-n 2000] [--concurrency 64] [--workers 1]
        [--ingesters 1] [--prefetch 128]

1. **raw**: aio-pika publishes N persistent messages with publisher confirms into a durable
   quorum queue (the queue type medbro uses) and one consumer acks them. This is the ceiling the
   broker sets on this machine.
2. **medbro**: N DIS01 interchanges of the same size go through ``Hub.ingest`` (parse, validate,
   store in PostgreSQL, publish with confirms) while ``Hub.run_worker`` consumes them, records
   the delivery and writes each into the GP's EDI mailbox outbox. Ingests in flight together
   share one transaction (batch_ingest.py); a worker records its prefetched deliveries in one
   transaction (batch_worker.py). ``--ingesters N`` runs N ingest processes (as N mailbox
   watchers or API processes would in production) instead of ingesting in the bench process;
   ``--workers N`` runs N competing worker processes. Each letter is a different patient and
   letter id, written an hour ago (each starts its own SLA clock, as real traffic does).

Both print msgs/s and p50/p99 latency (raw: publish start -> ack; medbro: ingest start -> outbox
file written), then the ratio medbro/raw. Targets (issue 3): >= 1,000 msgs/s end to end on this
2-core machine, ratio >= 0.5. ``--profile FILE`` writes a cProfile of the medbro phase.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import aio_pika

AMQP_URL = os.environ.get("MEDBRO_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
PG_ADMIN_URL = os.environ.get(
    "MEDBRO_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
HOSPITAL, GP = "5790000120420", "5790000128686"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[k]


def report(name: str, n: int, seconds: float, latencies: list[float]) -> float:
    rate = n / seconds
    print(
        f"{name:>7}: {n} msgs in {seconds:6.2f} s = {rate:8.0f} msgs/s   "
        f"latency p50 {percentile(latencies, 50) * 1000:7.1f} ms  "
        f"p99 {percentile(latencies, 99) * 1000:7.1f} ms"
    )
    return rate


# -- raw aio-pika ---------------------------------------------------------------------------


async def raw_run(n: int, size: int, concurrency: int) -> tuple[float, list[float]]:
    connection = await aio_pika.connect_robust(AMQP_URL)
    name = f"medbro-bench-raw-{uuid.uuid4().hex[:8]}"
    try:
        pub = await connection.channel(publisher_confirms=True)
        sub = await connection.channel()
        await sub.set_qos(prefetch_count=concurrency)
        queue = await sub.declare_queue(name, durable=True, arguments={"x-queue-type": "quorum"})
        body = os.urandom(size)
        started: dict[str, float] = {}
        latencies: list[float] = []
        done = asyncio.Event()

        async def on_message(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            await message.ack()
            latencies.append(time.perf_counter() - started[message.message_id])
            if len(latencies) == n:
                done.set()

        await queue.consume(on_message)
        gate = asyncio.Semaphore(concurrency)

        async def publish(i: int) -> None:
            async with gate:
                mid = f"m{i}"
                started[mid] = time.perf_counter()
                await pub.default_exchange.publish(
                    aio_pika.Message(body, message_id=mid,
                                     delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
                    routing_key=name,
                )

        t0 = time.perf_counter()
        await asyncio.gather(*(publish(i) for i in range(n)))
        await asyncio.wait_for(done.wait(), timeout=600)
        elapsed = time.perf_counter() - t0
        await sub.queue_delete(name)
        return elapsed, latencies
    finally:
        await connection.close()


# -- medbro end to end ----------------------------------------------------------------------


def make_letters(n: int, prepared: datetime | None = None) -> list[bytes]:
    """N distinct DIS01 interchanges (distinct patients, letter ids and UNB refs, no receipt
    asked), written an hour ago: each starts its own SLA clock, none is already late."""
    from gateway.demo import discharge_letter

    prepared = prepared or (datetime.now() - timedelta(hours=1)).replace(second=0, microsecond=0)
    out = []
    for i in range(n):
        cpr = f"{1 + i % 28:02d}{1 + (i // 28) % 12:02d}{50 + (i // 336) % 40:02d}{9000 + i % 1000}"
        out.append(discharge_letter(i, sender=HOSPITAL, receiver=GP,
                                    patient=(cpr, "Ærøboe", f"Søren {i}"),
                                    prepared_at=prepared,
                                    ack_requested=False))
    return out


class ScratchDatabase:
    """A PostgreSQL database for this run only, dropped afterwards."""

    def __init__(self) -> None:
        import sqlalchemy as sa

        self.sa = sa
        self.name = f"medbro_bench_{uuid.uuid4().hex[:10]}"
        self.admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with self.admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{self.name}"'))
        self.url = sa.engine.make_url(PG_ADMIN_URL).set(database=self.name).render_as_string(
            hide_password=False)

    def drop(self) -> None:
        with self.admin.connect() as conn:
            conn.execute(self.sa.text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
                {"n": self.name})
            conn.execute(self.sa.text(f'DROP DATABASE IF EXISTS "{self.name}"'))
        self.admin.dispose()


async def start_ingesters(count: int, n: int, concurrency: int, root: Path,
                          env: dict[str, str]) -> list[subprocess.Popen[bytes]]:
    """``count`` ingest processes (each its own Hub: a watcher or API process in production),
    letter i going to process i % count; returns once all are connected and waiting."""
    procs = [subprocess.Popen(
        [sys.executable, __file__, "--ingest-child", str(k), "--ingesters", str(count),
         "-n", str(n), "--concurrency", str(concurrency), "--root", str(root)], env=env)
        for k in range(count)]
    while not all((root / f"ready{k}").exists() for k in range(count)):
        if any(p.poll() is not None for p in procs):
            raise RuntimeError("an ingest process died while starting")
        await asyncio.sleep(0.05)
    return procs


async def run_ingesters(procs: list[subprocess.Popen[bytes]], root: Path,
                        started: dict[str, int]) -> None:
    """Start them together (the clock runs from here) and collect their start times."""
    (root / "go").touch()
    for proc in procs:
        if await asyncio.to_thread(proc.wait) != 0:
            raise RuntimeError(f"ingest process failed: exit {proc.returncode}")
    for k in range(len(procs)):
        started.update(json.loads((root / f"started{k}.json").read_text()))


async def ingest_child(k: int, count: int, n: int, concurrency: int, root: Path) -> int:
    from gateway.pipeline.hub import Hub
    from gateway.settings import Settings

    prepared = datetime.fromisoformat((root / "prepared").read_text())
    mine = [(i, d) for i, d in enumerate(make_letters(n, prepared)) if i % count == k]
    hub = Hub.from_settings(Settings.load())
    await hub.start()
    started: dict[str, int] = {}
    gate = asyncio.Semaphore(concurrency)

    async def one(i: int, data: bytes) -> None:
        async with gate:
            started[f"{HOSPITAL}_KDEMO{i:06d}.edi"] = time.time_ns()
            result = await hub.ingest(data, received_via="bench")
            if result.error:
                raise RuntimeError(result.error)

    try:
        (root / f"ready{k}").touch()
        while not (root / "go").exists():
            await asyncio.sleep(0.005)
        await asyncio.gather(*(one(i, d) for i, d in mine))
    finally:
        await hub.stop()
    (root / f"started{k}.json").write_text(json.dumps(started))
    return 0


async def medbro_run(letters: list[bytes], concurrency: int, workers: int, root: Path,
                     database_url: str, profile: str | None,
                     ingesters: int = 1, prefetch: int = 128) -> tuple[float, list[float]]:
    from gateway.pipeline.hub import Hub
    from gateway.settings import Settings

    outbox = root / "gp-outbox"
    config = root / "partners.toml"
    config.write_text(
        f'[[endpoints]]\ngln = "{HOSPITAL}"\nname = "Hospital"\nkind = "hospital"\n'
        f'channel = {{ kind = "edi_mailbox", outbox = "{root / "hospital-outbox"}" }}\n\n'
        f'[[endpoints]]\ngln = "{GP}"\nname = "GP"\nkind = "gp"\n'
        f'accepts = [{{ type = "DIS01" }}]\n'
        f'channel = {{ kind = "edi_mailbox", outbox = "{outbox}" }}\n', encoding="utf-8")
    prefix = f"medbro-bench-{uuid.uuid4().hex[:8]}"
    settings = Settings.load(database_url=database_url, broker_url=AMQP_URL, config=config,
                             broker_prefix=prefix)
    hub = Hub.from_settings(settings)
    await hub.start()
    env = {**os.environ, "MEDBRO_DATABASE_URL": database_url, "MEDBRO_BROKER_URL": AMQP_URL,
           "MEDBRO_CONFIG": str(config), "MEDBRO_BROKER_PREFIX": prefix,
           "MEDBRO_PREFETCH": str(prefetch)}
    procs = []
    for i in range(workers):
        log = open(root / f"worker{i}.log", "wb")  # noqa: SIM115
        procs.append(subprocess.Popen([sys.executable, "-m", "gateway.cli", "worker"],
                                      env=env, stdout=log, stderr=subprocess.STDOUT))
    started: dict[str, int] = {}
    try:
        await asyncio.sleep(2.0)  # workers connected and consuming
        gate = asyncio.Semaphore(concurrency)
        profiler = cProfile.Profile() if profile else None

        async def one(i: int, data: bytes) -> None:
            async with gate:
                started[f"{HOSPITAL}_KDEMO{i:06d}.edi"] = time.time_ns()
                result = await hub.ingest(data, received_via="bench")
                if result.error:
                    raise RuntimeError(result.error)

        ingest_procs = []
        if ingesters > 1:  # started and connected before the clock starts
            ingest_procs = await start_ingesters(ingesters, len(letters), concurrency, root, env)
        if profiler:
            profiler.enable()
        t0 = time.perf_counter()
        if ingest_procs:
            await run_ingesters(ingest_procs, root, started)
        else:
            await asyncio.gather(*(one(i, d) for i, d in enumerate(letters)))
        ingested = time.perf_counter() - t0
        print(f"  medbro ingest side: {len(letters)} stored + published in {ingested:.2f} s "
              f"= {len(letters) / ingested:.0f} msgs/s")
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            # temp files (".<name>.<token>.tmp") of writes in progress do not count
            done = outbox.is_dir() and sum(
                not n.startswith(".") for n in os.listdir(outbox)) >= len(letters)
            if done:
                break
            await asyncio.sleep(0.01)
        elapsed = time.perf_counter() - t0
        if profiler:
            profiler.disable()
            profiler.dump_stats(profile)
        latencies = []
        for name in os.listdir(outbox):
            if name in started:
                latencies.append((os.stat(outbox / name).st_mtime_ns - started[name]) / 1e9)
        if len(latencies) != len(letters):
            raise RuntimeError(f"only {len(latencies)} of {len(letters)} delivered")
        return elapsed, latencies
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
        await hub.transport.delete(hub.topology)
        await hub.stop()


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=2000, help="messages per phase")
    parser.add_argument("--concurrency", type=int, default=64, help="publishes/ingests in flight")
    parser.add_argument("--workers", type=int, default=1, help="medbro worker processes")
    parser.add_argument("--prefetch", type=int, default=128,
                        help="worker prefetch = the most queue messages one delivery batch holds")
    parser.add_argument("--ingesters", type=int, default=1,
                        help="ingest processes (1: in this process)")
    parser.add_argument("--profile", help="write a cProfile of the medbro ingest side here")
    parser.add_argument("--ingest-child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--root", help=argparse.SUPPRESS)
    args = parser.parse_args()
    import logging

    from gateway.logging import configure

    configure(json=True, level=logging.WARNING)  # the figures, not a log line per message
    if args.ingest_child is not None:
        return await ingest_child(args.ingest_child, args.ingesters, args.n, args.concurrency,
                                  Path(args.root))
    prepared = (datetime.now() - timedelta(hours=1)).replace(second=0, microsecond=0)
    letters = make_letters(args.n, prepared)
    size = len(letters[0])
    print(f"pipeline bench: N={args.n}, {size} byte DIS01 interchanges, "
          f"concurrency {args.concurrency} per ingest process; processes: "
          f"{args.ingesters} ingest ({'in the bench process' if args.ingesters == 1 else 'own'}),"
          f" {args.workers} worker (prefetch {args.prefetch}); "
          f"{os.cpu_count()} CPUs shared with PostgreSQL and RabbitMQ")
    raw_seconds, raw_latency = await raw_run(args.n, size, args.concurrency)
    raw_rate = report("raw", args.n, raw_seconds, raw_latency)

    root = Path(tempfile.mkdtemp(prefix="medbro-bench-"))
    (root / "prepared").write_text(prepared.isoformat())
    database = ScratchDatabase()
    try:
        seconds, latency = await medbro_run(letters, args.concurrency, args.workers, root,
                                            database.url, args.profile, args.ingesters,
                                            args.prefetch)
    finally:
        database.drop()
        shutil.rmtree(root, ignore_errors=True)
    rate = report("medbro", args.n, seconds, latency)
    ratio = rate / raw_rate
    print(f"  ratio: medbro/raw = {ratio:.2f}  "
          f"(targets: >= 1000 msgs/s end to end: {'met' if rate >= 1000 else 'MISSED'}; "
          f"ratio >= 0.5: {'met' if ratio >= 0.5 else 'MISSED'})")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    sys.exit(asyncio.run(main()))
