"""Every Prometheus metric medbro exports, on one registry, rendered by ``/metrics``.

The objects live here so the pipeline, the API and the SLA code update the same series and the
alert rules (deploy/prometheus/medbro-rules.yml) have one place to look the names up. Label
values are bounded sets (letter types, states, endpoint names, hospitals, targets): never a
message id or a patient.
"""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

from gateway.logging import get_logger

log = get_logger(__name__)
REGISTRY = CollectorRegistry(auto_describe=True)

MESSAGES = Counter(
    "medbro_messages_total",
    "Messages that reached a lifecycle state, by MedCom type (DIS01, CTL03, ...) and state "
    "(received, stored, routed, delivered, acknowledged, rejected, parked).",
    ["type", "state"],
    registry=REGISTRY,
)
DELIVERY_LATENCY = Histogram(
    "medbro_delivery_latency_seconds",
    "From reception to delivery to the receiver's channel, by MedCom type.",
    ["type"],
    buckets=(1, 5, 15, 60, 300, 900, 3600, 4 * 3600, 12 * 3600, 86400, 3 * 86400),
    registry=REGISTRY,
)
DELIVERY_ATTEMPTS = Counter(
    "medbro_delivery_attempts_total",
    "Delivery attempts by endpoint and outcome (ok, failed).",
    ["endpoint", "outcome"],
    registry=REGISTRY,
)
QUEUE_DEPTH = Gauge(
    "medbro_queue_depth",
    "Messages waiting for delivery, per endpoint.",
    ["endpoint"],
    registry=REGISTRY,
)
OLDEST_MESSAGE_AGE = Gauge(
    "medbro_oldest_message_age_seconds",
    "Age of the oldest message waiting for delivery, per endpoint (0 when none waits).",
    ["endpoint"],
    registry=REGISTRY,
)
MESSAGES_PARKED = Gauge(
    "medbro_messages_parked",
    "Messages parked now (waiting for an operator), by MedCom type and receiver GLN (unknown: "
    "not in the partner file); read from the store at scrape time, the same in every process.",
    ["type", "receiver"],
    registry=REGISTRY,
)
TASKS_OPEN = Gauge(
    "medbro_tasks_open",
    "Open operator and SLA tasks, by kind (refused, undeliverable, receipt_missing, at_risk_1, "
    "breached_3, ...); read from the store at scrape time, the same in every process.",
    ["kind"],
    registry=REGISTRY,
)
LETTERS_AT_RISK = Gauge(
    "medbro_sla_letters_at_risk",
    "Discharges without a delivered letter inside the at-risk margin of a deadline, "
    "per hospital and target (workdays); read from the store at scrape time.",
    ["hospital", "target"],
    registry=REGISTRY,
)
LETTERS_OPEN = Gauge(
    "medbro_sla_letters_open",
    "Discharges still without a delivered letter whose 3-workday deadline has not passed.",
    ["hospital"],
    registry=REGISTRY,
)
BREACHES = Counter(
    "medbro_sla_breaches_total",
    "Discharges whose N-workday deadline passed without a delivered letter, per hospital and "
    "target (workdays); counted once per discharge and target.",
    ["hospital", "target"],
    registry=REGISTRY,
)
ESCALATIONS = Counter(
    "medbro_sla_escalations_total",
    "Escalations raised (alert + operator task), by kind (at_risk, breached) and target.",
    ["kind", "target"],
    registry=REGISTRY,
)


_SCRAPE_HOOKS: list[Callable[[], None]] = []


def on_scrape(hook: Callable[[], None]) -> Callable[[], None]:
    """Run ``hook`` before each ``render``: gauges computed from the shared store (queue depth,
    oldest message, parked messages, open tasks, letters at risk: gateway/operations/gauges.py)
    are then right in every process, not only in the one that last set them; each instance
    reports the same figure, so alert rules take ``max`` over instances of these gauges.
    Returns a function that removes the hook again."""
    _SCRAPE_HOOKS.append(hook)
    return lambda: _SCRAPE_HOOKS.remove(hook) if hook in _SCRAPE_HOOKS else None


CASE_DEADLINES = Gauge(
    "medbro_case_deadlines",
    "Open rehabilitation cases' deadlines that need action, per municipality and status "
    "(due_soon, missed; postponement_advised counts cases the flow advises to postpone).",
    ["municipality", "status"],
    registry=REGISTRY,
)


def render() -> tuple[bytes, str]:
    """The exposition text of every metric, and its content type."""
    for hook in list(_SCRAPE_HOOKS):
        try:
            hook()
        except Exception as exc:  # noqa: BLE001 - a scrape must not fail on a busy database
            log.warning("metrics_refresh_failed", error=repr(exc))
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


__all__ = [
    "BREACHES",
    "CASE_DEADLINES",
    "DELIVERY_ATTEMPTS",
    "DELIVERY_LATENCY",
    "ESCALATIONS",
    "LETTERS_AT_RISK",
    "LETTERS_OPEN",
    "MESSAGES",
    "MESSAGES_PARKED",
    "OLDEST_MESSAGE_AGE",
    "QUEUE_DEPTH",
    "REGISTRY",
    "TASKS_OPEN",
    "on_scrape",
    "render",
]
