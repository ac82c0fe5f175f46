"""VANSEnvelopes into the hub: reliable mode in front of ``hub.ingest``.

The one place that turns a received envelope into pipeline work, shared by every way envelopes
arrive (the hospital push router today; the EDI mailbox's ``.xml`` files and any other intake
call ``VansIngest.receive`` the same way):

1. ``ReliableReceiver`` decides the duplicate case (reliable.py) before anything is ingested;
2. a new message's payload goes to ``hub.ingest`` once: EDIFACT as it is, OIOXML as its EDIFACT
   twin through the canonical model (gateway.oioxml.to_edifact), until the hub ingests OIOXML
   itself; a payload medbro cannot read is refused with a NegativeMessage naming why;
3. the hub's answer becomes the receipt: stored and routed (or a duplicate) -> PositiveMessage;
   stored but refused -> NegativeMessage with the hub's reason.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from adapters.vans.client import SqlSeenStore
from adapters.vans.config import VansSettings
from adapters.vans.envelope import VansEnvelope
from adapters.vans.mapping import ErrorCode, payload_info, sniff_format
from adapters.vans.reliable import Outcome, Received, ReliableReceiver, SeenStore
from gateway.errors import RemoteMessageError
from gateway.logging import get_logger

log = get_logger(__name__)


class UnroutablePayload(RemoteMessageError):
    """A payload format the hub cannot ingest (binary, FHIR, an unknown XML)."""


def hub_payload(payload: bytes) -> bytes:
    """The interchange the hub ingests for ``payload`` (raises a ``RemoteMessageError``)."""
    fmt = sniff_format(payload)
    if fmt == "edifact":
        return payload
    if fmt == "oioxml":
        from gateway.oioxml import to_edifact

        return to_edifact(payload)
    raise UnroutablePayload(f"medbro cannot route a {fmt} payload")


def outcome_of(result: Any) -> Outcome:
    """The hub's ``IngestResult`` as a receipt decision."""
    if getattr(result, "error", None):
        return Outcome(accepted=False, description=str(result.error), detail=result)
    return Outcome(accepted=True, detail=result)


def _local_now() -> datetime:
    return datetime.now().astimezone().replace(microsecond=0)


def _new_id() -> str:
    return str(uuid.uuid4())


class VansIngest:
    """Receive envelopes for ``hub``: de-duplicate, ingest the payload once, answer."""

    def __init__(
        self,
        hub: Any,
        seen: SeenStore,
        *,
        received_via: str,
        now: Callable[[], datetime] = _local_now,
        new_id: Callable[[], str] = _new_id,
    ) -> None:
        self.hub = hub
        self.seen = seen
        self.received_via = received_via
        self._now = now
        self._new_id = new_id

    @classmethod
    def for_hub(cls, hub: Any, *, received_via: str) -> VansIngest:
        """On the durable store of ``VansSettings`` (default: the hub's own database)."""
        url = VansSettings().resolved_database_url(hub.settings.database_url)
        return cls(hub, SqlSeenStore.create(url), received_via=received_via)

    def known_receiver(self, receiver_id: str) -> bool:
        """The envelope is for an endpoint medbro routes to, or for medbro itself."""
        own = getattr(self.hub.settings, "medbro_gln", None)
        return receiver_id == own or self.hub.registry.endpoint(receiver_id) is not None

    async def receive(
        self, data: bytes, *, source: str, glns: frozenset[str] | None = None
    ) -> Received:
        """One envelope; raises ``VansEnvelopeError`` when it cannot be read at all."""

        async def process(envelope: VansEnvelope) -> Outcome:
            info = payload_info(envelope)
            if not self.known_receiver(envelope.receiver.id):
                return Outcome(False, f"ReceiverID {envelope.receiver.id} is not a medbro "
                               "endpoint", ErrorCode.UNKNOWN_RECEIVER)
            try:
                interchange = hub_payload(envelope.message.data)
            except RemoteMessageError as exc:
                log.info("vans_payload_refused", envelope_id=envelope.envelope_id,
                         error=str(exc))
                return Outcome(False, f"{info.message_type} {info.version}: {exc}")
            result = await self.hub.ingest(
                interchange, received_via=self.received_via,
                source=f"{source} vans:{envelope.envelope_id}".strip(),
                authenticated_glns=glns,
            )
            return outcome_of(result)

        receiver = ReliableReceiver(self.seen, process, now=self._now, new_id=self._new_id)
        return await receiver.receive(data)

    def close(self) -> None:
        dispose = getattr(self.seen, "dispose", None)
        if dispose is not None:
            dispose()
