"""Tokeniser: the segment table decoded whole, byte by byte and with trailing data; errors."""

from __future__ import annotations

import warnings

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydifact.parser import Parser
from pydifact.segments import Segment

from gateway.edifact import EdifactError
from gateway.edifact._segment_text import EscapeError, _scan_escaped, split_escaped
from gateway.edifact.syntax import Separators
from gateway.edifact.tokenizer import BinaryObject, Event, Tokenizer, tokenize

from .fixtures_core.cases import DECODE_ONLY, SEGMENT_CASES

ALL_CASES = SEGMENT_CASES + DECODE_ONLY
TRAILER = b"UNT+2+1'"


def feed_bytewise(data: bytes) -> list:
    """Feed one byte at a time; nothing may come out before its terminator has arrived."""
    tok = Tokenizer()
    events: list = []
    for i in range(len(data)):
        tok.feed(data[i : i + 1])
        while (ev := tok.next_event()) is not Event.NEED_DATA:
            events.append(ev)
    tok.close()
    while (ev := tok.next_event()) is not Event.END:
        events.append(ev)
    return events


@pytest.mark.parametrize(("text", "segment"), ALL_CASES)
def test_decode_whole(text: bytes, segment: Segment) -> None:
    assert tokenize(text) == [segment]


@pytest.mark.parametrize(("text", "segment"), ALL_CASES)
def test_decode_byte_by_byte(text: bytes, segment: Segment) -> None:
    assert feed_bytewise(text) == [segment]


@pytest.mark.parametrize(("text", "segment"), ALL_CASES)
def test_decode_with_trailing_data(text: bytes, segment: Segment) -> None:
    trailer = Segment("UNT", "2", "1")
    assert tokenize(text + b"\r\n" + TRAILER) == [segment, trailer]
    # the trailing segment not yet terminated: the case comes out, then NEED_DATA
    tok = Tokenizer()
    tok.feed(text + TRAILER[:-1])
    assert tok.next_event() == segment
    assert tok.next_event() is Event.NEED_DATA


@pytest.mark.parametrize(("text", "segment"), SEGMENT_CASES)
def test_same_segments_as_pydifact(text: bytes, segment: Segment) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = list(Parser().parse(text.decode("latin-1")))
    assert theirs == [segment]


def test_una_changes_the_separators() -> None:
    tok = Tokenizer()
    tok.feed(b"UNA|*,# ~\nFTX*AAB***a#*b|c##~\nGIS*N~")
    tok.close()
    assert tok.next_event() == Segment("FTX", "AAB", "", "", ["a*b", "c#"])
    assert tok.separators == Separators("|", "*", ",", "#", " ", "~")
    assert tok.una


def test_missing_una_means_default_separators() -> None:
    tok = Tokenizer()
    tok.feed(b"\r\nGIS+N'")
    tok.close()
    assert tok.next_event() == Segment("GIS", "N")
    assert tok.separators == Separators() and not tok.una
    assert tok.next_event() is Event.END


def test_whitespace_between_segments_is_ignored() -> None:
    assert tokenize(b"GIS+N'\r\n \t\nGIS+M'\n\n") == [Segment("GIS", "N"), Segment("GIS", "M")]


UNB_UNOY = b"UNB+UNOY:3+5790000143054:14+5790000143055:14+000124:2130+1'"


def test_unoy_is_decoded_as_utf8() -> None:
    segs = tokenize(UNB_UNOY + "FTX+AAB+++Ærø 北京'".encode())
    assert segs[1] == Segment("FTX", "AAB", "", "", "Ærø 北京")


def test_unoc_decodes_latin1_after_unb() -> None:
    unb = UNB_UNOY.replace(b"UNOY", b"UNOC")
    assert tokenize(unb + b"FTX+AAB+++\xc6r\xf8'")[1] == Segment("FTX", "AAB", "", "", "Ærø")


