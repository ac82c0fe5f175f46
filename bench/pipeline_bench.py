"""Pipeline throughput through a real entry, against raw aio-pika, on the same broker, same run.

    .venv/bin/python bench/pipeline_bench.py [-n 2000] [--workers 1] [--ingesters 1]
        [--prefetch 128] [--backlog 50000] [--growth] [--entry mailbox|hub]

Phases (each on a fresh PostgreSQL database and broker prefix, same RabbitMQ):

1. **raw**: aio-pika publishes N persistent messages with publisher confirms into a durable
   quorum queue (the queue type medbro uses) and one consumer acks them: the broker's ceiling.
2. **medbro end to end**: N distinct DIS01 interchanges are dropped at once into the hospital's
   EDI mailbox inbox (renamed in from a staging directory), taken by ``--ingesters`` real
   ``medbro mailbox-watch`` processes (parse, decide, store in PostgreSQL, publish with
   confirms), delivered by ``--workers`` real ``medbro worker`` processes into the GP's outbox.
   The clock runs from the drop to the last outbox file. Latency = drop -> that letter's outbox
   file. Then ``ratio medbro/raw: X.XX`` on a line of its own. ``--entry hub`` instead ingests
   through ``Hub.ingest`` in the bench process (no mailbox; for profiling the core alone).
3. **backlog drain** (``--backlog N``): N letters are taken and stored while no worker runs,
   then the workers start; prints the ingest rate, the drain rate, the extrapolation to a
   national day's 300,000 letters, and the peak RSS (VmHWM) of every medbro process.
4. **store growth** (``--growth``): phase 2 again after the store was filled (by SQL, with the
   rows a delivered and acknowledged letter leaves: interchange, message, audit events, SLA
   discharge and letter) to 10,000 and to 100,000 letters; prints the rate and the medbro
   processes' CPU milliseconds per letter at each size.

Targets (issue 9): >= 1,000 letters/s end to end on this 2-core machine, ratio >= 0.5, a
300,000-letter backlog drained in < 5 minutes, the per-letter cost flat as the store grows.
"""

from __future__ import annotations

import argparse
import asyncio
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
NATIONAL_DAY = 300_000


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


# -- medbro ----------------------------------------------------------------------------------


def make_letters(n: int, prepared: datetime, start: int = 0) -> list[tuple[str, bytes]]:
    """N distinct DIS01 interchanges (distinct patients, letter ids and UNB refs, no receipt
    asked), written an hour ago: each starts its own SLA clock, none is already late. With the
    outbox file name each will have."""
    from gateway.demo import discharge_letter

    out = []
    for i in range(start, start + n):
        cpr = f"{1 + i % 28:02d}{1 + (i // 28) % 12:02d}{50 + (i // 336) % 40:02d}{9000 + i % 1000}"
        data = discharge_letter(i, sender=HOSPITAL, receiver=GP,
                                patient=(cpr, "Ærøboe", f"Søren {i}"), prepared_at=prepared,
                                ack_requested=False)
        out.append((f"{HOSPITAL}_KDEMO{i:06d}.edi", data))
    return out


class ScratchDatabase:
    """A PostgreSQL database for one phase only, dropped afterwards."""

    def __init__(self) -> None:
        import sqlalchemy as sa

        self.sa = sa
        self.name = f"medbro_bench_{uuid.uuid4().hex[:10]}"
        self.admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with self.admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{self.name}"'))
        self.url = sa.engine.make_url(PG_ADMIN_URL).set(database=self.name).render_as_string(
            hide_password=False)

    def scalar(self, sql: str) -> int:
        engine = self.sa.create_engine(self.url)
        try:
            with engine.connect() as conn:
                return int(conn.execute(self.sa.text(sql)).scalar() or 0)
        finally:
            engine.dispose()

    def drop(self) -> None:
        with self.admin.connect() as conn:
            conn.execute(self.sa.text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
                {"n": self.name})
            conn.execute(self.sa.text(f'DROP DATABASE IF EXISTS "{self.name}"'))
        self.admin.dispose()


