"""What the worker's scanner does besides receipts: the SLA sweep and the backlog gauges.

Without traffic nothing else would notice that a discharge's letter is late: the sweep
(``gateway.sla.alerts.sweep``) raises at-risk and breach escalations for every open discharge,
also those whose letter never reached medbro. It runs every ``sla_sweep_interval_seconds``
(at most as often as the scanner ticks); several workers sweeping at once is harmless (one
SLA task per discharge and kind, a unique constraint). The same tick sets the queue-depth and
oldest-message gauges from the store (metering.py).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

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
    with ctx.store.transaction() as session:
        metering.refresh_backlog(session, endpoint_labels(ctx), now)


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
    return len(raised)


def scrape_hook(ctx: Pipeline) -> Any:
    """For ``metrics.on_scrape``: the backlog gauges from the store at scrape time."""

    def refresh() -> None:
        _gauges(ctx, ctx.clock())

    return refresh


__all__ = ["endpoint_labels", "scrape_hook", "sweep_interval", "tick"]
