"""VANSEnvelopes into the hub: reliable mode in front of ``hub.ingest``.

The one place that turns a received envelope into pipeline work, shared by every way envelopes
arrive (the hospital push router today; the EDI mailbox's ``.xml`` files and any other intake
call ``VansIngest.receive`` the same way):

1. ``ReliableReceiver`` decides the duplicate case (reliable.py) before anything is ingested;
2. a new message's payload goes to ``hub.ingest`` once: EDIFACT as it is, OIOXML as its EDIFACT
   twin through the canonical model (gateway.oioxml.to_edifact), until the hub ingests OIOXML
   itself; any other payload goes to the hub raw, so it is stored whatever happens (the hub
   refuses what it cannot read, and the NegativeMessage names why);
3. the hub's answer becomes the receipt: stored and routed (or a duplicate) -> PositiveMessage;
   stored but refused -> NegativeMessage with the hub's reason.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from adapters.vans.client import SqlSeenStore
from adapters.vans.config import VansSettings
from adapters.vans.envelope import VansEnvelope, VansEnvelopeError, is_vans_envelope
from adapters.vans.mapping import ErrorCode, PayloadInfo, payload_info, sniff_format
from adapters.vans.reliable import Outcome, Received, ReliableReceiver, SeenStore
from gateway.errors import RemoteMessageError
from gateway.logging import get_logger
from gateway.received_xml import doctype, refuse_doctype

log = get_logger(__name__)


class UnroutablePayload(RemoteMessageError):
    """A payload format the hub cannot ingest (binary, FHIR, an unknown XML)."""


def hub_payload(payload: bytes) -> bytes:
    """The interchange the hub ingests for ``payload`` (raises a ``RemoteMessageError``)."""
    fmt = sniff_format(payload)
    refuse_doctype(payload, f"the {fmt} payload")
    if fmt == "edifact":
        return payload
    if fmt == "oioxml":
        from gateway.oioxml import to_edifact

        return to_edifact(payload)
    raise UnroutablePayload(f"medbro cannot route a {fmt} payload")


# Letter types medbro converts to EDIFACT: such a payload that did not convert is broken (or
# mislabelled) and is refused, never routed raw on its envelope's word.
CONVERTED_TYPES = frozenset({"DIS01", "DIS91", "CTL01", "CTL02", "CTL03"})


def routable_by_envelope(info: PayloadInfo, payload: bytes) -> bool:
    """A payload the hub may route by the envelope's facts: a type without an EDIFACT twin
    here (XDIS22, ...), in a format other than EDIFACT, and no XML with a DOCTYPE (refused as
    bad input, never passed on)."""
    kind = info.message_type.upper().removeprefix("X")
    return (info.format != "edifact" and kind not in CONVERTED_TYPES
            and not doctype(payload))


def payload_hint(info: PayloadInfo) -> Any:
    """The envelope's facts as ``hub.ingest``'s ``hint``: the message id (unchanged across
    resends) is the duplicate key."""
    from gateway.pipeline.inputs import PayloadHint

    return PayloadHint(sender_gln=info.sender_id, receiver_gln=info.receiver_id,
                       format=info.format, type=info.message_type, version=info.version,
                       message_key=info.message_id)


def outcome_of(result: Any) -> Outcome:
    """The hub's ``IngestResult`` as a receipt decision."""
    if getattr(result, "error", None):
        return Outcome(accepted=False, description=str(result.error), detail=result)
    if str(getattr(result, "state", "")) == "parked" and not getattr(result, "duplicate", False):
        # Stored but refused by routing (unknown receiver, type not taken): the hub answered
        # with a CTL01 inside; the envelope's sender must hear it as a NegativeMessage.
        return Outcome(accepted=False, description="stored but not routable: the receiver "
                       "does not take this message (parked for an operator)", detail=result)
    return Outcome(accepted=True, detail=result)


def _local_now() -> datetime:
    return datetime.now().astimezone().replace(microsecond=0)


def _new_id() -> str:
    return str(uuid.uuid4())


class Ingest(Protocol):
    """``Hub.ingest``'s signature, the one thing VansIngest needs from the pipeline."""

    async def __call__(self, data: bytes, *, received_via: str, source: str = "",
                       authenticated_glns: frozenset[str] | None = None,
                       hint: Any = None) -> Any: ...