SEED_SQL = [
    """INSERT INTO interchanges (id, raw, sha256, format, origin, received_via, source,
           sender_gln, receiver_gln, control_ref, ack_requested, status, created_at)
       SELECT 'seed-i-' || g, convert_to('UNB+seed', 'UTF8'), md5(g::text), 'edifact',
              'inbound', 'seed', '', :hospital, :gp, 'S' || g, false, 'processed',
              now() - interval '3 days'
       FROM generate_series(CAST(:a AS integer), CAST(:b AS integer)) g""",
    """INSERT INTO messages (id, interchange_id, format, family, type, version, sender_gln,
           receiver_gln, control_ref, message_ref, letter_id, summary, state, ack_requested,
           resend_count, delivered_at, created_at, updated_at)
       SELECT 'seed-m-' || g, 'seed-i-' || g, 'edifact', 'MEDDIS', 'DIS01', 'D0133L',
              :hospital, :gp, 'S' || g, 'M' || g, 'L' || g, '{}', 'acknowledged', true, 0,
              now() - interval '3 days', now() - interval '3 days', now() - interval '3 days'
       FROM generate_series(CAST(:a AS integer), CAST(:b AS integer)) g""",
    """INSERT INTO audit_events (message_id, interchange_id, at, event, detail)
       SELECT 'seed-m-' || g, 'seed-i-' || g, now() - interval '3 days', e, '{}'
       FROM generate_series(CAST(:a AS integer), CAST(:b AS integer)) g,
            unnest(array['message_received', 'message_route', 'message_deliver',
                         'message_acknowledge']) e""",
    """INSERT INTO sla_discharges (discharge_key, source, hospital, department, discharge_id,
           patient_cpr, discharged_at, discharge_date, month, deadline_1, deadline_3,
           at_risk_at, letter_message_id, letter_received_at, letter_sent_at, letters,
           corrections)
       SELECT 'seed-' || g, 'letter', 'seed', 'seed', '', lpad(g::text, 10, '0'),
              now() - interval '3 days', (now() - interval '3 days')::date, '2026-01',
              now() - interval '2 days', now(), now() - interval '2 days', 'seed-m-' || g,
              now() - interval '3 days', now() - interval '3 days', 1, 0
       FROM generate_series(CAST(:a AS integer), CAST(:b AS integer)) g""",
    """INSERT INTO sla_letters (message_id, discharge_pk, letter_type, letter_id, status,
           sender_id, received_at, delivered_at, acknowledged_at)
       SELECT d.letter_message_id, d.id, 'DIS01', 'L' || d.id, 'N', 'seed', d.discharged_at,
              d.letter_sent_at, d.letter_sent_at
       FROM sla_discharges d WHERE d.discharge_key LIKE 'seed-%'
         AND d.letter_message_id NOT IN (SELECT message_id FROM sla_letters)""",
    "ANALYZE",
]