def test_binary_object_keeps_raw_bytes() -> None:
    raw = b"\x00\xff'?+:\r\nUNZ"
    data = b"UNO+1+AID:X+OBJ:BSG:SCP:91+" + str(len(raw)).encode() + b":14:1:A'" + raw
    data += b"UNP+" + str(len(raw)).encode() + b"+1'"
    expected = [
        Segment(
            "UNO", "1", ["AID", "X"], ["OBJ", "BSG", "SCP", "91"], [str(len(raw)), "14", "1", "A"]
        ),
        BinaryObject(raw),
        Segment("UNP", str(len(raw)), "1"),
    ]
    assert tokenize(data) == expected
    assert feed_bytewise(data) == expected


ERROR_CASES = [
    # (input, code, tag, segment_no, element, component)
    (b"FTX+AAB+++a?bc'", "ESCAPE", "FTX", 1, 4, 1),
    (b"GIS+N'FTX+AAB+++a:b?", "UNTERMINATED", "FTX", 2, None, None),
    (b"FTX+AAB+++a:b\x01c'", "CHARSET", "FTX", 1, 4, 2),
    (b"FTX+AAB+++a\x85'", "CHARSET", "FTX", 1, 4, 1),
    (b"FTX+AAB+++a\nb'", "CHARSET", "FTX", 1, 4, 1),
    (b"ftx+AAB'", "TAG", None, 1, None, None),
    (b"'", "TAG", None, 1, None, None),
    (b"UNB+XXXX:3+1+2+000101:0000+1'", "SYNTAX_ID", "UNB", 1, 1, 1),
    (b"UNB+UNOA:3+a+2+000101:0000+1'", "CHARSET", "UNB", 1, 2, 1),
    (b"UNB+UNOB:3+a+2+000101:0000+1'FTX+\xe6'", "CHARSET", "FTX", 2, 1, 1),
    (UNB_UNOY + b"FTX+\xe6'", "CHARSET", "FTX", 2, 1, 1),
    (UNB_UNOY + "FTX+a\u0085'".encode(), "CHARSET", "FTX", 2, 1, 1),
    (b"UNO+1+A+B+x'", "BIN_LENGTH", "UNO", 1, 4, 1),
    (b"UNH+1+A:B:C:D:E+X'UNO+1+A+B+10'abc", "BIN_TRUNCATED", "UNO", None, None, None),
    (b"UNA:+", "UNA_INVALID", "UNA", None, None, None),
    (b"UNA:::? '", "UNA_INVALID", "UNA", None, None, None),
]


@pytest.mark.parametrize(("data", "code", "tag", "segment_no", "element", "component"), ERROR_CASES)
def test_errors_name_the_place(
    data: bytes,
    code: str,
    tag: str | None,
    segment_no: int | None,
    element: int | None,
    component: int | None,
) -> None:
    for run in (tokenize, feed_bytewise):
        with pytest.raises(EdifactError) as info:
            run(data)
        err = info.value
        assert (err.code, err.tag, err.segment_no, err.element, err.component) == (
            code,
            tag,
            segment_no,
            element,
            component,
        ), run


def test_error_comes_after_the_segments_before_it() -> None:
    tok = Tokenizer()
    tok.feed(b"GIS+N'GIS+M'FTX+a?b'")
    tok.close()
    assert tok.next_event() == Segment("GIS", "N")
    assert tok.next_event() == Segment("GIS", "M")
    with pytest.raises(EdifactError, match="FTX segment 3, element 1 component 1: wrong use"):
        tok.next_event()


def test_segment_numbers_restart_at_unh() -> None:
    data = b"UNB+UNOC:3+1+2+000101:0000+1'UNH+1+A:B:C:D:E+X'GIS+N'FTX+\x01'"
    with pytest.raises(EdifactError) as info:
        tokenize(data)
    assert info.value.segment_no == 3 and info.value.tag == "FTX"


def test_lenient_mode_skips_unreadable_segments() -> None:
    tok = Tokenizer(lenient=True)
    tok.feed(b"GIS+N'FTX+\x01'GIS+M'")
    tok.close()
    events, error = tok.drain()
    assert error is None
    assert events == [Segment("GIS", "N"), Segment("GIS", "M")]
    assert [e.code for e in tok.errors] == ["CHARSET"]


