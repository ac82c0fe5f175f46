"""Per-endpoint conversion at delivery: an endpoint's ``deliver_as`` is the format it gets.

The store keeps every interchange as it arrived (EDIFACT, or OIOXML stored by its envelope's
facts). When the receiving endpoint is configured ``deliver_as = "oioxml"`` (or
``"edifact"``) and the stored message is in the other format, the channel gets the twin made
through the canonical model (``gateway.oioxml.from_edifact`` / ``to_edifact``).

It is done by wrapping the endpoint's channel (``ConvertingChannel``), so every worker that
delivers through ``DeliveryWorker.channel`` converts, one by one or in batches. Conversion is
a pure function of the stored bytes, so a redelivery hands over the same bytes again and the
channels stay idempotent. A message that cannot be converted (a letter type without an OIOXML
form here, several letters in one interchange) is a ``PermanentDeliveryError``: parked with an
operator task naming why, never delivered in a format the receiver did not ask for.
"""

from __future__ import annotations

import dataclasses

from gateway.channels import Channel, Delivery, DeliveryResult, PermanentDeliveryError
from gateway.errors import MedbroError
from gateway.logging import get_logger
from gateway.registry import Endpoint

log = get_logger(__name__)
FORMATS = ("edifact", "oioxml")


def convert_for(endpoint: Endpoint, delivery: Delivery) -> Delivery:
    """``delivery`` in the endpoint's ``deliver_as`` format (unchanged when it already is)."""
    wanted = endpoint.deliver_as
    have = delivery.format or "edifact"
    if endpoint.is_local or wanted == have or have not in FORMATS or wanted not in FORMATS:
        return delivery
    from gateway.oioxml import from_edifact, to_edifact

    try:
        payload = from_edifact(delivery.payload) if wanted == "oioxml" else to_edifact(
            delivery.payload)
    except (MedbroError, ValueError) as exc:
        raise PermanentDeliveryError(
            f"endpoint {endpoint.gln} takes {wanted}; {delivery.type} {delivery.version} "
            f"could not be converted from {have}: {exc}") from exc
    log.info("delivery_converted", message_id=delivery.message_id, endpoint=endpoint.gln,
             source_format=have, target_format=wanted)
    return dataclasses.replace(delivery, payload=payload, format=wanted)


class ConvertingChannel:
    """A channel that hands ``inner`` the delivery in the endpoint's ``deliver_as`` format."""

    def __init__(self, inner: Channel) -> None:
        self.inner = inner

    async def deliver(self, endpoint: Endpoint, delivery: Delivery) -> DeliveryResult:
        return await self.inner.deliver(endpoint, convert_for(endpoint, delivery))

    def __getattr__(self, name: str) -> object:  # watch(), has_inbox, ... of the inner channel
        return getattr(self.inner, name)


__all__ = ["ConvertingChannel", "convert_for"]
