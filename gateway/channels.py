"""The channel port: how a message leaves medbro towards one receiving endpoint.

A channel plugin (entry point group ``medbro.channels``, named by the endpoint's
``channel.kind``) is a callable ``channel(endpoint, settings) -> Channel``. The worker calls
``deliver`` and records the outcome; the channel only does the IO.

Channels must be idempotent for the same ``Delivery`` (same message id, same bytes): the broker
guarantees at-least-once, and a worker that dies after delivering but before committing will
deliver again. Writing the same file name atomically, or sending the letter id as an external
key, turns that into an exactly-once effect.

Errors say whether trying again can help: ``TransientDeliveryError`` (receiver down, timeout:
retried through the delay queues) or ``PermanentDeliveryError`` (the receiver refuses this
message: parked for an operator at once).

tests/adapters/test_channel_contract.py holds every channel kind to this contract.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from gateway import plugins
from gateway.errors import ConfigError, MedbroError

if TYPE_CHECKING:
    from gateway.registry import Endpoint
    from gateway.settings import Settings

CHANNEL_GROUP = "medbro.channels"


class DeliveryError(MedbroError):
    """A channel could not hand the message over."""


class TransientDeliveryError(DeliveryError):
    """Trying again later may work (receiver down, timeout, disk full)."""


class PermanentDeliveryError(DeliveryError):
    """Trying again will not help; an operator must look at it."""


@dataclass(frozen=True)
class Delivery:
    """One interchange to hand over, byte for byte as the sender wrote it."""

    message_id: str
    payload: bytes
    sender_gln: str
    receiver_gln: str
    control_ref: str
    type: str
    version: str
    format: str = "edifact"
    # a send after the first (a resend, an operator's release or replay): the Bundle.id and time
    # it carries when it is handed over as FHIR (MedCom: every send a new Bundle.id); a letter
    # converted to a CareCommunication takes them too (gateway/pipeline/conversion.py)
    resent_as: tuple[str, datetime] | None = None


@dataclass(frozen=True)
class DeliveryResult:
    """What the receiver's side called the delivered item (file path, document id, ...).

    ``converted_ref``: set by the converting wrapper (gateway/pipeline/conversion.py) when the
    receiver got a twin with references of its own (a DIS91 made from a CareCommunication):
    the reference its receipts will name."""

    external_ref: str = ""
    converted_ref: str = ""


class Channel(Protocol):
    async def deliver(self, endpoint: Endpoint, delivery: Delivery) -> DeliveryResult: ...


class LocalChannel:
    """medbro is the final receiver: the message is 'delivered' into its own store.

    The worker then answers the sender with the CTL03/CTL02 a final receiver owes.
    """

    async def deliver(self, endpoint: Endpoint, delivery: Delivery) -> DeliveryResult:
        return DeliveryResult(external_ref=f"local:{delivery.message_id}")


def load_channel(endpoint: Endpoint, settings: Settings) -> Channel:
    """The channel for ``endpoint``: built in for ``local``, otherwise the named plugin."""
    if endpoint.is_local:
        return LocalChannel()
    factory = plugins.load(CHANNEL_GROUP, endpoint.channel.kind)
    return factory(endpoint, settings)


@dataclass(frozen=True)
class HttpOptions:
    """The options every HTTP-speaking channel takes from its partner-registry entry."""

    url: str
    timeout: float
    headers: dict[str, str]
    bearer_token: str  # from the environment variable named by ``api_key_env``: never in git


def read_http_options(kind: str, gln: str, options: Mapping[str, Any],
                      environ: Mapping[str, str]) -> HttpOptions:
    """``url`` (required, http(s)), ``timeout`` (s, default 10), ``headers`` (a table) and
    ``api_key_env``, checked with errors naming the endpoint and the option."""
    url = options.get("url")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise ConfigError(f"endpoint {gln}: {kind} channel needs an http(s) 'url', got {url!r}")
    try:
        timeout = float(options.get("timeout", 10.0))
    except (TypeError, ValueError):
        raise ConfigError(f"endpoint {gln}: {kind} 'timeout' is not a number") from None
    headers = options.get("headers", {})
    if not isinstance(headers, Mapping):
        raise ConfigError(f"endpoint {gln}: {kind} 'headers' must be a table")
    token = ""
    if env := options.get("api_key_env"):
        token = environ.get(env, "")
        if not token:
            raise ConfigError(f"endpoint {gln}: environment variable {env} is not set")
    return HttpOptions(url, timeout, {str(k): str(v) for k, v in headers.items()}, token)