def test_large_input_fed_in_chunks_matches_one_shot() -> None:
    body = b"".join(text for text, _ in SEGMENT_CASES) * 2000
    tok = Tokenizer()
    events = []
    for i in range(0, len(body), 4093):
        tok.feed(body[i : i + 4093])
        while (ev := tok.next_event()) is not Event.NEED_DATA:
            events.append(ev)
    tok.close()
    assert tok.next_event() is Event.END
    assert events == tokenize(body)
    assert len(events) == len(SEGMENT_CASES) * 2000


def test_whole_buffer_path_agrees_with_incremental_path() -> None:
    """After a UNB the one-shot tokeniser takes its whole-buffer hot path; same result."""
    unb = UNB_UNOY.replace(b"UNOY", b"UNOC")
    data = unb + b"\r\n".join(text for text, _ in ALL_CASES) + b"\n"
    expected = [
        Segment(
            "UNB",
            ["UNOC", "3"],
            ["5790000143054", "14"],
            ["5790000143055", "14"],
            ["000124", "2130"],
            "1",
        )
    ] + [seg for _, seg in ALL_CASES]
    assert tokenize(data) == expected
    assert feed_bytewise(data) == expected


@settings(max_examples=600, deadline=None)
@given(st.text(alphabet="AB:+?' .\ue001\ue005x|*#~", max_size=16), st.booleans())
def test_escaped_split_matches_the_character_scan(text: str, una: bool) -> None:
    """The placeholder split of a segment with escapes gives the scan's elements or error."""
    seps = Separators(*":+.? '") if not una else Separators(*"*|,# ~")

    def outcome(split):  # type: ignore[no-untyped-def]
        try:
            return split(text, seps)
        except EscapeError as exc:
            return ("error", exc.offset, exc.problem)

    assert outcome(split_escaped) == outcome(_scan_escaped)


@pytest.mark.parametrize("terminator", [b"\\", b"!", b"~"])
def test_a_una_terminator_of_any_kind_gives_the_same_segments(terminator: bytes) -> None:
    """The whole-buffer path treats the declared terminator as a literal, a backslash too
    (the fuzz campaign found ``re.error`` for ``UNA:+.? \\``: re.sub read it as an escape)."""
    unb = UNB_UNOY.replace(b"UNOY", b"UNOC")
    plain = [text for text, _ in SEGMENT_CASES if text.count(b"'") == 1]  # no escaped '
    body = unb + b"\r\n".join(plain) + b"\n"
    if terminator in body:
        pytest.skip("the cases use this byte")
    swapped = b"UNA:+.? " + terminator + b"\n" + body.replace(b"'", terminator)
    assert tokenize(swapped) == tokenize(b"UNA:+.? '\n" + body)


def _outcome(run, data: bytes):  # type: ignore[no-untyped-def]
    """The segments ``run`` gives for ``data``, or its error's code and place."""
    try:
        return run(data)
    except EdifactError as err:
        return ("error", err.code, err.tag, err.segment_no, err.element, err.component)


_PIECES = [text for text, _ in SEGMENT_CASES] + [
    b"UNO+1+A+B+3'", b"abc", b"UNP+3+1'", b"?", b"'", b"??'", b"?'", b"\n", b"\r\n", b" ",
    b"\t", b"UNOx'", b"\x01", b"FTX+a\nb'", b"FTX+a\n'", b" \n\t", b"? ", b"?\n",
]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=12))
def test_the_whole_buffer_path_agrees_with_the_byte_by_byte_scan(pieces: list[bytes]) -> None:
    """Whatever the whole-buffer hot path takes (whitespace after terminators, escapes, a UNO
    and its raw bytes, forbidden bytes), it gives the general scan's segments or error."""
    data = UNB_UNOY.replace(b"UNOY", b"UNOC") + b"".join(pieces)
    assert _outcome(tokenize, data) == _outcome(feed_bytewise, data)
