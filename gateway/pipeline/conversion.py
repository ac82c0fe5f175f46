"""Per-endpoint conversion at delivery: an endpoint's ``deliver_as`` is the format it gets.

The store keeps every interchange as it arrived (EDIFACT, OIOXML stored by its envelope's
facts, a MedCom FHIR Bundle). ``target_format`` decides, in one place, the format an endpoint
is handed a message in; when that is not the stored one, the channel gets the twin made
through the canonical model:

* EDIFACT <-> OIOXML for ``deliver_as = "edifact"`` / ``"oioxml"`` (gateway.oioxml);
* a CareCommunication (FHIR) -> a DIS91 interchange (or its OIOXML twin) for an endpoint that
  does not take FDIS91 itself (an EDIFACT-only GP), with the EDIFACT references derived from
  the MessageHeader.id (gateway.fhir.convert.edifact_refs);
* a DIS91 (EDIFACT or OIOXML) -> a CareCommunication Bundle (JSON) for ``deliver_as = "fhir"``,
  handed over as ``format="fhir"``, type FDIS91, so a VANS channel wraps it as FHIR (ServiceTag
  MCM:MIME). Its sender and receiver Organizations carry the SOR codes the partner file gives
  their GLNs (``sor_by_gln``; without one, the GLN only). Other messages have no FHIR form
  here: parked.

Fields the other side cannot carry are logged by the converters (``fhir_fields_dropped``).
The twin's reference (``DeliveryResult.converted_ref``) is recorded with the delivery, so the
receiver's receipt, which names the twin, correlates to the stored original (ingest.py).

It is done by wrapping the endpoint's channel (``ConvertingChannel``), so every worker that
delivers through ``DeliveryWorker.channel`` converts, one by one or in batches. Conversion is
a pure function of the stored bytes, so a redelivery hands over the same bytes again and the
channels stay idempotent. A message that cannot be converted (a letter type without a form
in the other format here, several letters in one interchange) is a
``PermanentDeliveryError``: parked with an operator task naming why, never delivered in a
format the receiver did not ask for.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping

from gateway.channels import Channel, Delivery, DeliveryResult, PermanentDeliveryError
from gateway.errors import MedbroError
from gateway.logging import get_logger
from gateway.registry import Endpoint
from gateway.routing import TWINS

log = get_logger(__name__)
FORMATS = ("edifact", "oioxml", "fhir")


def target_format(endpoint: Endpoint, format_: str, type_: str, version: str = "") -> str:
    """The format ``endpoint`` is handed a stored message of ``format_``/``type_`` in.

    medbro itself (local) and unknown formats: as stored. A FHIR message stays FHIR for an
    endpoint that takes its type, or when it has no letter twin (Acknowledgement,
    HospitalNotification); else it goes in the endpoint's ``deliver_as``. A letter goes in
    ``deliver_as`` (``"fhir"``: its CareCommunication twin, if it has one)."""
    have = format_ or "edifact"
    if endpoint.is_local or have not in FORMATS:
        return have
    wanted = endpoint.deliver_as if endpoint.deliver_as in FORMATS else have
    if have == "fhir" and (wanted == "fhir" or endpoint.route.takes(type_, version)
                           or (have, type_.upper()) not in TWINS):
        return "fhir"
    return wanted


def convert_for(endpoint: Endpoint, delivery: Delivery, *,
                sor_by_gln: Mapping[str, str] | None = None) -> Delivery:
    """``delivery`` in the format ``target_format`` says (unchanged when it already is);
    ``sor_by_gln``: the partner file's SOR codes, for a CareCommunication written here."""
    have = delivery.format or "edifact"
    wanted = target_format(endpoint, have, delivery.type, delivery.version)
    if wanted == have:
        return delivery
    try:
        converted = _convert(delivery, have, wanted, sor_by_gln or {})
    except (MedbroError, ValueError) as exc:
        raise PermanentDeliveryError(
            f"endpoint {endpoint.gln} takes {wanted}; {delivery.type} {delivery.version} "
            f"could not be converted from {have}: {exc}") from exc
    log.info("delivery_converted", message_id=delivery.message_id, endpoint=endpoint.gln,
             source_format=have, target_format=wanted, converted_ref=converted.control_ref)
    return converted


def _convert(delivery: Delivery, have: str, wanted: str,
             sor_by_gln: Mapping[str, str]) -> Delivery:
    payload = delivery.payload
    if have == "fhir":  # a CareCommunication -> its DIS91 in EDIFACT or OIOXML
        from gateway.edifact.letters import render_letter
        from gateway.fhir import read
        from gateway.fhir.convert import letter_of
        from gateway.oioxml.writer import write

        envelope, letter = letter_of(read(payload))
        out = render_letter(envelope, letter) if wanted == "edifact" else write(envelope, letter)
        return dataclasses.replace(delivery, payload=out, format=wanted, type=letter.type,
                                   version=letter.version, control_ref=envelope.control_ref)
    if wanted == "fhir":  # a DIS91 -> its CareCommunication
        from gateway.fhir import read_leniently
        from gateway.oioxml.convert import convert

        out = convert(payload, "fhir", sor_by_gln=sor_by_gln)
        if delivery.resent_as is not None:  # sent again: a new Bundle.id (MedCom MR7)
            from gateway.fhir import reliable

            bundle_id, at = delivery.resent_as
            out = reliable.resend(out, bundle_id=bundle_id, now=at)
        message, _problem = read_leniently(out)
        assert message is not None  # medbro wrote it
        return dataclasses.replace(delivery, payload=out, format=wanted, type=message.type,
                                   version=message.version, control_ref=message.header_id)
    from gateway.oioxml import from_edifact, to_edifact

    out = from_edifact(payload) if wanted == "oioxml" else to_edifact(payload)
    return dataclasses.replace(delivery, payload=out, format=wanted)


class ConvertingChannel:
    """A channel that hands ``inner`` the delivery in the endpoint's ``deliver_as`` format;
    ``sor_by_gln`` gives the partner file's SOR codes as they are now (a reload changes them)."""

    def __init__(self, inner: Channel,
                 sor_by_gln: Callable[[], Mapping[str, str]] = dict) -> None:
        self.inner = inner
        self.sor_by_gln = sor_by_gln

    async def deliver(self, endpoint: Endpoint, delivery: Delivery) -> DeliveryResult:
        converted = convert_for(endpoint, delivery, sor_by_gln=self.sor_by_gln())
        result = await self.inner.deliver(endpoint, converted)
        if converted.control_ref != delivery.control_ref:  # the twin has references of its own
            return dataclasses.replace(result, converted_ref=converted.control_ref)
        return result

    def __getattr__(self, name: str) -> object:  # watch(), has_inbox, ... of the inner channel
        return getattr(self.inner, name)


__all__ = ["FORMATS", "ConvertingChannel", "convert_for", "target_format"]
