"""``envelope_segments``: the lenient envelope read skips the segments between UNB and the UNHs
(a refusal of a million-segment body must not tokenise them), and reads the same envelope."""

from __future__ import annotations

from unittest import mock

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.edifact import read_envelope_leniently, reader
from gateway.edifact.envelope_segments import envelope_segments

from .test_fuzz import PIECES, mutated_seed
from .test_streaming import hostile

UNB = b"UNB+UNOC:3+5790000000001:14+5790000000002:14+250301:0930+IC1++++0'"


def read_everything(data: bytes):
    """The lenient read over every segment (what it did before the reduction)."""
    with mock.patch.object(reader, "envelope_segments", lambda d: d):
        return read_envelope_leniently(data)


def test_a_million_segments_reduce_to_the_envelope() -> None:
    data = hostile()
    reduced = envelope_segments(data)
    assert reduced == (
        b"UNA:+.? 'UNB+UNOC:3+5790000000001:14+5790000000002:14+250301:0930+IC1++++0'"
        b"UNH+R1+MEDDIS:D:93A:UN:D0133L+DIS01'"
    )
    assert read_envelope_leniently(data) == read_everything(data)


def test_an_escaped_terminator_does_not_start_a_segment() -> None:
    data = UNB + b"UNH+R1+MEDDIS:D:93A:UN:D0133L+DIS01'FTX+AAB+++a?'UNH+X:b'UNT+3+R1'UNZ+1+IC1'"
    assert envelope_segments(data) == UNB + b"UNH+R1+MEDDIS:D:93A:UN:D0133L+DIS01'"
    assert [m.ref for m in read_envelope_leniently(data).messages] == ["R1"]


def test_whitespace_between_segments_and_a_doubled_release() -> None:
    data = b"\r\n" + UNB + b"\r\nUNH+R1+MEDDIS:D:93A:UN:D0133L+DIS01'FTX+a??'\n UNH+R2+X'"
    assert envelope_segments(data) == (
        b"\r\n" + UNB + b"UNH+R1+MEDDIS:D:93A:UN:D0133L+DIS01'UNH+R2+X'"
    )
    assert read_envelope_leniently(data) == read_everything(data)


def test_text_that_merely_contains_unh_is_skipped() -> None:
    data = UNB + b"UNH+R1+MEDDIS:D:93A:UN:D0133L+DIS01'FTX+AAB+++see UNH+2'UNZ+1+IC1'"
    assert envelope_segments(data) == UNB + b"UNH+R1+MEDDIS:D:93A:UN:D0133L+DIS01'"


def test_a_binary_object_keeps_the_whole_input() -> None:
    data = UNB + b"UNH+R1+MEDBIN:D:93A:UN:B0130Q+BIN01'UNO+1+A+B+5'x'UNHyUNP+5+1'"
    assert envelope_segments(data) is data


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_seed())
def test_the_reduced_read_equals_the_full_read(data: bytes) -> None:
    assert read_envelope_leniently(data) == read_everything(data)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from([*PIECES, b" \r\n", b"?", b"'"]), max_size=25))
def test_the_reduced_read_equals_the_full_read_on_envelope_pieces(pieces: list[bytes]) -> None:
    data = b"".join(pieces)
    assert read_envelope_leniently(data) == read_everything(data)
