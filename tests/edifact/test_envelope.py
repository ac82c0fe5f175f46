"""Envelope: the UNB..UNZ state machine on own fixtures and a table of broken interchanges."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from pydifact.segments import Segment

from gateway.edifact import EdifactError, parse_envelope, read_envelope_leniently
from gateway.edifact.envelope import (
    ILLEGAL,
    TRANSITIONS,
    Kind,
    State,
    receipt_requested_for_receipt,
)
from gateway.edifact.interchange import unb_datetime

FIXTURES = Path(__file__).parent / "fixtures_core"
UNB = "UNB+UNOC:3+5790000000001:14+5790000000002:14+250301:0930+IC1'"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def test_multi_message_interchange() -> None:
    ic = parse_envelope(fixture("multi_message.edi"))
    assert [m.ref for m in ic.messages] == ["M1", "M2"]
    assert ic.una and ic.ack_requested
    assert (ic.sender, ic.sender_qualifier, ic.recipient, ic.recipient_qualifier) == (
        "5790000000001",
        "14",
        "5790000000002",
        "14",
    )
    assert ic.prepared_at == datetime(2025, 3, 1, 9, 30)
    assert ic.control_ref == "IC0001" and ic.syntax == "UNOC"
    m1 = ic.messages[0]
    assert (m1.family, m1.version, m1.type) == ("MEDDIS", "D0133L", "DIS01")
    assert m1.identifier == ["MEDDIS", "D", "93A", "UN", "D0133L"]
    assert m1.segments[-1] == Segment("FTX", "AAB", "", "", ["Første linje", ".", "anden linje"])
    assert len(m1.segments) == 3 and len(ic.messages[1].segments) == 2


def test_no_una_file() -> None:
    ic = parse_envelope(fixture("no_una.edi"))
    assert not ic.una and not ic.ack_requested
    assert ic.unb_elements[-1] == "IC0001"


def test_escapes_of_service_characters() -> None:
    ic = parse_envelope(fixture("escapes.edi"))
    assert ic.messages[0].segments[0].elements[3] == (
        "plus + colon : apostrof ' spørgsmål ? mellemrum slut"
    )


def test_latin1_letters() -> None:
    seg = parse_envelope(fixture("latin1.edi")).messages[0].segments[0]
    assert seg.elements[3] == ["Åse Ærø Østergård", "Hr. Müller ß §", "Café ½ ¼ ¾ ©"]


def test_unoy_is_utf8() -> None:
    ic = parse_envelope(fixture("unoy.edi"))
    assert ic.syntax == "UNOY"
    assert ic.messages[0].segments[0].elements[3] == "Zoë – “citat” € 北京"


def test_binary_object_is_kept_with_its_uno() -> None:
    ic = parse_envelope(fixture("binary.edi"))
    msg = ic.messages[0]
    assert [s.tag for s in msg.segments] == ["BGM", "UNO", "UNP"]
    raw = msg.binaries[1]
    assert raw.startswith(bytes(range(256))) and raw.endswith(b"?+:")


def wrap(*body: str, unb: str = UNB, unz: str = "UNZ+1+IC1'") -> bytes:
    return ("".join([unb, *body, unz])).encode("latin-1")


def msg(ref: str = "R1", *body: str, count: int | None = None) -> str:
    n = count if count is not None else len(body) + 2
    return "".join([f"UNH+{ref}+MEDDIS:D:93A:UN:D0133L+DIS01'", *body, f"UNT+{n}+{ref}'"])


ERROR_CASES = [
    # (input, code, tag, segment number, element)
    (b"", "UNB_MISSING", "UNB", None, None),
    (b"<?xml version='1.0'?><Emessage/>", "NOT_EDIFACT", None, 1, None),
    (b"\r\n  plain text, no terminator", "NOT_EDIFACT", None, 1, None),
    (b"%PDF-1.4\x00\xff", "NOT_EDIFACT", None, 1, None),
    (b"unb+UNOC:3+1+2+250301:0930+IC1'", "NOT_EDIFACT", None, 1, None),
    (msg().encode(), "UNB_MISSING", "UNH", 1, None),
    (wrap(msg(), unb="UNB+UNOC:3+1:14+2:14+250301:0930'"), "UNB_ELEMENT", "UNB", 1, 5),
    (wrap(msg(), unb="UNB+UNOC:3+1:14'"), "UNB_ELEMENT", "UNB", 1, 3),
    (wrap(msg(), unb="UNB+UNOC:x+1+2+250301:0930+IC1'"), "UNB_ELEMENT", "UNB", 1, 1),
    (wrap(msg(), unb="UNB+UNOC:3+1+2+251301:0930+IC1'"), "UNB_ELEMENT", "UNB", 1, 4),
    (wrap(msg(), unb="UNB+UNOC:3+1+2+250301:0930+IC1++++2'"), "UNB_ELEMENT", "UNB", 1, 9),
    (wrap(msg(), unb="UNB+UNOC:3+1+2+250301:0930+123456789012345'"), "UNB_ELEMENT", "UNB", 1, 5),
    (wrap(msg(), unb="UNB+UNOC:3+1+2+250301:0930+IC1++++0++0'"), "UNB_ELEMENT", "UNB", 1, 11),
    (wrap(msg(), unb="UNB+UNOC:3+1+2+250301:0930+IC1++++0++1:2'"), "UNB_ELEMENT", "UNB", 1, 11),
    # a CONTRL must not request a receipt (named at UNB element 9, found at its UNH)
    (
        wrap(
            "UNH+R1+CONTRL:D:93A:ZZ:C0230Q+CTL02'UNT+2+R1'",
            unb="UNB+UNOC:3+1+2+250301:0930+IC1++++1'",
        ),
        "CONTRL_ACK_REQUEST",
        "UNB",
        1,
        9,
    ),
    (wrap(UNB, msg()), "UNB_DUPLICATE", "UNB", 2, None),
    (wrap(msg()) + UNB.encode(), "AFTER_UNZ", "UNB", 5, None),
    (wrap(msg()) + b"GIS+N", "UNTERMINATED", "GIS", 5, None),
    (wrap("UNH'", "UNT+2+R1'"), "UNH_EMPTY", "UNH", 1, None),
    (wrap("UNH+R1+MEDDIS:D:93A:UN+DIS01'UNT+2+R1'"), "UNH_ELEMENT", "UNH", 1, 2),
    (wrap("UNH+R1+MEDDIS:D:93A:UN:D0133L'UNT+2+R1'"), "UNH_ELEMENT", "UNH", 1, 3),
    (wrap("GIS+N'", msg()), "UNH_MISSING", "GIS", 2, None),
    (wrap("UNT+2+R1'"), "UNH_MISSING", "UNT", 2, None),
    (wrap(msg("R1", "GIS+N'", count=4)), "UNT_COUNT", "UNT", 3, None),
    (wrap(msg("R1", "GIS+N'").replace("UNT+3+R1", "UNT+3+R2")), "UNH_UNT_REF", "UNT", 3, 2),
    (wrap(msg().replace("UNT+2", "UNT+x")), "UNT_ELEMENT", "UNT", 2, 1),
    (wrap(msg().replace("UNT+2+R1", "UNT")), "UNT_EMPTY", "UNT", 2, None),
    (wrap(msg().replace("UNT+2", "UNT+²")), "UNT_ELEMENT", "UNT", 2, 1),  # a digit, not 0-9
    (wrap("UNH+R1+MEDDIS:D:93A:UN:D0133L+DIS01'GIS+N'"), "UNT_MISSING", "UNZ", 4, None),
    (wrap(msg("R1")[:-9], msg("R2")), "UNT_MISSING", "UNH", 1, None),
    (wrap(msg(), unz="UNZ+2+IC1'"), "UNZ_COUNT", "UNZ", 4, None),
    (wrap(msg(), unz="UNZ+1+IC2'"), "UNZ_REF", "UNZ", 4, 2),
    (wrap(msg(), unz="UNZ+1:IC1'"), "UNZ_ELEMENT", "UNZ", 4, 1),
    (wrap(msg(), unz="UNZ+¹+IC1'"), "UNZ_COUNT", "UNZ", 4, None),
    (wrap(msg(), unz="UNZ'"), "UNZ_EMPTY", "UNZ", 4, None),
    (wrap(unz="UNZ+0+IC1'"), "NO_MESSAGES", "UNZ", 2, None),  # MedCom: one letter or more
    (wrap(unz="UNZ+1+IC1'"), "NO_MESSAGES", "UNZ", 2, None),
    (wrap(msg(), unz=""), "UNZ_MISSING", "UNZ", None, None),
    (wrap(msg("R1", "UNO+1+A+B+3'abcGIS+N'")), "BIN_UNP", "GIS", 3, None),
    (wrap(msg("R1", "UNO+1+A+B+3'abcUNP+4+1'")), "BIN_UNP", "UNP", 3, 1),
    (wrap(msg("R1", "UNO+1+A+B+3'abcUNP+3+2'")), "BIN_UNP", "UNP", 3, 2),
    (wrap(msg("R1", "UNP+3+1'")), "BIN_UNP", "UNP", 2, None),
    # a tokeniser error after an envelope error: the envelope error comes first
    (wrap("GIS+N'", "FTX+a?b'"), "UNH_MISSING", "GIS", 2, None),
]


@pytest.mark.parametrize(("data", "code", "tag", "segment_no", "element"), ERROR_CASES)
def test_envelope_errors(
    data: bytes, code: str, tag: str | None, segment_no: int | None, element: int | None
) -> None:
    with pytest.raises(EdifactError) as info:
        parse_envelope(data)
    err = info.value
    assert (err.code, err.tag, err.segment_no, err.element) == (code, tag, segment_no, element)
    assert str(err).startswith(err.location)


def test_input_that_is_not_edifact_is_called_so() -> None:
    with pytest.raises(EdifactError) as info:
        parse_envelope(b"  <?xml version='1.0' encoding='UTF-8'?><Emessage/>")
    assert str(info.value) == (
        "segment 1: not an EDIFACT interchange: it starts with '<?xml ve', not with UNA or UNB"
    )


def test_an_empty_interchange_is_refused_naming_it() -> None:
    with pytest.raises(EdifactError) as info:
        parse_envelope(wrap(unz="UNZ+0+IC1'"))
    assert str(info.value) == (
        "UNZ segment 2: interchange IC1 contains no messages (UNB..UNZ needs at least one UNH..UNT)"
    )


def test_errors_inside_a_message_carry_its_reference() -> None:
    with pytest.raises(EdifactError) as info:
        parse_envelope(wrap(msg("R9", "FTX+\x01'")))
    assert info.value.message_ref == "R9" and info.value.code == "CHARSET"


def test_every_state_has_transitions_and_every_illegal_pair_is_named() -> None:
    assert set(TRANSITIONS) == set(State)
    for state in State:
        for kind in Kind:
            legal = kind in TRANSITIONS[state]
            assert legal or (state, kind) in ILLEGAL, (state, kind)


@pytest.mark.parametrize(
    ("date", "time", "expected"),
    [
        ("000124", "2130", datetime(2000, 1, 24, 21, 30)),
        ("691231", "2359", datetime(2069, 12, 31, 23, 59)),
        ("700101", "0000", datetime(1970, 1, 1, 0, 0)),
        ("991231", "0000", datetime(1999, 12, 31, 0, 0)),
        ("20250301", "0930", datetime(2025, 3, 1, 9, 30)),
    ],
)
def test_unb_date_pivot(date: str, time: str, expected: datetime) -> None:
    assert unb_datetime(date, time) == expected


def test_lenient_reading_of_a_broken_interchange() -> None:
    data = wrap(msg("R1", "FTX+\x01'", "GIS+N'", count=9), unz="UNZ+7+IC1'")
    with pytest.raises(EdifactError):
        parse_envelope(data)
    info = read_envelope_leniently(data)
    assert info is not None
    assert (info.sender, info.recipient, info.control_ref, info.syntax) == (
        "5790000000001",
        "5790000000002",
        "IC1",
        "UNOC",
    )
    assert info.prepared_at == datetime(2025, 3, 1, 9, 30) and not info.ack_requested
    assert [(m.ref, m.message_identifier, m.type) for m in info.messages] == [
        ("R1", "MEDDIS:D:93A:UN:D0133L", "DIS01")
    ]


def test_lenient_reading_without_unb_is_none() -> None:
    assert read_envelope_leniently(msg().encode()) is None
    assert read_envelope_leniently(b"\x00\xff garbage") is None


def test_state_diagram_is_drawn_from_the_table() -> None:
    from gateway.edifact.envelope import state_diagram

    text = state_diagram()
    for state, moves in TRANSITIONS.items():
        for kind, target in moves.items():
            assert f"{state.name} --> {target.name}: {kind.value}" in text


# UNB element 9 (acknowledgement request), element 11 (test indicator) and the family of the
# message -> (ack_requested, test) of the envelope, or the error code
UNB_FLAG_CASES = [
    ("+IC1'", "MEDDIS", (False, False)),
    ("+IC1++++'", "MEDDIS", (False, False)),
    ("+IC1++++0'", "MEDDIS", (False, False)),
    ("+IC1++++1'", "MEDDIS", (True, False)),
    ("+IC1++++1++1'", "MEDDIS", (True, True)),
    ("+IC1++++++1'", "MEDDIS", (False, True)),
    ("+IC1++++0+AGR+1'", "MEDDIS", (False, True)),
    ("+IC1++++0+AGR+'", "MEDDIS", (False, False)),
    ("+IC1++++2'", "MEDDIS", "UNB_ELEMENT"),
    ("+IC1++++0++2'", "MEDDIS", "UNB_ELEMENT"),
    ("+IC1'", "CONTRL", (False, False)),
    ("+IC1++++0'", "CONTRL", (False, False)),
    ("+IC1++++0++1'", "CONTRL", (False, True)),
    ("+IC1++++1'", "CONTRL", "CONTRL_ACK_REQUEST"),
    ("+IC1++++1++1'", "CONTRL", "CONTRL_ACK_REQUEST"),
]


@pytest.mark.parametrize(("tail", "family", "expected"), UNB_FLAG_CASES)
def test_unb_acknowledgement_request_and_test_indicator(tail, family, expected) -> None:
    ident = "CONTRL:D:93A:ZZ:C0230Q+CTL02" if family == "CONTRL" else "MEDDIS:D:93A:UN:D0133L+DIS01"
    data = wrap(f"UNH+R1+{ident}'UNT+2+R1'", unb="UNB+UNOC:3+1+2+250301:0930" + tail)
    if isinstance(expected, str):
        with pytest.raises(EdifactError) as info:
            parse_envelope(data)
        assert info.value.code == expected and info.value.tag == "UNB"
        return
    ic = parse_envelope(data)
    assert (ic.ack_requested, ic.test) == expected
    lenient = read_envelope_leniently(data)
    assert (lenient.ack_requested, lenient.test) == expected


@pytest.mark.parametrize(
    ("family", "ack_requested", "refused"),
    [("CONTRL", True, True), ("CONTRL", False, False), ("MEDDIS", True, False),
     ("MEDDIS", False, False), ("MEDREF", True, False)],
)
def test_a_receipt_requesting_a_receipt_is_refused(family, ack_requested, refused) -> None:
    assert receipt_requested_for_receipt(family, ack_requested) is refused
