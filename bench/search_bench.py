"""``GET /v1/messages`` on a large PostgreSQL store, through a real ``medbro api`` process.

    .venv/bin/python bench/search_bench.py [--messages 1000000] [--calls 20]

1. A fresh PostgreSQL database is migrated and filled by server-side ``generate_series`` with
   ``--messages`` stored messages (and their interchanges): 50 senders, 2,000 receivers, six
   letter types, 0.5 % parked, 200,000 patients (each message carries its patient key, as
   ingest writes it), one message every 20 seconds; then ANALYZE.
2. ``medbro api`` starts on it (subprocess, in-memory broker) with a partner file giving an
   operator-kind organisation key (it sees everything).
3. For each filter (state=parked, receiver, sender, type, patient, letter_id, unb_ref,
   since/until, and the second page of state=parked through its cursor) ``--calls`` requests
   are timed over HTTP: median and p95, printed against two baselines measured in the same
   run through the same process: ``GET /healthz`` and the unfiltered first page. Each line
   also names the index PostgreSQL's EXPLAIN chooses for that filter's query.

Target (the issue): every filter answers in well under a second on 1,000,000 messages.
tests/operations/test_search_indexes.py checks the chosen indexes on a smaller store with
the same ``seed`` and ``plan_indexes``.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

PG_ADMIN_URL = os.environ.get(
    "MEDBRO_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
OPERATOR_KEY = "search-bench-operator-key"
START = datetime(2026, 1, 1, tzinfo=UTC)
STEP = timedelta(seconds=20)  # one message every 20 seconds
PATIENTS = 200_000
CHUNK = 100_000


def sender(g: int) -> str:
    return f"57900001{g % 50:05d}"


def receiver(g: int) -> str:
    return f"57900002{g % 2000:05d}"


def patient(g: int) -> str:
    return str(1_000_000_000 + g % PATIENTS)  # ten digits: a CPR as the filter takes it


def created_at(g: int) -> datetime:
    return START + g * STEP


SEED_SQL = [
    """INSERT INTO interchanges (id, raw, sha256, format, origin, received_via, source,
           sender_gln, receiver_gln, control_ref, ack_requested, status, created_at)
       SELECT 'i-' || lpad(g::text, 9, '0'), convert_to('UNB+seed', 'UTF8'), md5(g::text),
              'edifact', 'inbound', 'seed', '', '57900001' || lpad((g % 50)::text, 5, '0'),
              '57900002' || lpad((g % 2000)::text, 5, '0'), 'K' || g, false, 'processed',
              CAST(:start AS timestamp) + g * interval '20 seconds'
       FROM generate_series(CAST(:a AS integer), CAST(:b AS integer)) g""",
    """INSERT INTO messages (id, interchange_id, format, family, type, version, sender_gln,
           receiver_gln, control_ref, message_ref, letter_id, summary, patient_key, state,
           ack_requested, resend_count, delivered_at, created_at, updated_at)
       SELECT 'm-' || lpad(g::text, 9, '0'), 'i-' || lpad(g::text, 9, '0'), 'edifact',
              'MEDDIS', (ARRAY['DIS01','DIS01','DIS01','REF01','RES01','DIS91'])[1 + g % 6],
              'D0133L', '57900001' || lpad((g % 50)::text, 5, '0'),
              '57900002' || lpad((g % 2000)::text, 5, '0'), 'K' || g, 'M' || g, 'L' || g,
              '{}', encode(sha256(decode(:domain, 'hex')
                                  || convert_to((1000000000 + g % :patients)::text, 'UTF8')),
                           'hex'),
              CASE WHEN g % 200 = 0 THEN 'parked' WHEN g % 7 = 0 THEN 'delivered'
                   ELSE 'acknowledged' END,
              false, 0, CAST(:start AS timestamp) + g * interval '20 seconds',
              CAST(:start AS timestamp) + g * interval '20 seconds',
              CAST(:start AS timestamp) + g * interval '20 seconds'
       FROM generate_series(CAST(:a AS integer), CAST(:b AS integer)) g""",
]


def seed(engine: sa.Engine, n: int, *, progress: bool = False) -> None:
    """Store ``n`` messages (1..n) by SQL, ``CHUNK`` per transaction; then ANALYZE."""
    from gateway.store.patient_key import DOMAIN

    for a in range(1, n + 1, CHUNK):
        b = min(n, a + CHUNK - 1)
        with engine.begin() as conn:
            for sql in SEED_SQL:
                conn.execute(sa.text(sql), {"a": a, "b": b, "domain": DOMAIN.hex(),
                                            "patients": PATIENTS,
                                            "start": START.replace(tzinfo=None)})
        if progress:
            print(f"  seeded {b:,} messages", flush=True)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("ANALYZE"))


def cases(n: int) -> dict[str, dict[str, str]]:
    """Each filter of the bench, as query parameters, with values that exist in the seed."""
    middle = created_at(n // 2)
    return {
        "state=parked": {"state": "parked"},
        "receiver": {"receiver": receiver(n // 3)},
        "sender": {"sender": sender(n // 3)},
        "type": {"type": "REF01"},
        "patient": {"patient": patient(n // 2)},
        "letter_id": {"letter_id": f"L{n // 3}"},
        "unb_ref": {"unb_ref": f"K{n // 7}"},
        "since/until": {"since": (middle - timedelta(hours=1)).isoformat(),
                        "until": (middle + timedelta(hours=1)).isoformat()},
    }


def _index_names(node: dict[str, Any]) -> list[str]:
    names = [node["Index Name"]] if "Index Name" in node else []
    for child in node.get("Plans", ()):
        names += _index_names(child)
    return names


def explain(conn: sa.Connection, params: dict[str, str], cursor: str | None = None,
            options: str = "") -> list[Any]:
    """EXPLAIN of the search's own page query for ``params`` (as the API runs it)."""
    from gateway.operations import search

    stmt = search.page_query(search.Filter.parse(params), glns=None,
                             limit=search.DEFAULT_LIMIT, cursor=cursor)
    compiled = stmt.compile(dialect=conn.dialect)
    binds = {k: (v.astimezone(UTC).replace(tzinfo=None) if isinstance(v, datetime) else v)
             for k, v in compiled.params.items()}  # stored as naive UTC (UTCDateTime)
    return [r[0] for r in conn.exec_driver_sql(f"EXPLAIN {options} {compiled}", binds)]


