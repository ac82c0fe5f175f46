"""The worker's tick exports the case flow's deadlines as ``medbro_case_deadlines``, so the
alert rules fire for a GP who does not answer without anyone running ``medbro case alert``."""

from __future__ import annotations

from datetime import datetime
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from gateway import metrics
from gateway.db import create_engine
from gateway.pipeline import ticks

from .scenario import create, lae261, new_ref


def t(month: int, day: int) -> datetime:
    return datetime(2026, month, day, 12, 0)


def _gauge(municipality: str, status: str) -> float | None:
    return metrics.REGISTRY.get_sample_value(
        "medbro_case_deadlines", {"municipality": municipality, "status": status})


def test_tick_exports_due_soon_then_missed_for_an_unanswered_lae261(service, database_url):
    engine = create_engine(database_url)
    ctx = SimpleNamespace(store=SimpleNamespace(engine=engine))
    # the worker's clock is aware UTC; 1 April 22:30 UTC is 2 April 00:30 in Copenhagen
    moments = [t(3, 20), t(3, 30), datetime(2026, 4, 1, 22, 30, tzinfo=ZoneInfo("UTC"))]
    try:
        # PostgreSQL's test database is shared: count what this case adds to the others
        before = [ticks.case_deadline_counts(ctx, now) for now in moments]
        ref = new_ref()
        create(service, ref, t(3, 2))
        service.send_form(ref, lae261(ref, t(3, 2)), now=t(3, 2))  # LÆ 265 due 1 April
        after = [ticks.case_deadline_counts(ctx, now) for now in moments]
        added = [a - b for a, b in zip(after, before, strict=True)]
        assert added[0] == {}  # 20 March: nothing due yet
        assert added[1] == {("101", "due_soon"): 1}  # 30 March: warned
        assert added[2] == {("101", "missed"): 1}  # 2 April local: missed
        ticks._case_gauges(ctx, moments[2])
        assert _gauge("101", "missed") == after[2][("101", "missed")]
    finally:
        engine.dispose()
