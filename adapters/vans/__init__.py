"""VANSEnvelope 1.0.4 adapter: read/write envelopes and receipts, reliable-mode de-duplication.

``unwrap(data) -> (payload, PayloadInfo)`` is the hook ingest paths call before the hub when
``is_vans_envelope(data)``; ``ReliableReceiver`` adds MedCom's duplicate rules and receipts.
"""

from __future__ import annotations

from typing import Any

from adapters.vans.channel import VansChannelConfig, VansHttpChannel, vans_message_id
from adapters.vans.client import SqlSeenStore
from adapters.vans.config import VansSettings
from adapters.vans.envelope import (
    NS,
    Document,
    EndPoint,
    EndPointType,
    Message,
    MetaInformation,
    PayloadFormat,
    Processing,
    Receipt,
    ReceiptError,
    ReceiptKind,
    Transport,
    TransportType,
    VansEnvelope,
    VansEnvelopeError,
    VansWriteError,
    is_vans_envelope,
    parse,
    serialize,
)
from adapters.vans.ingest import (
    EnvelopeIngestResult,
    UnroutablePayload,
    VansIngest,
    envelope_aware,
    hub_payload,
    outcome_of,
    receipt_file_name,
)
from adapters.vans.mapping import (
    ErrorCode,
    PayloadInfo,
    negative_receipt,
    payload_info,
    positive_receipt,
    replay_receipt,
    resend,
    wrap,
)
from adapters.vans.reliable import (
    DuplicateCase,
    Outcome,
    Received,
    ReliableReceiver,
    SeenEnvelope,
    SeenStore,
    classify,
)
from adapters.vans.testing import MemorySeenStore

__all__ = [
    "NS",
    "Document",
    "DuplicateCase",
    "EndPoint",
    "EndPointType",
    "EnvelopeIngestResult",
    "ErrorCode",
    "MemorySeenStore",
    "Message",
    "MetaInformation",
    "Outcome",
    "PayloadFormat",
    "PayloadInfo",
    "Processing",
    "Receipt",
    "ReceiptError",
    "ReceiptKind",
    "Received",
    "ReliableReceiver",
    "SeenEnvelope",
    "SeenStore",
    "SqlSeenStore",
    "Transport",
    "TransportType",
    "UnroutablePayload",
    "VansEnvelope",
    "VansChannelConfig",
    "VansEnvelopeError",
    "VansHttpChannel",
    "VansIngest",
    "VansSettings",
    "VansWriteError",
    "channel",
    "classify",
    "envelope_aware",
    "hub_payload",
    "is_vans_envelope",
    "negative_receipt",
    "outcome_of",
    "parse",
    "payload_info",
    "positive_receipt",
    "receipt_file_name",
    "replay_receipt",
    "resend",
    "serialize",
    "unwrap",
    "vans_message_id",
    "wrap",
]


def unwrap(data: bytes) -> tuple[bytes, PayloadInfo]:
    """The payload of a message envelope and what the envelope says about it.

    Raises ``VansEnvelopeError`` (a ``RemoteMessageError``) for a bad envelope, a SizeInBytes
    mismatch, or a receipt envelope (which has no payload to route).
    """
    envelope = parse(data)
    if envelope.message is None:
        raise VansEnvelopeError("a Receipt envelope carries no payload to route", where="Receipt")
    return envelope.message.data, payload_info(envelope)


def channel(endpoint: Any, settings: Any = None) -> VansHttpChannel:
    """Plugin factory (``medbro.channels: vans``): deliver in a VANSEnvelope over HTTP."""
    return VansHttpChannel(VansChannelConfig.from_options(endpoint.gln, endpoint.channel.options))
