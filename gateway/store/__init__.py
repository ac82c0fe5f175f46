"""The message store: raw bytes, states, attempts, receipts, audit events, operator tasks."""

from gateway.store.repository import Store, message_view, new_id, transition
from gateway.store.states import (
    TRANSITIONS,
    IllegalTransition,
    MessageEvent,
    MessageState,
    next_state,
)
from gateway.store.tables import (
    AttemptRow,
    AuditEventRow,
    InterchangeRow,
    MessageRow,
    OperatorTaskRow,
    ReceiptRow,
)

__all__ = [
    "TRANSITIONS",
    "AttemptRow",
    "AuditEventRow",
    "IllegalTransition",
    "InterchangeRow",
    "MessageEvent",
    "MessageRow",
    "MessageState",
    "OperatorTaskRow",
    "ReceiptRow",
    "Store",
    "message_view",
    "new_id",
    "next_state",
    "transition",
]
