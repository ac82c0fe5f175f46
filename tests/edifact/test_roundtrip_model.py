"""Round trips through the wire format: parse(render(x)) == x for generated letters and
receipts (hypothesis), and every MedCom MEDDIS/CONTRL sample re-renders from its canonical
model segment for segment (model -> segments, not segments -> segments)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from medcom_samples import sample_bytes

from gateway.edifact import parse
from gateway.edifact.letters import from_model, render_letter
from gateway.model import Letter, Receipt

from .fixtures_semantics.strategies import envelopes, letters, receipts

MAPPED_SAMPLES = [
    "edifact_CTL01_1.edi",
    "edifact_CTL02_1.edi",
    "edifact_CTL03_1.edi",
    *(f"edifact_DIS{n}_1.edi" for n in ("01", "02", "03", "05", "06", "07", "08", "13", "14")),
    "edifact_DIS17_1.edi",
    "edifact_DIS20_1.edi",
    "edifact_DIS91_1.edi",
    "edifact_DIS91_2.edi",
    "edifact_DIS91_3.edi",
    "edifact_unittest_DIS20_ok.edi",
]

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(envelope=envelopes, letter=letters())
def test_parse_of_rendered_letter_is_the_letter(envelope, letter: Letter) -> None:
    interchange = parse(render_letter(envelope, letter))
    assert interchange.envelope == envelope
    [message] = interchange.messages
    assert message.letter == letter


@SETTINGS
@given(envelope=envelopes.filter(lambda e: not e.ack_requested), receipt=receipts())
def test_parse_of_rendered_receipt_is_the_receipt(envelope, receipt: Receipt) -> None:
    interchange = parse(render_letter(envelope, receipt))
    assert interchange.envelope == envelope
    [message] = interchange.messages
    assert message.letter == receipt


@pytest.mark.parametrize("name", MAPPED_SAMPLES)
def test_sample_re_renders_from_its_model(samples_dir, name: str) -> None:
    [message] = parse(sample_bytes(name)).messages
    rendered = from_model(message.letter)
    assert [[s.tag, *s.elements] for s in rendered] == [
        [s.tag, *s.elements] for s in message.segments
    ]


@pytest.mark.parametrize("name", MAPPED_SAMPLES)
def test_sample_renders_to_bytes_that_parse_to_the_same_model(samples_dir, name: str) -> None:
    original = parse(sample_bytes(name))
    [message] = original.messages
    again = parse(render_letter(original.envelope, message.letter))
    assert again.messages[0].letter == message.letter
