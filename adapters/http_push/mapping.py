"""Pure translation between a medbro ``Delivery`` and an HTTP request/response.

The body is the interchange byte for byte. Headers carry what a receiver needs to deduplicate
and to route without parsing: ``Idempotency-Key`` is the medbro message id, so a redelivery
after a crash is recognisable as the same message (the receiver's side of exactly-once).

Status codes decide whether trying again can help: 2xx delivered; 408, 425, 429 and 5xx are
transient (retried with back-off); any other status is a permanent refusal (parked).
"""

from __future__ import annotations

import enum

from gateway.channels import Delivery

CONTENT_TYPES = {"edifact": "application/edifact", "xml": "application/xml"}
_TRANSIENT = {408, 425, 429}


class Outcome(enum.Enum):
    DELIVERED = "delivered"
    TRANSIENT = "transient"
    PERMANENT = "permanent"


def request_headers(delivery: Delivery, extra: dict[str, str] | None = None) -> dict[str, str]:
    """Headers of the push request for ``delivery``."""
    headers = {
        "Content-Type": CONTENT_TYPES.get(delivery.format, "application/octet-stream"),
        "Idempotency-Key": delivery.message_id,
        "X-Medbro-Message-Id": delivery.message_id,
        "X-Medcom-Sender": delivery.sender_gln,
        "X-Medcom-Receiver": delivery.receiver_gln,
        "X-Medcom-Control-Ref": delivery.control_ref,
        "X-Medcom-Type": f"{delivery.type}/{delivery.version}",
    }
    headers.update(extra or {})
    return headers


def classify(status: int) -> Outcome:
    """What an HTTP status means for the delivery."""
    if 200 <= status < 300:
        return Outcome.DELIVERED
    if status in _TRANSIENT or status >= 500:
        return Outcome.TRANSIENT
    return Outcome.PERMANENT


def external_ref(headers: dict[str, str], message_id: str) -> str:
    """The receiver's id for what we delivered: its ``Location``, else our message id."""
    return headers.get("location") or headers.get("Location") or message_id
