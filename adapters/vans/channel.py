"""The VANSEnvelope channel: deliver a letter wrapped in a VANSEnvelope over HTTP, reliably.

For receivers that take envelopes (MedCom "Skal sendes i VANSEnvelope" standards, FHIR-era
systems, another medbro's ``/v1/hospital/letters``). Every attempt is a MedCom resend:

* the message id (``MetaInformation/Identifier``) is derived from medbro's message id
  (UUID v5), so it is the same on every attempt and redelivery, and the receiver recognises a
  resend of the same message (it answers with the receipt it gave the first time);
* the ``EnvelopeIdentifier`` and ``SentDateTime`` are new on every attempt ("SHALL change the
  envelope id and sent time on every resend").

The receiver's answer decides: a ``PositiveMessage`` for our message id is delivered; a
``NegativeMessage``/``NegativeVans`` is permanent (parked, with the receiver's reason); no
answer, 408/425/429 or 5xx are transient (the pipeline retries); an unreliable endpoint's
2xx without a receipt is delivered.

Channel options: ``url`` (required), ``timeout`` (s), ``headers`` (table), ``api_key_env``
(environment variable with a bearer token), ``reliable`` (default true).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx

from adapters.vans.envelope import EndPoint, VansEnvelopeError, parse, serialize
from adapters.vans.mapping import wrap
from gateway.channels import (
    Delivery,
    DeliveryResult,
    PermanentDeliveryError,
    TransientDeliveryError,
    read_http_options,
)
from gateway.fhir import read_leniently, routing_facts
from gateway.logging import get_logger

log = get_logger(__name__)

# Namespace of medbro's VANS message ids (uuid5 of the pipeline's message id).
MESSAGE_ID_NAMESPACE = uuid.UUID("6f1c3f0e-8a51-4f6e-9d0e-3b1f3c5a7e21")
_TRANSIENT = {408, 425, 429}


def vans_message_id(message_id: str) -> str:
    """The stable VANS message id of a medbro message (same on every resend)."""
    return str(uuid.uuid5(MESSAGE_ID_NAMESPACE, message_id))


@dataclass(frozen=True)
class VansChannelConfig:
    gln: str
    url: str
    timeout: float = 10.0
    reliable: bool = True
    headers: dict[str, str] = field(default_factory=dict, hash=False)

    @classmethod
    def from_options(
        cls, gln: str, options: Mapping[str, Any], environ: Mapping[str, str] = os.environ
    ) -> VansChannelConfig:
        http = read_http_options("vans", gln, options, environ)
        headers = dict(http.headers)
        if http.bearer_token:
            headers["Authorization"] = f"Bearer {http.bearer_token}"
        return cls(gln, http.url, http.timeout, bool(options.get("reliable", True)), headers)


def _local_now() -> datetime:
    return datetime.now().astimezone().replace(microsecond=0)


def document_type(delivery: Delivery) -> str:
    """``Document/Name`` without ``MCM:``: the letter type, and for FHIR MedCom's ``#postfix``
    too (``FDIS91#other``, ``FDIS20#<activity>``, ``FCTL#<code>``), read from the Bundle itself
    because the delivery carries only the type (FHIRMessages_NetworkEnvelopes)."""
    if delivery.format != "fhir":
        return delivery.type
    message, _problem = read_leniently(delivery.payload)
    if message is None:
        return delivery.type
    return routing_facts(message).envelope_name.removeprefix("MCM:")


class VansHttpChannel:
    kind = "vans"

    def __init__(
        self,
        config: VansChannelConfig,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        now: Callable[[], datetime] = _local_now,
        new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
    ) -> None:
        self.config = config
        self._transport = transport
        self._client: httpx.AsyncClient | None = None
        self._now = now
        self._new_id = new_id

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self.config.timeout,
                                             transport=self._transport)
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def deliver(self, endpoint: object, delivery: Delivery) -> DeliveryResult:
        message_id = vans_message_id(delivery.message_id)
        envelope = wrap(
            delivery.payload,
            sender=EndPoint(delivery.sender_gln),
            receiver=EndPoint(delivery.receiver_gln),
            message_type=document_type(delivery),
            version=delivery.version,
            envelope_id=self._new_id(),
            message_id=message_id,
            now=self._now(),
            wire_format=delivery.format,
            reliable=self.config.reliable,
        )
        headers = {"Content-Type": "application/xml", **self.config.headers}
        try:
            response = await self._http().post(self.config.url, content=serialize(envelope),
                                               headers=headers)
        except httpx.HTTPError as exc:
            raise TransientDeliveryError(f"POST {self.config.url} failed: {exc!r}") from exc
        status = response.status_code
        if status in _TRANSIENT or status >= 500:
            raise TransientDeliveryError(f"POST {self.config.url} answered {status}")
        if status >= 400:
            raise PermanentDeliveryError(
                f"POST {self.config.url} answered {status}: {response.text[:300]}")
        ref = f"vans:{message_id}"
        if not response.content.lstrip().startswith(b"<"):
            if self.config.reliable:
                raise TransientDeliveryError(
                    f"{self.config.url} answered {status} without a VANS receipt")
            return DeliveryResult(external_ref=ref)
        return DeliveryResult(external_ref=self._judge(response.content, message_id, ref))

    def _judge(self, body: bytes, message_id: str, ref: str) -> str:
        try:
            answer = parse(body)
        except VansEnvelopeError as exc:
            raise TransientDeliveryError(f"the receiver's receipt cannot be read: {exc}") from exc
        receipt = answer.receipt
        if receipt is None:
            raise TransientDeliveryError("the receiver answered with a message, not a receipt")
        about = receipt.original_message.identifier if receipt.original_message else None
        if about is not None and about != message_id:
            raise TransientDeliveryError(f"the receipt is about message {about}, not {message_id}")
        if not receipt.positive:
            code = f" (code {receipt.error.code})" if receipt.error.code else ""
            raise PermanentDeliveryError(
                f"{receipt.kind} from {answer.sender.id}{code}: {receipt.error.description}")
        log.info("vans_delivered", endpoint=self.config.gln, vans_message_id=message_id,
                 receipt_envelope_id=answer.envelope_id)
        return ref
