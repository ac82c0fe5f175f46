"""Which stored body may be pruned: one pure rule, tested from a table of cases.

A body (an interchange's raw bytes) may go when all of these hold:

* it is older than the retention period of its message class (``RetentionPolicy.days_for``;
  an interchange with several messages keeps its body for the longest of their periods);
* every message in it is *settled*: in a final state (rejected, acknowledged, failed), or
  delivered without a receipt asked for. A body that may still be delivered, resent or
  requeued is never pruned, however old (nothing accepted is ever lost);
* no legal hold covers it (a hold on one of its messages, on the interchange, or on a patient
  whose CPR number the body holds).

Message classes: ``receipt`` (CONTRL), ``rejected`` (an interchange medbro refused), ``letter``
(everything else). A message type (``DIS01``, ``XDIS16``) can have its own period.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from gateway.errors import ConfigError

CLASSES = ("letter", "receipt", "rejected")
DEFAULT_DAYS: Mapping[str, int] = {"letter": 365, "receipt": 365, "rejected": 90}
SETTLED_STATES = frozenset({"rejected", "acknowledged", "failed"})


class Verdict(enum.StrEnum):
    PRUNE = "prune"
    YOUNG = "young"  # inside its retention period
    UNSETTLED = "unsettled"  # a message in it may still be delivered, resent or requeued
    HELD = "held"  # a legal hold covers it


@dataclass(frozen=True, slots=True)
class StoredMessage:
    """What the rule needs of one message of an interchange."""

    type: str
    family: str
    state: str
    ack_requested: bool = False


def message_class(message: StoredMessage | None, interchange_status: str) -> str:
    """``receipt``, ``rejected`` or ``letter`` (``message`` None: an interchange without one)."""
    if interchange_status == "rejected" or (message is not None and message.state == "rejected"):
        return "rejected"
    if message is not None and (
        message.family.upper() == "CONTRL" or message.type.upper().startswith("CTL")
    ):
        return "receipt"
    return "letter"


def settled(message: StoredMessage) -> bool:
    return message.state in SETTLED_STATES or (
        message.state == "delivered" and not message.ack_requested
    )


@dataclass(frozen=True)
class RetentionPolicy:
    """Retention periods in days by message class, and by message type where one is set."""

    days: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_DAYS))

    def days_for(self, message: StoredMessage | None, interchange_status: str) -> int:
        if message is not None and message.type.upper() in self.days:
            return self.days[message.type.upper()]
        return self.days[message_class(message, interchange_status)]

    @property
    def shortest(self) -> int:
        return min(self.days.values())

    @classmethod
    def from_text(cls, text: str | None) -> RetentionPolicy:
        """From ``MEDBRO_RETENTION_DAYS``: a JSON object of class or message type -> days,
        merged over the defaults, e.g. ``{"letter": 730, "receipt": 180, "XDIS16": 3650}``."""
        if not text:
            return cls()
        try:
            given = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"MEDBRO_RETENTION_DAYS: not JSON: {exc}") from None
        if not isinstance(given, dict):
            raise ConfigError("MEDBRO_RETENTION_DAYS: must be a JSON object, e.g. "
                              '{"letter": 730, "receipt": 180}')
        days = dict(DEFAULT_DAYS)
        for key, value in given.items():
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ConfigError(f"MEDBRO_RETENTION_DAYS: {key!r}: {value!r} is not a "
                                  "positive whole number of days")
            name = key if key in CLASSES else key.upper()
            if key not in CLASSES and not name.isalnum():
                raise ConfigError(f"MEDBRO_RETENTION_DAYS: {key!r} is neither a class "
                                  f"({', '.join(CLASSES)}) nor a message type")
            days[name] = value
        return cls(days)


def verdict(
    *,
    created_at: datetime,
    now: datetime,
    interchange_status: str,
    messages: Iterable[StoredMessage],
    policy: RetentionPolicy,
    held: bool,
) -> Verdict:
    """May the body of this interchange be pruned at ``now``? The first reason not to wins:
    young, then unsettled, then held."""
    messages = list(messages)
    days = max(
        (policy.days_for(m, interchange_status) for m in messages),
        default=policy.days_for(None, interchange_status),
    )
    if created_at > now - timedelta(days=days):
        return Verdict.YOUNG
    if not all(settled(m) for m in messages):
        return Verdict.UNSETTLED
    if held:
        return Verdict.HELD
    return Verdict.PRUNE


__all__ = [
    "CLASSES",
    "DEFAULT_DAYS",
    "RetentionPolicy",
    "StoredMessage",
    "Verdict",
    "message_class",
    "settled",
    "verdict",
]