def seed(database: ScratchDatabase, up_to: int) -> None:
    """Fill the store with ``up_to`` delivered and acknowledged letters (what 3 days of
    traffic leave), then refresh the planner's statistics."""
    import sqlalchemy as sa

    have = database.scalar("SELECT count(*) FROM messages WHERE id LIKE 'seed-m-%'")
    engine = sa.create_engine(database.url)
    try:
        with engine.begin() as conn:
            for sql in SEED_SQL[:-1]:
                conn.execute(sa.text(sql), {"a": have + 1, "b": up_to, "hospital": HOSPITAL,
                                            "gp": GP})
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("ANALYZE"))
    finally:
        engine.dispose()


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far (from /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


class Deployment:
    """medbro as in production, in miniature: mailbox-watch and worker processes on one
    PostgreSQL database, one broker prefix, a hospital inbox and a GP outbox."""

    def __init__(self, root: Path, database: ScratchDatabase, prefetch: int) -> None:
        self.root, self.database = root, database
        self.inbox = root / "hospital" / "inbox"
        self.outbox = root / "gp" / "outbox"
        self.staging = root / "staging"
        for d in (self.inbox, self.outbox, self.staging):
            d.mkdir(parents=True, exist_ok=True)
        self.config = root / "partners.toml"
        self.config.write_text(
            f'[[endpoints]]\ngln = "{HOSPITAL}"\nname = "Hospital"\nkind = "hospital"\n'
            f'channel = {{ kind = "edi_mailbox", directory = "{root / "hospital"}", '
            f'concurrency = 64, poll_interval = 0.05 }}\n\n'
            f'[[endpoints]]\ngln = "{GP}"\nname = "GP"\nkind = "gp"\n'
            f'accepts = [{{ type = "DIS01" }}]\n'
            f'channel = {{ kind = "edi_mailbox", directory = "{root / "gp"}" }}\n',
            encoding="utf-8")
        self.prefix = f"medbro-bench-{uuid.uuid4().hex[:8]}"
        self.env = {**os.environ, "MEDBRO_DATABASE_URL": database.url,
                    "MEDBRO_BROKER_URL": AMQP_URL, "MEDBRO_CONFIG": str(self.config),
                    "MEDBRO_BROKER_PREFIX": self.prefix, "MEDBRO_PREFETCH": str(prefetch)}
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, kind: str, count: int) -> None:
        """``count`` processes of ``medbro <kind>`` (worker | mailbox-watch)."""
        for i in range(count):
            name = f"{kind}-{i}"
            log = open(self.root / f"{name}.log", "wb")  # noqa: SIM115
            self.procs[name] = subprocess.Popen(
                [sys.executable, "-m", "gateway.cli", kind], env=self.env, stdout=log,
                stderr=subprocess.STDOUT)

    async def ready(self, kind: str, word: str) -> None:
        """Wait until every ``kind`` process logged ``word`` (connected, consuming)."""
        deadline = time.monotonic() + 60
        names = [n for n in self.procs if n.startswith(kind)]
        while time.monotonic() < deadline:
            if all(word in (self.root / f"{n}.log").read_text(errors="replace")
                   for n in names):
                await asyncio.sleep(0.5)
                return
            await asyncio.sleep(0.1)
        raise RuntimeError(f"{kind} did not start: see {self.root}")

    def stage(self, letters: list[tuple[str, bytes]]) -> None:
        for name, data in letters:
            (self.staging / name).write_bytes(data)

    def drop(self) -> float:
        """Rename every staged letter into the inbox (as a VANS client does); the drop time."""
        t0 = time.perf_counter()
        for name in os.listdir(self.staging):
            os.rename(self.staging / name, self.inbox / name)
        return t0

    def delivered(self) -> int:
        # temp files (".<name>.<token>.tmp") of writes in progress do not count
        return sum(not n.startswith(".") for n in os.listdir(self.outbox))

    async def wait(self, check, what: str, timeout: float = 1200) -> None:
        deadline = time.monotonic() + timeout
        while not check():
            if time.monotonic() > deadline:
                raise RuntimeError(f"timed out waiting for {what}")
            dead = [n for n, p in self.procs.items() if p.poll() is not None]
            if dead:
                raise RuntimeError(f"{dead} died: see {self.root}")
            await asyncio.sleep(0.02)

    def cpu(self) -> float:
        return sum(cpu_seconds(p.pid) for p in self.procs.values())

    def stop(self) -> dict[str, float]:
        rss = {name: peak_rss_mb(p.pid) for name, p in self.procs.items()}
        for proc in self.procs.values():
            proc.send_signal(signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
        self.procs.clear()
        return rss


def py_spy(dep: Deployment, into: Path) -> list[subprocess.Popen[bytes]]:
    """Sample every medbro process with py-spy (collapsed stacks, one file per process)."""
    exe = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    into.mkdir(parents=True, exist_ok=True)
    return [subprocess.Popen([exe, "record", "-p", str(p.pid), "-o", str(into / f"{n}.txt"),
                              "-f", "raw", "-r", "100", "--nonblocking"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            for n, p in dep.procs.items()]


async def end_to_end(dep: Deployment, letters: list[tuple[str, bytes]], *, workers: int,
                     ingesters: int, start: bool = True,
                     spy: Path | None = None) -> tuple[float, list[float], float]:
    """Drop ``letters`` into the running deployment: (seconds, latencies, medbro CPU s)."""
    if start:
        dep.start("worker", workers)
        dep.start("mailbox-watch", ingesters)
        await dep.ready("worker", "worker_started")
        await dep.ready("mailbox-watch", "hub_started")
    before = dep.delivered()
    dep.stage(letters)
    spies = py_spy(dep, spy) if spy else []
    cpu0 = dep.cpu()
    t0 = dep.drop()
    await dep.wait(lambda: dep.delivered() >= before + len(letters), "the outbox")
    elapsed = time.perf_counter() - t0
    cpu = dep.cpu() - cpu0
    for proc in spies:
        proc.send_signal(signal.SIGINT)
        proc.wait(60)
    names = {name for name, _ in letters}
    latencies = [(os.stat(dep.outbox / n).st_mtime - (time.time() - time.perf_counter() + t0))
                 for n in os.listdir(dep.outbox) if n in names]
    return elapsed, latencies, cpu


async def hub_entry(letters: list[tuple[str, bytes]], dep: Deployment, workers: int,
                    concurrency: int) -> tuple[float, list[float], float]:
    """``--entry hub``: ingest through ``Hub.ingest`` in this process (no mailbox)."""
    from gateway.pipeline.hub import Hub
    from gateway.settings import Settings

    hub = Hub.from_settings(Settings.load(database_url=dep.database.url, broker_url=AMQP_URL,
                                          config=dep.config, broker_prefix=dep.prefix))
    await hub.start()
    dep.start("worker", workers)
    await dep.ready("worker", "worker_started")
    gate = asyncio.Semaphore(concurrency)

    async def one(data: bytes) -> None:
        async with gate:
            result = await hub.ingest(data, received_via="bench")
            if result.error:
                raise RuntimeError(result.error)

    cpu0 = dep.cpu() + cpu_seconds(os.getpid())
    t0 = time.perf_counter()
    await asyncio.gather(*(one(d) for _, d in letters))
    print(f"  medbro ingest side: {len(letters)} stored + published in "
          f"{time.perf_counter() - t0:.2f} s")
    await dep.wait(lambda: dep.delivered() >= len(letters), "the outbox")
    elapsed = time.perf_counter() - t0
    cpu = dep.cpu() + cpu_seconds(os.getpid()) - cpu0
    await hub.stop()
    return elapsed, [elapsed] * len(letters), cpu


async def backlog(n: int, prepared: datetime, workers: int, ingesters: int,
                  prefetch: int) -> None:
    database = ScratchDatabase()
    root = Path(tempfile.mkdtemp(prefix="medbro-bench-"))
    dep = Deployment(root, database, prefetch)
    try:
        print(f"backlog: staging {n} letters ...", flush=True)
        dep.stage(make_letters(n, prepared))
        dep.start("mailbox-watch", ingesters)
        await dep.ready("mailbox-watch", "hub_started")
        t0 = dep.drop()
        await dep.wait(lambda: not os.listdir(dep.inbox) and not os.listdir(
            root / "hospital" / "processing"), "the inbox to empty")
        stored = time.perf_counter() - t0
        routed = database.scalar("SELECT count(*) FROM messages WHERE state = 'routed'")
        print(f"  stored and routed with no worker running: {routed} letters in {stored:.1f} s "
              f"= {routed / stored:.0f} letters/s")
        t1 = time.perf_counter()
        dep.start("worker", workers)
        await dep.wait(lambda: dep.delivered() >= n, "the backlog to drain")
        drained = time.perf_counter() - t1
        rate = n / drained
        print(f"  drained by {workers} worker(s): {n} letters in {drained:.1f} s "
              f"= {rate:.0f} letters/s (worker start-up included)")
        print(f"  a national day ({NATIONAL_DAY:,} letters) drains in "
              f"{NATIONAL_DAY / rate / 60:.1f} min (target < 5 min: "
              f"{'met' if NATIONAL_DAY / rate < 300 else 'MISSED'})")
        for name, mb in dep.stop().items():
            print(f"  peak RSS {name}: {mb:.0f} MB")
    finally:
        dep.stop()
        database.drop()
        shutil.rmtree(root, ignore_errors=True)


async def growth(n: int, prepared: datetime, workers: int, ingesters: int,
                 prefetch: int) -> None:
    database = ScratchDatabase()
    root = Path(tempfile.mkdtemp(prefix="medbro-bench-"))
    dep = Deployment(root, database, prefetch)
    try:
        dep.start("worker", workers)  # migrates the schema
        await dep.ready("worker", "worker_started")
        dep.start("mailbox-watch", ingesters)
        await dep.ready("mailbox-watch", "hub_started")
        start = 0
        for size in (10_000, 100_000):
            seed(database, size)
            letters = make_letters(n, prepared, start=100_000 + start)
            start += n
            seconds, _, cpu = await end_to_end(dep, letters, workers=workers,
                                               ingesters=ingesters, start=False)
            print(f"  store of {size:>7,} letters: {n} more in {seconds:5.2f} s = "
                  f"{n / seconds:5.0f} letters/s, medbro CPU {cpu / n * 1000:.2f} ms/letter",
                  flush=True)
    finally:
        dep.stop()
        database.drop()
        shutil.rmtree(root, ignore_errors=True)


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=2000, help="letters per end-to-end phase")
    parser.add_argument("--concurrency", type=int, default=64,
                        help="raw publishes in flight (and --entry hub ingests)")
    parser.add_argument("--workers", type=int, default=1, help="medbro worker processes")
    parser.add_argument("--prefetch", type=int, default=128,
                        help="worker prefetch = the most queue messages one delivery batch holds")
    parser.add_argument("--ingesters", type=int, default=1,
                        help="medbro mailbox-watch processes")
    parser.add_argument("--entry", choices=("mailbox", "hub"), default="mailbox")
    parser.add_argument("--backlog", type=int, default=0, help="backlog drain phase: letters")
    parser.add_argument("--growth", action="store_true", help="per-letter cost at 10k/100k")
    parser.add_argument("--skip-e2e", action="store_true", help="only the phases asked for")
    parser.add_argument("--py-spy", type=Path, help="sample the end-to-end phase's processes "
                        "with py-spy into this directory")
    args = parser.parse_args()
    prepared = (datetime.now() - timedelta(hours=1)).replace(second=0, microsecond=0)
    letters = make_letters(args.n, prepared)
    size = len(letters[0][1])
    print(f"pipeline bench: N={args.n}, {size} byte DIS01 interchanges; entry {args.entry}; "
          f"processes: {args.ingesters} mailbox-watch, {args.workers} worker (prefetch "
          f"{args.prefetch}); {os.cpu_count()} CPUs shared with PostgreSQL and RabbitMQ; "
          f"load {os.getloadavg()[0]:.2f}")
    if not args.skip_e2e:
        raw_seconds, raw_latency = await raw_run(args.n, size, args.concurrency)
        raw_rate = report("raw", args.n, raw_seconds, raw_latency)
        database = ScratchDatabase()
        root = Path(tempfile.mkdtemp(prefix="medbro-bench-"))
        dep = Deployment(root, database, args.prefetch)
        try:
            if args.entry == "hub":
                seconds, latency, cpu = await hub_entry(letters, dep, args.workers,
                                                        args.concurrency)
            else:
                seconds, latency, cpu = await end_to_end(dep, letters, workers=args.workers,
                                                         ingesters=args.ingesters, spy=args.py_spy)
        finally:
            dep.stop()
            database.drop()
            shutil.rmtree(root, ignore_errors=True)
        rate = report("medbro", args.n, seconds, latency)
        print(f"  medbro processes' CPU: {cpu / args.n * 1000:.2f} ms per letter")
        ratio = rate / raw_rate
        print(f"ratio medbro/raw: {ratio:.2f}")
        print(f"  targets: >= 1000 letters/s end to end: {'met' if rate >= 1000 else 'MISSED'}; "
              f"ratio >= 0.5: {'met' if ratio >= 0.5 else 'MISSED'}")
    if args.backlog:
        await backlog(args.backlog, prepared, args.workers, args.ingesters, args.prefetch)
    if args.growth:
        await growth(args.n, prepared, args.workers, args.ingesters, args.prefetch)
    print(f"load at the end: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    sys.exit(asyncio.run(main()))