def plan_indexes(conn: sa.Connection, params: dict[str, str],
                 cursor: str | None = None) -> tuple[list[str], str]:
    """The indexes EXPLAIN chooses for a search, and the plan's top node type."""
    (plan,) = explain(conn, params, cursor, "(FORMAT JSON)")
    top = plan[0]["Plan"]
    return _index_names(top), top["Node Type"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def partner_file(root: Path) -> Path:
    from gateway.registry import hash_api_key

    path = root / "partners.toml"
    path.write_text(f'[[organisations]]\nname = "Drift"\nkind = "operator"\n'
                    f'api_key_sha256 = ["{hash_api_key(OPERATOR_KEY)}"]\n', encoding="utf-8")
    return path


def timed(client: Any, path: str, params: dict[str, str], calls: int) -> list[float]:
    """Milliseconds of ``calls`` GETs (after two warm-up calls); each must answer 200."""
    out = []
    for i in range(calls + 2):
        t0 = time.perf_counter()
        r = client.get(path, params=params)
        elapsed = (time.perf_counter() - t0) * 1000
        if r.status_code != 200:
            raise RuntimeError(f"GET {path} {params}: {r.status_code} {r.text[:300]}")
        if i >= 2:
            out.append(elapsed)
    return out


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def main() -> None:
    import httpx

    from gateway.migrations import upgrade

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--messages", type=int, default=1_000_000)
    ap.add_argument("--calls", type=int, default=20)
    args = ap.parse_args()

    name = f"medbro_search_bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.engine.make_url(PG_ADMIN_URL).set(database=name).render_as_string(
        hide_password=False)
    root = Path(tempfile.mkdtemp(prefix="medbro-search-bench-"))
    proc = None
    try:
        upgrade(url)
        engine = sa.create_engine(url)
        t0 = time.perf_counter()
        print(f"seeding {args.messages:,} messages into {name}", flush=True)
        seed(engine, args.messages, progress=True)
        print(f"seeded in {time.perf_counter() - t0:.1f} s", flush=True)
        port = free_port()
        env = {**os.environ, "MEDBRO_DATABASE_URL": url, "MEDBRO_BROKER_URL": "memory://",
               "MEDBRO_CONFIG": str(partner_file(root))}
        log = open(root / "api.log", "wb")  # noqa: SIM115
        proc = subprocess.Popen([sys.executable, "-m", "gateway.cli", "api", "--host",
                                 "127.0.0.1", "--port", str(port)], env=env, stdout=log,
                                stderr=subprocess.STDOUT)
        client = httpx.Client(base_url=f"http://127.0.0.1:{port}",
                              headers={"X-API-Key": OPERATOR_KEY}, timeout=30)
        deadline = time.monotonic() + 60
        while True:
            try:
                if client.get("/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"medbro api did not start: see {root / 'api.log'}")
            time.sleep(0.2)

        rows: list[tuple[str, list[float], str]] = []
        health = timed(client, "/healthz", {}, args.calls)
        first = timed(client, "/v1/messages", {}, args.calls)
        with engine.connect() as conn:
            plan, _ = plan_indexes(conn, {})
            rows.append(("(no filter, first page)", first, ",".join(plan) or "-"))
            for label, params in cases(args.messages).items():
                found = client.get("/v1/messages", params=params).json()["items"]
                if not found:
                    raise RuntimeError(f"{label}: the seed has no match for {params}")
                plan, node = plan_indexes(conn, params)
                rows.append((label, timed(client, "/v1/messages", params, args.calls),
                             ",".join(plan) or node))
            parked = {"state": "parked"}
            cursor = client.get("/v1/messages", params=parked).json()["next"]
            plan, node = plan_indexes(conn, parked, cursor)
            rows.append(("state=parked, page 2 (cursor)",
                         timed(client, "/v1/messages", {**parked, "cursor": cursor},
                               args.calls), ",".join(plan) or node))
        engine.dispose()

        base = statistics.median(health)
        unfiltered = statistics.median(first)
        print(f"\nGET /v1/messages on {args.messages:,} messages, PostgreSQL, "
              f"{args.calls} calls each (ms)")
        print(f"baseline GET /healthz: median {base:.1f}  p95 {p95(health):.1f}")
        print(f"{'filter':<32}{'median':>8}{'p95':>8}{'x healthz':>11}{'x first page':>14}"
              f"  index (EXPLAIN)")
        for label, times, plan in rows:
            med = statistics.median(times)
            print(f"{label:<32}{med:>8.1f}{p95(times):>8.1f}{med / base:>11.1f}"
                  f"{med / unfiltered:>14.2f}  {plan}")
        slowest = max(p95(t) for _, t, _ in rows)
        print(f"\nslowest p95: {slowest:.1f} ms ({'ok' if slowest < 1000 else 'OVER'} "
              "the one-second target)")
        print(json.dumps({label: round(statistics.median(t), 1) for label, t, _ in rows}))
    finally:
        if proc is not None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
        with admin.connect() as conn:
            conn.execute(sa.text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
                {"n": name})
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


if __name__ == "__main__":
    main()
