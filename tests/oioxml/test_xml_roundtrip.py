"""model -> OIOXML -> model is the identity for every letter and receipt OIOXML can carry."""

from __future__ import annotations

from hypothesis import given, settings

from gateway.oioxml import read, unrepresented, validate, write

from .strategies import XML


@settings(max_examples=300, deadline=None)
@given(envelope=XML.envelopes, message=XML.messages)
def test_model_xml_model_is_identity(envelope, message):
    assert unrepresented(envelope, message) == []
    data = write(envelope, message)
    validate(data)  # the write side always satisfies medbro's XSDs
    assert read(data) == (envelope, message)
