"""Encoder: the same segment table encoded; counts, charsets, binary, UNB faithfulness; and a
hypothesis round trip of generated segments through encode -> tokenize."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydifact.segments import Segment

from gateway.edifact import (
    EdifactError,
    Interchange,
    Message,
    encode,
    encode_segments,
    parse_envelope,
    tokenize,
)
from gateway.edifact.syntax import Separators
from gateway.model import Envelope

from .fixtures_core.cases import SEGMENT_CASES

FIXTURES = Path(__file__).parent / "fixtures_core"


@pytest.mark.parametrize(("text", "segment"), SEGMENT_CASES)
def test_encode_table(text: bytes, segment: Segment) -> None:
    assert encode_segments([segment]) == text + b"\n"


def envelope(**changes: object) -> Envelope:
    values: dict = dict(
        sender="5790000000001",
        recipient="5790000000002",
        control_ref="IC7",
        prepared_at=datetime(2025, 3, 1, 9, 30),
    )
    values.update(changes)
    return Envelope(**values)


def message(ref: str, *segments: Segment, binaries: dict[int, bytes] | None = None) -> Message:
    return Message(
        ref=ref,
        family="MEDDIS",
        version="D0133L",
        type="DIS01",
        identifier=["MEDDIS", "D", "93A", "UN", "D0133L"],
        segments=list(segments),
        binaries=binaries or {},
    )


def test_encode_writes_una_and_recomputes_counts() -> None:
    ic = Interchange(
        envelope=envelope(ack_requested=True),
        messages=[message("A", Segment("GIS", "N")), message("B")],
    )
    assert encode(ic) == (
        b"UNA:+.? '\n"
        b"UNB+UNOC:3+5790000000001:14+5790000000002:14+250301:0930+IC7++++1'\n"
        b"UNH+A+MEDDIS:D:93A:UN:D0133L+DIS01'\nGIS+N'\nUNT+3+A'\n"
        b"UNH+B+MEDDIS:D:93A:UN:D0133L+DIS01'\nUNT+2+B'\n"
        b"UNZ+2+IC7'\n"
    )
    again = parse_envelope(encode(ic))
    assert again.envelope == ic.envelope and [m.ref for m in again.messages] == ["A", "B"]


@pytest.mark.parametrize(
    ("ack_requested", "test", "tail"),
    [
        # MedCom's converter writes element 9 always: 0 = minuspositivkvitt, 1 = plus
        (False, False, b"+IC7++++0'"),
        (True, False, b"+IC7++++1'"),
        (False, True, b"+IC7++++0++1'"),
        (True, True, b"+IC7++++1++1'"),
    ],
)
def test_a_new_unb_writes_the_ack_request_and_test_indicator(ack_requested, test, tail) -> None:
    ic = Interchange(
        envelope=envelope(ack_requested=ack_requested, test=test), messages=[message("A")]
    )
    unb = encode(ic).split(b"\n")[1]
    assert unb == b"UNB+UNOC:3+5790000000001:14+5790000000002:14+250301:0930" + tail
    again = parse_envelope(encode(ic)).envelope
    assert (again.ack_requested, again.test) == (ack_requested, test)


def test_no_una_when_the_sender_wrote_none() -> None:
    ic = parse_envelope((FIXTURES / "no_una.edi").read_bytes())
    assert encode(ic).startswith(b"UNB+UNOC:3+")


def test_unb_extras_survive_and_ack_follows_the_envelope() -> None:
    data = (
        b"UNB+UNOC:3+1:14:ROUTE+2:ZZ+991231:2359+R1+PW+APP+A++AGR+1'"
        b"UNH+M1+MEDDIS:D:93A:UN:D0133L+DIS01'UNT+2+M1'UNZ+1+R1'"
    )
    ic = parse_envelope(data)
    assert tokenize(encode(ic))[0] == tokenize(data)[0]
    assert ic.test  # element 11 is the test indicator
    ic.envelope = envelope(sender="9", control_ref="R1", ack_requested=True, test=True)
    unb = tokenize(encode(ic))[0]
    assert unb.elements[1] == ["9", "14", "ROUTE"] and unb.elements[8] == "1"
    assert unb.elements[5:8] == ["PW", "APP", "A"] and unb.elements[9:] == ["AGR", "1"]
    ic.envelope = envelope(sender="9", control_ref="R1", test=False)
    unb = tokenize(encode(ic))[0]
    assert unb.elements[8] == "" and unb.elements[9:] == ["AGR"]  # as received: not asked


def test_binary_object_is_written_raw_after_uno() -> None:
    data = (FIXTURES / "binary.edi").read_bytes()
    ic = parse_envelope(data)
    out = encode(ic)
    raw = ic.messages[0].binaries[1]
    assert (
        raw in out
        and out.index(raw) == out.index(b"UNO+") + out[out.index(b"UNO+") :].index(b"'") + 1
    )
    assert tokenize(out) == tokenize(data)


def test_reserved_character_is_escaped_when_not_a_space() -> None:
    seps = Separators(reserved="*")
    out = encode_segments([Segment("FTX", "a*b")], separators=seps)
    assert out == b"FTX+a?*b'\n"


def test_unoy_writes_utf8() -> None:
    out = encode_segments([Segment("FTX", "Zoë € 北京")], syntax="UNOY")
    assert out == "FTX+Zoë € 北京'\n".encode()


@pytest.mark.parametrize(
    ("segment", "syntax", "element", "component", "char"),
    [
        (Segment("FTX", "AAB", "", "", ["ok", "pris 5 €"]), "UNOC", 4, 2, "€"),
        (Segment("FTX", "linje\nlinje"), "UNOC", 1, 1, "\n"),
        (Segment("FTX", "\x85"), "UNOC", 1, 1, "\x85"),
        (Segment("FTX", "AAB", "små"), "UNOB", 2, 1, "å"),
        (Segment("FTX", "AAB", "abc"), "UNOA", 2, 1, "a"),
        (Segment("FTX", "\x07"), "UNOY", 1, 1, "\x07"),
    ],
)
def test_unencodable_character_names_segment_element_component(
    segment: Segment, syntax: str, element: int, component: int, char: str
) -> None:
    with pytest.raises(EdifactError) as info:
        encode_segments([Segment("GIS", "N"), segment], syntax=syntax)
    err = info.value
    assert (err.code, err.tag, err.segment_no, err.element, err.component) == (
        "CHARSET",
        "FTX",
        2,
        element,
        component,
    )
    assert repr(char) in err.message


def test_charset_error_in_a_message_counts_from_unh() -> None:
    ic = Interchange(
        envelope=envelope(), messages=[message("A", Segment("GIS", "N"), Segment("FTX", "€"))]
    )
    with pytest.raises(EdifactError) as info:
        encode(ic)
    assert (info.value.tag, info.value.segment_no) == ("FTX", 3)


def test_unknown_syntax_identifier_is_refused() -> None:
    with pytest.raises(EdifactError) as info:
        encode(Interchange(envelope=envelope(syntax="UNOW")))
    assert info.value.code == "SYNTAX_ID"


# -- generated segments: encode -> tokenize is the identity --------------------------------

LATIN1_GRAPHIC = st.characters(
    codec="latin-1", exclude_categories=("Cc",), include_characters=":+?' "
)
component = st.text(LATIN1_GRAPHIC, max_size=12)
composite = st.lists(component, min_size=2, max_size=5).filter(lambda cs: cs[-1] != "")
element = st.one_of(component, composite)
tag = st.from_regex(r"[A-Z][A-Z0-9]{2}", fullmatch=True).filter(lambda t: not t.startswith("UN"))
segment = st.builds(lambda t, els: Segment(t, *els), tag, st.lists(element, min_size=1, max_size=6))


@settings(max_examples=300, deadline=None)
@given(st.lists(segment, min_size=1, max_size=8))
def test_generated_segments_round_trip(segments: list[Segment]) -> None:
    assert tokenize(encode_segments(segments)) == segments


@settings(max_examples=100, deadline=None)
@given(st.lists(segment, max_size=5), st.booleans())
def test_generated_interchange_round_trip(segments: list[Segment], una: bool) -> None:
    ic = Interchange(envelope=envelope(), messages=[message("M1", *segments)], una=una)
    again = parse_envelope(encode(ic))
    assert again.messages[0].segments == segments
    assert again.envelope == ic.envelope and again.una == una


def test_binary_object_must_match_its_uno_and_unp() -> None:
    from gateway.errors import LocalUsageError

    ic = parse_envelope((FIXTURES / "binary.edi").read_bytes())
    ic.messages[0].binaries[1] += b"x"
    with pytest.raises(LocalUsageError, match="UNO element 4 / UNP element 1"):
        encode(ic)
    ic.messages[0].binaries = {0: b"abc"}
    with pytest.raises(LocalUsageError, match="does not follow a UNO"):
        encode(ic)
