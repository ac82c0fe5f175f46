"""Benchmark: the region's SLA report over a synthetic region-year, from the store.

Builds 420,000 discharges (one region, one year: ~1,150 a day with weekday peaks, 10 hospitals
x 8 departments, ~90 % with a letter) with their precomputed deadline columns, loads them into
a fresh SQLite file and a fresh PostgreSQL database (created and dropped here), and times

* ``store_report``: the SQL GROUP BY over hospital, department, month (the product path);
* the baseline in the same run: the naive Python aggregation -- load every row through the ORM
  and compute both deadlines per row with the calendar (no cache), then count in Python.

Both must give the same table; the report prints best-of-N wall times. Target: < 1 s each.

    .venv/bin/python bench/sla_bench.py [--rows 420000] [--repeat 5] [--skip-postgres]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import insert, select

from gateway.db import create_engine, session_factory
from gateway.migrations import upgrade
from gateway.sla.config import SlaConfig
from gateway.sla.deadlines import as_local, deadline, from_utc_naive
from gateway.sla.report import Figures, Report
from gateway.sla.state import clock_for
from gateway.sla.store_report import store_report
from gateway.sla.tables import Discharge

PG_ADMIN_URL = os.environ.get(
    "MEDBRO_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
CONFIG = SlaConfig()
COLUMNS = (
    "discharge_key", "source", "hospital", "department", "discharge_id", "patient_cpr",
    "discharged_at", "discharge_date", "month", "deadline_1", "deadline_3", "at_risk_at",
    "letter_sent_at", "letters", "corrections",
)  # fmt: skip


@lru_cache(maxsize=512)
def _clock(day: date):  # noqa: ANN202 - the deadlines of a day: independent of the hour
    return clock_for(datetime.combine(day, datetime.min.time()), CONFIG)


def synthetic_year(rows: int, seed: int = 2025) -> list[dict]:
    """``rows`` discharges over 2025 with weekday peaks and realistic letter delays."""
    rng = random.Random(seed)
    days = [date(2025, 1, 1) + timedelta(days=i) for i in range(365)]
    weights = [1.3 if d.weekday() < 5 else 0.45 for d in days]
    hospitals = [f"13{i:02d}" for i in range(10)]
    out = []
    for n, day in enumerate(rng.choices(days, weights, k=rows)):
        hospital = rng.choice(hospitals)
        local = datetime.combine(day, datetime.min.time()) + timedelta(
            minutes=rng.randrange(7 * 60, 22 * 60)
        )
        clock = clock_for(local, CONFIG)
        day_clock = _clock(day)
        roll = rng.random()
        if roll < 0.10:
            sent = None
        else:
            hours = rng.choice([2, 5, 20, 30, 50, 70, 100, 200]) * rng.uniform(0.5, 1.5)
            sent = clock.discharged_at + timedelta(hours=hours)
        out.append(
            {
                "discharge_key": f"{hospital}/{n}",
                "source": "import",
                "hospital": hospital,
                "department": f"{hospital}{rng.randrange(8):03d}",
                "discharge_id": str(n),
                "patient_cpr": "",
                "discharged_at": clock.discharged_at,
                "discharge_date": clock.discharge_date,
                "month": clock.month,
                "deadline_1": day_clock.deadline_1,
                "deadline_3": day_clock.deadline_3,
                "at_risk_at": day_clock.at_risk_at,
                "letter_sent_at": sent,
                "letters": 0 if sent is None else 1,
                "corrections": 0,
            }
        )
    return out


def load(url: str, rows: list[dict]) -> float:
    """Migrate and bulk-load; COPY on PostgreSQL, executemany on SQLite. Returns seconds."""
    upgrade(url)
    engine = create_engine(url)
    started = time.perf_counter()
    if engine.dialect.name == "postgresql":
        raw = engine.raw_connection()
        try:
            cur = raw.cursor()
            with cur.copy(f"COPY sla_discharges ({', '.join(COLUMNS)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row([row[c] for c in COLUMNS])
            raw.commit()
        finally:
            raw.close()
    else:
        with engine.begin() as conn:
            for start in range(0, len(rows), 20000):
                conn.execute(insert(Discharge), rows[start : start + 20000])
    with engine.begin() as conn:
        conn.execute(sa.text("ANALYZE"))
    engine.dispose()
    return time.perf_counter() - started


def naive_report(session) -> Report:  # noqa: ANN001
    """The baseline: every row through the ORM, deadlines recomputed per row, Python counting."""
    report = Report(("hospital", "department", "month"))
    for row in session.scalars(select(Discharge)):
        discharged = from_utc_naive(row.discharged_at)
        figures = Figures(discharges=1)
        if row.letter_sent_at is not None:
            sent = from_utc_naive(row.letter_sent_at)
            figures.with_letter = 1
            figures.within_3_workdays = int(sent <= deadline(discharged, 3, CONFIG.calendar))
            figures.within_1_workday = int(sent <= deadline(discharged, 1, CONFIG.calendar))
        key = (row.hospital, row.department, as_local(discharged).strftime("%Y-%m"))
        report.total.add(figures)
        report.groups.setdefault(key, Figures()).add(figures)
    return report


def best_of(repeat: int, fn: Callable[[], Report]) -> tuple[float, Report]:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return min(times), result  # type: ignore[return-value]


def run(url: str, label: str, rows: list[dict], repeat: int) -> None:
    load_s = load(url, rows)
    engine = create_engine(url)
    sessions = session_factory(engine)
    with sessions() as s:
        sql_s, sql = best_of(repeat, lambda: store_report(s))
        month_s, _ = best_of(repeat, lambda: store_report(s, ("month",)))
        total_s, _ = best_of(repeat, lambda: store_report(s, ()))
        naive_s, naive = best_of(1, lambda: naive_report(s))
    engine.dispose()
    agree = sql.as_dict() == naive.as_dict()
    t = sql.total
    print(f"\n== {label}: {len(rows):,} discharges (load {load_s:.1f} s)")
    groups = len(sql.groups)
    print(f"  store_report hospital,department,month  {sql_s * 1000:8.1f} ms  ({groups} groups)")
    print(f"  store_report month                      {month_s * 1000:8.1f} ms")
    print(f"  store_report total only                 {total_s * 1000:8.1f} ms")
    ratio = naive_s / sql_s
    print(f"  baseline: naive Python aggregation      {naive_s * 1000:8.1f} ms  (x{ratio:.0f})")
    print(f"  figures agree with the baseline: {agree}")
    print(
        f"  a={t.discharges:,} b={t.with_letter:,} c={t.within_3_workdays:,} "
        f"d={t.within_1_workday:,}  b/a={t.as_dict()['pct_with_letter']} % "
        f"c/a={t.as_dict()['pct_within_3_workdays']} % d/a={t.as_dict()['pct_within_1_workday']} %"
    )
    print(f"  target < 1 s: {'met' if sql_s < 1 else 'MISSED'}")
    if not agree:
        sys.exit("SQL report and baseline disagree")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=420_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()

    started = time.perf_counter()
    rows = synthetic_year(args.rows)
    print(
        f"synthetic region-year: {len(rows):,} discharges in {time.perf_counter() - started:.1f} s"
    )

    with tempfile.TemporaryDirectory() as tmp:
        run(f"sqlite:///{Path(tmp) / 'sla_bench.db'}", "SQLite", rows, args.repeat)

    if args.skip_postgres:
        return
    name = f"medbro_bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError as exc:
        print(f"\n== PostgreSQL: skipped ({exc.orig})")
        return
    url = sa.engine.make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    try:
        run(url, "PostgreSQL", rows, args.repeat)
    finally:
        with admin.connect() as conn:
            conn.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"
                ),
                {"n": name},
            )
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


if __name__ == "__main__":
    main()
