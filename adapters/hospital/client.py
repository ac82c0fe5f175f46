"""The hospital push's IO: hand letters to the hub, VANSEnvelopes through reliable mode.

``HospitalIngest`` is built once per app (``for_app``) around the hub the API already holds
(``app.state.hub``, gateway/api/app.py) and a durable VANS duplicate memory. It never routes on
its own: everything goes through ``hub.ingest``, so routing, storage, receipts and the SLA clocks
(the pipeline's observers see DIS17 and epikriser) are the pipeline's.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from adapters.hospital.config import HospitalSettings
from adapters.hospital.mapping import Posted, hub_bytes, outcome_of
from adapters.vans import (
    Outcome,
    Received,
    ReliableReceiver,
    SeenStore,
    SqlSeenStore,
    VansEnvelope,
    VansSettings,
    payload_info,
)
from adapters.vans.mapping import ErrorCode
from adapters.vans.mapping import sniff_format as sniff
from gateway.errors import RemoteMessageError
from gateway.logging import get_logger

log = get_logger(__name__)


def _local_now() -> datetime:
    return datetime.now().astimezone().replace(microsecond=0)


@dataclass
class HospitalIngest:
    hub: Any
    seen: SeenStore
    settings: HospitalSettings
    now: Callable[[], datetime] = _local_now
    new_id: Callable[[], str] = lambda: str(uuid.uuid4())

    @classmethod
    def for_app(cls, app: Any) -> HospitalIngest:
        """The app's instance, created on first use (the store table is made then)."""
        existing = getattr(app.state, "hospital_ingest", None)
        if existing is not None:
            return existing
        hub = app.state.hub
        url = VansSettings().resolved_database_url(hub.settings.database_url)
        instance = cls(hub=hub, seen=SqlSeenStore.create(url), settings=HospitalSettings())
        app.state.hospital_ingest = instance
        return instance

    async def letter(self, data: bytes, posted: Posted, *, source: str,
                     glns: frozenset[str]) -> Any:
        """A raw EDIFACT or OIOXML letter -> ``hub.ingest``; returns the hub's result."""
        return await self.hub.ingest(hub_bytes(data, posted),
                                     received_via=self.settings.received_via,
                                     source=source, authenticated_glns=glns)

    def _known_receiver(self, receiver_id: str) -> bool:
        """The envelope is for an endpoint medbro routes to, or for medbro itself."""
        own = getattr(self.hub.settings, "medbro_gln", None)
        return receiver_id == own or self.hub.registry.endpoint(receiver_id) is not None

    async def envelope(self, data: bytes, *, source: str, glns: frozenset[str]) -> Received:
        """A VANSEnvelope through reliable mode; its payload goes to the hub once."""

        async def process(envelope: VansEnvelope) -> Outcome:
            info = payload_info(envelope)
            if not self._known_receiver(envelope.receiver.id):
                return Outcome(False, f"ReceiverID {envelope.receiver.id} is not a medbro "
                               "endpoint", ErrorCode.UNKNOWN_RECEIVER)
            fmt = sniff(envelope.message.data)
            posted = {"edifact": Posted.EDIFACT, "oioxml": Posted.OIOXML}.get(fmt)
            if posted is None:
                return Outcome(False, f"medbro cannot route a {info.format} payload "
                               f"({info.message_type} {info.version})", ErrorCode.REJECTED)
            try:
                result = await self.letter(envelope.message.data, posted,
                                           source=f"{source} vans:{envelope.envelope_id}",
                                           glns=glns)
            except RemoteMessageError as exc:
                log.info("hospital_envelope_payload_refused", envelope_id=envelope.envelope_id,
                         error=str(exc))
                return Outcome(False, f"{info.message_type} {info.version}: {exc}")
            return outcome_of(result)

        receiver = ReliableReceiver(self.seen, process, now=self.now, new_id=self.new_id)
        return await receiver.receive(data)
