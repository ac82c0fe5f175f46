"""``converting``: a writer's refusal of received content is the sender's fault."""

from __future__ import annotations

import pytest

from gateway.edifact.ftx import FreeTextError
from gateway.errors import (
    ConfigError,
    ConversionError,
    LocalUsageError,
    RemoteMessageError,
    converting,
)
from gateway.oioxml.errors import OioxmlError


@pytest.mark.parametrize(
    ("raised", "expected"),
    [
        (FreeTextError("free text contains control character U+0009"), ConversionError),
        (LocalUsageError("DIS01 B1 would be refused: FTX ..."), ConversionError),
        (OioxmlError("/Emessage", "bad"), OioxmlError),  # already the sender's: unchanged
        (ConfigError("bad settings"), ConfigError),  # not a writer's refusal: unchanged
        (KeyError("bug"), KeyError),  # a bug stays a bug
    ],
)
def test_converting_turns_only_writer_refusals_into_conversion_errors(raised, expected):
    with pytest.raises(expected) as caught, converting("OIOXML", "EDIFACT"):
        raise raised
    assert type(caught.value) is expected
    if expected is ConversionError:
        assert isinstance(caught.value, RemoteMessageError)
        assert caught.value.__cause__ is raised
        assert str(caught.value) == (
            f"the OIOXML message cannot be written as EDIFACT: {raised}")


def test_converting_passes_a_result_through():
    with converting("EDIFACT", "OIOXML"):
        value = 42
    assert value == 42
