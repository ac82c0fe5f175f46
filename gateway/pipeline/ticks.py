"""What the worker's scanner does besides receipts: the SLA sweep and the backlog gauges.

Without traffic nothing else would notice that a discharge's letter is late: the sweep
(``gateway.sla.alerts.sweep``) raises at-risk and breach escalations for every open discharge,
also those whose letter never reached medbro. It runs every ``sla_sweep_interval_seconds``
(at most as often as the scanner ticks); several workers sweeping at once is harmless (one
SLA task per discharge and kind, a unique constraint). The same tick sets the store-derived
gauges (backlog: metering.py; parked, tasks, letters: gateway/operations/gauges.py; every
scrape sets them too), and the rehabilitation case flow's
deadline gauge (``medbro_case_deadlines``), which the alert rules watch so a caseworker's
deadline is alerted before it is missed without anyone running ``medbro case alert``.
"""

from __future__ import annotations

import os
from collections import Counter
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from gateway import metrics
from gateway.logging import get_logger
from gateway.pipeline import metering
from gateway.pipeline.context import Pipeline

log = get_logger(__name__)


def sweep_interval(ctx: Pipeline) -> float:
    return float(getattr(ctx.settings, "sla_sweep_interval_seconds", 60.0))


def _sweep(ctx: Pipeline, now: datetime) -> list[Any]:
    from gateway.sla import alerts, hooks

    with ctx.store.transaction() as session:
        return alerts.sweep(session, now, hooks.current_config())


def _gauges(ctx: Pipeline, now: datetime) -> None:
    from gateway.operations import gauges

    with ctx.store.transaction() as session:
        metering.refresh_backlog(session, endpoint_labels(ctx), now)
        gauges.refresh(session, endpoint_labels(ctx), now)


def case_deadline_counts(ctx: Pipeline, now: datetime) -> Counter[tuple[str, str]]:
    """(municipality, status) -> how many open cases' deadlines need action at ``now``."""
    from gateway.caseflow.config import ENV, CaseflowConfig
    from gateway.caseflow.service import CaseService
    from gateway.db import session_factory

    path = os.environ.get(ENV)
    policies = CaseflowConfig.load(path).policies if path else None
    service = CaseService(session_factory(ctx.store.engine), policies=policies)
    if now.tzinfo is not None:  # the case flow counts in naive Danish local time
        now = now.astimezone(ZoneInfo("Europe/Copenhagen")).replace(tzinfo=None)
    counts: Counter[tuple[str, str]] = Counter()
    for case in service.at_risk(None, now=now):
        for deadline in case["deadlines"]:
            counts[(case["municipality"], deadline["status"])] += 1
        if case["postponement_advised"]:
            counts[(case["municipality"], "postponement_advised")] += 1
    return counts


def _case_gauges(ctx: Pipeline, now: datetime) -> None:
    counts = case_deadline_counts(ctx, now)
    metrics.CASE_DEADLINES.clear()
    for (municipality, status), n in counts.items():
        metrics.CASE_DEADLINES.labels(municipality=municipality, status=status).set(n)


def endpoint_labels(ctx: Pipeline) -> dict[str, str]:
    """The ``endpoint`` label of every configured endpoint: its GLN (stable and bounded)."""
    return {ep.gln: ep.gln for ep in ctx.registry.endpoints}


async def tick(ctx: Pipeline) -> int:
    """One SLA sweep and gauge refresh; the number of new escalations."""
    now = ctx.clock()
    raised = await ctx.db(_sweep, ctx, now)
    if raised:
        log.info("sla_sweep_escalated", count=len(raised))
    await ctx.db(_gauges, ctx, now)
    await ctx.db(_case_gauges, ctx, now)
    return len(raised)


def scrape_hook(ctx: Pipeline) -> Any:
    """For ``metrics.on_scrape``: every store-derived gauge (backlog, parked messages, open
    tasks, letters at risk) from the store at scrape time, in whichever process serves
    ``/metrics`` (``medbro api``, and ``medbro worker`` / ``mailbox-watch`` with a metrics
    port)."""

    def refresh() -> None:
        _gauges(ctx, ctx.clock())

    return refresh


__all__ = ["case_deadline_counts", "endpoint_labels", "scrape_hook", "sweep_interval", "tick"]
