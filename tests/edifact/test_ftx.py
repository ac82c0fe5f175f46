"""MedCom's FTX rules: "." is an empty line, a trailing backslash continues the line (also into
the next FTX segment and, on a format change, into the next text), 70 characters per line,
5 lines per segment; encode/decode are exact inverses on what MedCom can carry."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.edifact.ftx import (
    FreeTextError,
    decode_components,
    decode_runs,
    encode_lines,
    ftx_elements,
)
from gateway.edifact.segment_values import build, unpack
from gateway.model import FreeText

from .fixtures_semantics.strategies import LATIN1


def test_dot_is_an_empty_line_and_backslash_continues() -> None:
    assert decode_components([".", "a \\", "b", "."]) == ("\na b\n", False)
    assert decode_components(["end \\"]) == ("end ", True)
    assert decode_components(["x\\\\", "y"]) == ("x\\y", False)  # one backslash is eaten


def test_runs_join_segments_with_the_same_qualifier_and_format() -> None:
    segments = [
        unpack(t)
        for t in (
            "FTX+NC+P00++Aftalt \\:besøg",
            "FTX+NC+P00++kortere \\",
            "FTX+NC+P00++periode.:.",
            "FTX+OE+P00++Emne",
        )
    ]
    assert decode_runs(segments) == [
        FreeText("NC", "Aftalt besøg\nkortere periode.\n", "P00"),
        FreeText("OE", "Emne", "P00"),
    ]


def test_a_format_change_in_mid_line_is_kept_as_continued() -> None:
    # MedCom's DIS90 sample: "... Analyserne skal derfor \" / PK0 "ikke\" / " bestilles ..."
    segments = [
        unpack(t)
        for t in (
            "FTX+NC+P00++skal derfor \\",
            "FTX+NC+PK0++ikke\\",
            "FTX+NC+P00++ bestilles",
        )
    ]
    texts = decode_runs(segments)
    assert texts == [
        FreeText("NC", "skal derfor ", "P00", continued=True),
        FreeText("NC", "ikke", "PK0", continued=True),
        FreeText("NC", " bestilles", "P00"),
    ]
    assert [build("FTX", *e) for t in texts for e in ftx_elements(t)] == segments


def test_long_lines_split_after_a_space_at_most_70_characters() -> None:
    line = "Vægttab på 10 kg/ 2mdr, træthed, hudkløe og icterus. UL-scanning har afgivet mistanke"
    parts = encode_lines(line)
    assert parts == [
        "Vægttab på 10 kg/ 2mdr, træthed, hudkløe og icterus. UL-scanning har \\",
        "afgivet mistanke",
    ]
    assert all(len(p) <= 70 for p in parts)
    assert decode_components(parts) == (line, False)


def test_a_line_without_spaces_is_cut_hard() -> None:
    parts = encode_lines("x" * 150)
    assert [len(p) for p in parts] == [70, 70, 12]
    assert parts[0].endswith("x\\") and parts[2] == "x" * 12


def test_a_last_piece_that_would_read_as_an_empty_line_is_avoided() -> None:
    line = "y" * 69 + "."
    parts = encode_lines(line)
    assert parts[-1] != "." and decode_components(parts) == (line, False)


def test_five_lines_per_segment() -> None:
    elements = ftx_elements(FreeText("NC", "\n".join("abcdefg"), "F00"))
    assert [e[3] for e in elements] == [["a", "b", "c", "d", "e"], ["f", "g"]]
    assert elements[0][:3] == ["NC", "F00", ""]
    assert ftx_elements(FreeText("NC", "one"))[0][3] == "one"


@pytest.mark.parametrize("text", [".", "a\n.", "ends in \\", "tab\there", "cr\r\nlf"])
def test_text_medcom_cannot_carry_is_refused(text: str) -> None:
    with pytest.raises(FreeTextError):
        encode_lines(text)


line = st.text(LATIN1, max_size=200).filter(lambda s: s != "." and not s.endswith("\\"))


@given(lines=st.lists(line, min_size=1, max_size=8), open_end=st.booleans(), last=st.text(LATIN1))
def test_decode_inverts_encode(lines, open_end, last) -> None:
    if open_end:
        lines[-1] = last
    text = "\n".join(lines)
    parts = encode_lines(text, continued=open_end)
    assert all(len(p) <= 70 for p in parts)
    assert decode_components(parts) == (text, open_end)
