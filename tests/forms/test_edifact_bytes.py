"""The DIS91 profile through the real EDIFACT codec: form -> UNOC bytes -> form, exactly."""

from __future__ import annotations

import contextlib
from datetime import datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.edifact import parse
from gateway.forms import from_edifact, to_edifact, to_letter
from gateway.model import Envelope

from .examples import ALL, LAE265
from .strategies import FORMS

ENVELOPE = Envelope("5790000000001", "5790000000002", "LAE0001", datetime(2026, 3, 2, 9, 30))


@pytest.mark.parametrize("form", ALL, ids=lambda f: f.form_type.label)
def test_examples_round_trip_through_bytes(form) -> None:
    data = to_edifact(form, ENVELOPE)
    assert data.startswith(b"UNA:+.? '") and b"UNB+UNOC:3+" in data[:30]
    assert "Sørensen".encode("latin-1") in data  # UNOC: ISO-8859-1 bytes, not UTF-8
    message = parse(data).messages[0]
    assert (message.type, message.version) == ("DIS91", "D9134L")
    assert message.letter == to_letter(form)
    assert from_edifact(data) == form


@settings(max_examples=40, suppress_health_check=[HealthCheck.too_slow])
@given(FORMS)
def test_any_valid_form_round_trips_through_bytes(form) -> None:
    assert from_edifact(to_edifact(form, ENVELOPE)) == form


def test_a_plain_dis91_is_not_a_form() -> None:
    import dataclasses

    from gateway.edifact.letters import render_letter
    from gateway.forms import FormValidationError
    from gateway.model import FreeText

    letter = dataclasses.replace(to_letter(LAE265), texts=(FreeText("NC", "Kære læge"),))
    with pytest.raises(FormValidationError, match="MEDBRO-LAE-1"):
        from_edifact(render_letter(ENVELOPE, letter))


VALID = to_edifact(LAE265, ENVELOPE)


@settings(max_examples=200)
@given(st.integers(0, len(VALID) - 1), st.integers(0, 40), st.binary(max_size=20))
def test_damaged_interchanges_give_a_form_or_a_remote_error(at: int, cut: int,
                                                            junk: bytes) -> None:
    """Any damage to a profile interchange: a form, or an error naming the problem (the
    codec's EdifactError or FormValidationError), never anything else."""
    from gateway.errors import RemoteMessageError

    with contextlib.suppress(RemoteMessageError):
        from_edifact(VALID[:at] + junk + VALID[at + cut:])
