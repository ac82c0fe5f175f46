"""Pure decisions of the hospital push: what was posted, and what the hub should get.

Hospitals post epikriser as raw EDIFACT, as OIOXML (``Emessage``) or wrapped in an envelope
(a VANSEnvelope: whatever an envelope plugin of gateway/envelopes.py accepts), and discharge
events as DIS17 EDIFACT or JSON. ``detect`` names the kind from the bytes (never from the
Content-Type, which hospital systems get wrong); ``hub_bytes`` turns a letter into what the hub
ingests (EDIFACT: the hub's codec reads EDIFACT; OIOXML goes through the canonical model with
gateway.oioxml.to_edifact until the hub ingests OIOXML natively).
"""

from __future__ import annotations

import enum

from gateway.envelopes import is_envelope


class Posted(enum.Enum):
    VANS = "vansenvelope"
    EDIFACT = "edifact"
    OIOXML = "oioxml"
    JSON = "json"
    UNKNOWN = "unknown"


def detect(data: bytes) -> Posted:
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:5]
    if head[:3] in (b"UNA", b"UNB"):
        return Posted.EDIFACT
    if head[:1] in (b"{", b"["):
        return Posted.JSON
    if head[:1] == b"<":
        return Posted.VANS if is_envelope(data) else Posted.OIOXML
    return Posted.UNKNOWN


def hub_bytes(payload: bytes, posted: Posted) -> bytes:
    """The interchange the hub ingests for a posted letter (raises the codec's errors)."""
    if posted not in (Posted.EDIFACT, Posted.OIOXML):
        raise ValueError(f"{posted.value} is not a letter format the hub ingests")
    if posted is Posted.EDIFACT:
        return payload
    from gateway.oioxml import to_edifact

    return to_edifact(payload)