class VansIngest:
    """Receive envelopes: de-duplicate, ingest the payload once, answer with receipts.

    ``ingest`` is ``Hub.ingest`` (or anything with its signature); ``known_receiver`` says
    whether medbro routes to a ReceiverID (None: every receiver is left to the hub to judge).
    """

    def __init__(
        self,
        ingest: Ingest,
        seen: SeenStore,
        *,
        received_via: str,
        known_receiver: Callable[[str], bool] | None = None,
        retention: timedelta = timedelta(days=7),
        now: Callable[[], datetime] = _local_now,
        new_id: Callable[[], str] = _new_id,
    ) -> None:
        self._ingest = ingest
        self.retention = retention
        self._next_purge: datetime | None = None
        self.seen = seen
        self.received_via = received_via
        self._known_receiver = known_receiver
        self._now = now
        self._new_id = new_id

    @classmethod
    def for_hub(cls, hub: Any, *, received_via: str) -> VansIngest:
        """For ``hub``, on the durable store of ``VansSettings`` (default: the hub's database)."""
        settings = VansSettings()
        url = settings.resolved_database_url(hub.settings.database_url)
        own = getattr(hub.settings, "medbro_gln", None)

        def known(receiver_id: str) -> bool:
            return receiver_id == own or hub.registry.endpoint(receiver_id) is not None

        return cls(hub.ingest, SqlSeenStore.create(url), received_via=received_via,
                   known_receiver=known, retention=timedelta(days=settings.retention_days))

    async def receive(
        self, data: bytes, *, source: str, glns: frozenset[str] | None = None
    ) -> Received:
        """One envelope; raises ``VansEnvelopeError`` when it cannot be read at all."""

        async def process(envelope: VansEnvelope) -> Outcome:
            info = payload_info(envelope)
            # A FHIR message is routed by its MessageHeader's destination, not the envelope's
            # ReceiverID: the hub answers an unknown one with a fatal-error Acknowledgement.
            if info.format != "fhir" and self._known_receiver is not None and not (
                self._known_receiver(envelope.receiver.id)
            ):
                return Outcome(False, f"ReceiverID {envelope.receiver.id} is not a medbro "
                               "endpoint", ErrorCode.UNKNOWN_RECEIVER)
            extra: dict[str, Any] = {}
            try:
                interchange, problem = hub_payload(envelope.message.data), ""
            except RemoteMessageError as exc:
                # Not convertible: the hub gets the raw payload with the envelope's facts
                # (hub.ingest's ``hint``), so it is stored and routed by them to an endpoint
                # that takes this type and version, or refused with the reason.
                interchange, problem = envelope.message.data, f"{exc}"
                if routable_by_envelope(info, envelope.message.data):
                    extra["hint"] = payload_hint(info)
                    log.info("vans_payload_routed_by_envelope",
                             envelope_id=envelope.envelope_id, message_type=info.message_type,
                             version=info.version, format=info.format)
            result = await self._ingest(
                interchange, received_via=self.received_via,
                source=f"{source} vans:{envelope.envelope_id}".strip(),
                authenticated_glns=glns, **extra,
            )
            outcome = outcome_of(result)
            if problem and not outcome.accepted and "hint" not in extra:
                return Outcome(False, f"{info.message_type} {info.version}: {problem}",
                               detail=result)
            return outcome

        await self._purge_if_due()
        receiver = ReliableReceiver(self.seen, process, now=self._now, new_id=self._new_id)
        return await receiver.receive(data)

    async def _purge_if_due(self) -> None:
        """Forget envelopes older than ``retention``, at most once an hour (MedCom: keep them
        longer than the senders' resend window; medcom.md 3.2)."""
        now = self._now()
        if self._next_purge is not None and now < self._next_purge:
            return
        self._next_purge = now + timedelta(hours=1)
        forgotten = await asyncio.to_thread(self.seen.forget_before, now - self.retention)
        if forgotten:
            log.info("vans_envelopes_forgotten", count=forgotten)

    def close(self) -> None:
        dispose = getattr(self.seen, "dispose", None)
        if dispose is not None:
            dispose()


@dataclass(frozen=True)
class EnvelopeIngestResult:
    """What an envelope-aware ingest returns for an envelope (the shape of ``IngestResult``)."""

    message_ids: list[str] = field(default_factory=list)
    state: str = ""
    duplicate: bool = False
    receipt: bytes | None = None  # the VANS receipt envelope (XML), when one is owed
    error: str | None = None
    received: Received | None = None


def receipt_file_name(received: Received) -> str:
    """``<receipt's sender>_<receipt's envelope id>.xml``: unique per receipt, like the
    mailbox's ``<sender>_<controlref>.edi``."""
    from adapters.vans.envelope import parse

    receipt = parse(received.receipt)
    return f"{receipt.sender.id}_{receipt.envelope_id}.xml"


OnReceipt = Callable[[Received], Awaitable[None]]


def envelope_aware(ingest: Ingest, vans: VansIngest, *, on_receipt: OnReceipt) -> Ingest:
    """``ingest`` that also takes VANSEnvelopes: an envelope goes through ``vans`` (reliable
    mode) and its receipt to ``on_receipt``; anything else goes to ``ingest`` unchanged.

    This is the hook for intakes built around ``Hub.ingest`` (the EDI mailbox watcher takes
    ``.xml`` envelopes beside ``.edi`` files by being given this instead of ``hub.ingest``).
    An envelope that cannot be read (``VansEnvelopeError``: not well formed, not valid, a
    DOCTYPE) goes to ``ingest`` as it is, so it is stored and refused there, visible to an
    operator, with the reason as the result's ``error``; no receipt can be addressed. Never an
    exception: an intake would keep such a file and try it again forever.
    """

    async def wrapped(data: bytes, *, received_via: str, source: str = "",
                      authenticated_glns: frozenset[str] | None = None) -> Any:
        if not is_vans_envelope(data):
            return await ingest(data, received_via=received_via, source=source,
                                authenticated_glns=authenticated_glns)
        try:
            received = await vans.receive(data, source=source, glns=authenticated_glns)
        except VansEnvelopeError as exc:
            log.warning("vans_envelope_unreadable", source=source, error=str(exc))
            result = await ingest(data, received_via=received_via, source=source,
                                  authenticated_glns=authenticated_glns)
            return EnvelopeIngestResult(
                message_ids=list(getattr(result, "message_ids", []) or []),
                state=str(getattr(result, "state", "") or "rejected"),
                duplicate=bool(getattr(result, "duplicate", False)),
                error=f"unreadable VANSEnvelope: {exc}")
        if received.receipt:
            await on_receipt(received)
        detail = received.outcome.detail if received.outcome else None
        return EnvelopeIngestResult(
            message_ids=list(getattr(detail, "message_ids", []) or []),
            state=str(getattr(detail, "state", "") or received.case.value),
            duplicate=received.case.value != "new",
            receipt=received.receipt or None,
            error=(received.outcome.description or None)
            if received.outcome and not received.outcome.accepted else None,
            received=received,
        )

    return wrapped
