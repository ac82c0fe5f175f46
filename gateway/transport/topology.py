"""Broker names, pure: which exchanges and queues medbro declares and how they are bound.

* ``<prefix>.messages``: topic exchange; routing key
  ``medcom.<format>.<family>.<type>.<version>.<receiver gln>``.
* ``<prefix>.endpoint.<gln>``: one durable quorum queue per receiving endpoint, bound with
  ``medcom.*.*.*.*.<gln>``, so a GP system that is down only backs up its own queue. Its
  ``x-delivery-limit`` sends a poison message (one that keeps crashing the consumer) to
* ``<prefix>.dead`` (fanout) -> ``<prefix>.parking``: a queue operators look at.
* ``<prefix>.delay.<ms>ms``: one fanout exchange + quorum queue per retry delay tier, with a
  message TTL and the main exchange as dead-letter exchange, so an expired message comes back
  with its original routing key (RabbitMQ's recommended delayed-retry pattern, no plugin).

The prefix isolates deployments and test runs (``MEDBRO_BROKER_PREFIX``).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Topology:
    prefix: str
    endpoint_glns: tuple[str, ...] = ()
    delay_tiers: tuple[float, ...] = (5.0, 30.0, 300.0)
    delivery_limit: int = 20

    @property
    def exchange(self) -> str:
        return f"{self.prefix}.messages"

    @property
    def dead_letter_exchange(self) -> str:
        return f"{self.prefix}.dead"

    @property
    def parking_queue(self) -> str:
        return f"{self.prefix}.parking"

    def endpoint_queue(self, gln: str) -> str:
        return f"{self.prefix}.endpoint.{gln}"

    @staticmethod
    def endpoint_binding(gln: str) -> str:
        return f"medcom.*.*.*.*.{gln.lower()}"

    @property
    def endpoint_queues(self) -> tuple[str, ...]:
        return tuple(self.endpoint_queue(g) for g in self.endpoint_glns)

    def delay_name(self, tier: float) -> str:
        """Exchange and queue name of one delay tier (same name for both)."""
        return f"{self.prefix}.delay.{int(round(tier * 1000))}ms"

    def tier_for(self, delay_seconds: float) -> float:
        """The smallest tier that waits at least ``delay_seconds`` (the longest if none does)."""
        for tier in self.delay_tiers:
            if tier >= delay_seconds:
                return tier
        return self.delay_tiers[-1]

    @property
    def delay_names(self) -> tuple[str, ...]:
        return tuple(self.delay_name(t) for t in self.delay_tiers)

    @property
    def queues(self) -> tuple[str, ...]:
        """Every queue this topology declares (for cleanup and depth checks)."""
        return (*self.endpoint_queues, self.parking_queue, *self.delay_names)

    @property
    def exchanges(self) -> tuple[str, ...]:
        return (self.exchange, self.dead_letter_exchange, *self.delay_names)


def topic_matches(pattern: str, key: str) -> bool:
    """AMQP topic matching: ``*`` is exactly one word, ``#`` zero or more words."""
    return _match(pattern.split("."), key.split("."))


def _match(pat: list[str], words: list[str]) -> bool:
    if not pat:
        return not words
    head, rest = pat[0], pat[1:]
    if head == "#":
        return any(_match(rest, words[i:]) for i in range(len(words) + 1))
    if not words:
        return False
    return (head == "*" or head == words[0]) and _match(rest, words[1:])
