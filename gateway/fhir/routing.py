"""The routing facts of a FHIR message: what the core ingest decision needs, nothing else.

A FHIR message is routed like an EDIFACT letter: by its receiver's GLN, its type and version,
de-duplicated on a key. MedCom's reliable messaging keys duplicates on ``MessageHeader.id``
(a resend keeps it and gets a new ``Bundle.id``: Rules_Messaging MR7/MR8), so that is the
message key; ``Bundle.id`` is kept to tell a resend from a replay of the same send.

The type is the VANSEnvelope name without ``MCM:``: FDIS91 (CareCommunication), FDIS20
(HospitalNotification), FCTL (Acknowledgement); ``envelope_name`` adds the ``#postfix``.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.fhir.message import FhirMessage

FAMILY = "FHIR"  # the routing-key family word for every MedCom FHIR message
FORMAT = "fhir"


@dataclass(frozen=True)
class RoutingFacts:
    """One FHIR message in routing terms (all strings; "" when the message lacks the fact)."""

    sender_gln: str
    receiver_gln: str
    sender_sor: str
    receiver_sor: str
    type: str  # FDIS91 | FDIS20 | FCTL
    version: str  # e.g. "5.0" from MessageHeader.definition; "" when not stated
    message_key: str  # MessageHeader.id: the duplicate key
    bundle_id: str  # new on every send (a resend has a new one)
    postfix: str  # category | activity | response code
    is_acknowledgement: bool
    acknowledges: str = ""  # the MessageHeader.id an Acknowledgement answers
    response_code: str = ""  # ok | transient-error | fatal-error (Acknowledgements)
    format: str = FORMAT
    family: str = FAMILY

    @property
    def duplicate_key(self) -> str:
        return self.message_key

    @property
    def envelope_name(self) -> str:
        """``MCM:FDIS91#other``: the VANSEnvelope Document/Name of this message."""
        name = f"MCM:{self.type}"
        return f"{name}#{self.postfix}" if self.postfix else name


def routing_facts(message: FhirMessage) -> RoutingFacts:
    """The routing facts of a read message (``gateway.fhir.read`` or ``message_of``)."""
    sender, receiver = message.sender, message.receiver
    response = message.response
    return RoutingFacts(
        sender_gln=sender.gln if sender else "",
        receiver_gln=receiver.gln if receiver else "",
        sender_sor=sender.sor if sender else "",
        receiver_sor=receiver.sor if receiver else "",
        type=message.type,
        version=message.version,
        message_key=message.header_id,
        bundle_id=message.bundle_id,
        postfix=message.postfix,
        is_acknowledgement=message.is_acknowledgement,
        acknowledges=response.identifier if response else "",
        response_code=response.code if response else "",
    )
