"""Generated letters through both codecs: model -> EDIFACT -> model, and
OIOXML -> EDIFACT -> OIOXML (the conversion a hub does for an endpoint)."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given, settings

from gateway.edifact import parse
from gateway.edifact.letters import render_letter
from gateway.model import Envelope, Receipt
from gateway.oioxml import from_edifact, read, to_edifact, unrepresented, write

from .helpers import canonical
from .strategies import Strategies

EDI = Strategies(edifact=True)


def _as_sent(envelope: Envelope, message: object) -> Envelope:
    """A receipt never requests a receipt (EDIFACT refuses a CONTRL that does)."""
    return replace(envelope, ack_requested=False) if isinstance(message, Receipt) else envelope


@settings(max_examples=150, deadline=None)
@given(envelope=EDI.envelopes, message=EDI.messages)
def test_model_edifact_model_is_identity(envelope, message):
    envelope = _as_sent(envelope, message)
    interchange = parse(render_letter(envelope, message))
    assert (interchange.envelope, interchange.messages[0].letter) == (envelope, message)


@settings(max_examples=150, deadline=None)
@given(envelope=EDI.envelopes, message=EDI.messages)
def test_xml_edifact_xml_is_identity(envelope, message):
    envelope = _as_sent(envelope, message)
    assert unrepresented(envelope, message) == []
    xml = write(envelope, message)
    edi = to_edifact(xml)
    interchange = parse(edi)
    assert (interchange.envelope, interchange.messages[0].letter) == read(xml)
    assert canonical(from_edifact(edi)) == canonical(xml)
