"""Broker addresses: ``MEDBRO_BROKER_URL`` names one broker or every node of a cluster.

A RabbitMQ cluster is reached through any of its nodes, so the setting takes a comma-separated
list of AMQP URLs (``amqp://u:p@rabbit-1:5672/,amqp://u:p@rabbit-2:5672/``). The connection
tries them in turn, at start and at every reconnection, so losing the node it was connected to
moves it to the next one.
"""

from __future__ import annotations

from urllib.parse import urlsplit

SCHEMES = ("amqp://", "amqps://")


class BrokerAddressError(ValueError):
    """The broker setting cannot be read as AMQP addresses; says which part and why."""


def broker_addresses(value: str) -> tuple[str, ...]:
    """The AMQP URLs of ``value`` in the order given (repeats dropped)."""
    parts = [p.strip() for p in value.split(",")]
    urls: list[str] = []
    for part in parts:
        if not part:
            raise BrokerAddressError(f"an empty address in {masked(value)!r}")
        if not part.startswith(SCHEMES):
            raise BrokerAddressError(f"{masked(part)!r} is not an amqp:// or amqps:// URL")
        split = urlsplit(part)
        if not split.hostname:
            raise BrokerAddressError(f"no host in {masked(part)!r}")
        try:
            split.port  # noqa: B018 - raises for a port that is not a number in range
        except ValueError as exc:
            raise BrokerAddressError(f"bad port in {masked(part)!r}: {exc}") from None
        urls.append(part)
    return tuple(dict.fromkeys(urls))


def display(value: str) -> str:
    """The broker setting for logs: hosts and ports only, never credentials."""
    if not value.startswith(SCHEMES):
        return value
    return ",".join(urlsplit(u).netloc.rpartition("@")[2] for u in broker_addresses(value))


def masked(text: str) -> str:
    """``text`` with every password replaced (error messages end up in logs)."""
    out = []
    for piece in text.split(","):
        head, at, tail = piece.rpartition("@")
        if at and "://" in head:
            scheme, _, creds = head.partition("://")
            piece = f"{scheme}://{creds.split(':', 1)[0]}:***@{tail}"
        out.append(piece)
    return ",".join(out)
