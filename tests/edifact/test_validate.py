"""Deep validation: every valid MedCom sample passes; each broken variant is rejected with the
code, segment number (UNH = 1), tag, element and component of its problem."""

from __future__ import annotations

import os

import pytest
from medcom_samples import VALID_EDIFACT, sample_bytes

from gateway.edifact import EdifactError, parse
from gateway.edifact.segment_values import DTM_LENGTHS, dtm_valid, parse_dtm
from gateway.edifact.validate import message_problems, validate_message
from gateway.model import RefusalCode

from .fixtures_semantics.messages import index_of, inserted, sample_message, with_segment

VALID = VALID_EDIFACT


@pytest.mark.parametrize("name", VALID)
def test_every_valid_sample_has_no_problem(samples_dir, name: str) -> None:
    for message in parse(sample_bytes(name)).messages:
        assert message_problems(message) == []


# MedCom's three grammar errors (converter XSLT errors): code, segment no, tag, element, comp
XSL = {
    "XSL0": ("CODE_UNKNOWN", 5, "NAD", 1, 1, "'SORT' is not allowed here (allowed: ROR, SOR)"),
    "XSL1": ("CODE_UNKNOWN", 25, "PAS", 1, 1, "'HA' is not allowed here (allowed: DA, HS)"),
    "XSL2": ("DTM_FORMAT", 24, "DTM", 1, 3, "DTM+90 must use format 203 (CCYYMMDDHHMM), not 204"),
}


@pytest.mark.parametrize("suffix", sorted(XSL))
def test_medcom_grammar_errors_are_named(samples_dir, suffix: str) -> None:
    code, no, tag, element, component, text = XSL[suffix]
    with pytest.raises(EdifactError) as caught:
        parse(sample_bytes(f"edifact_unittest_DIS20_ERROR_{suffix}.edi"))
    err = caught.value
    assert (err.code, err.segment_no, err.tag, err.element, err.component) == (
        code,
        no,
        tag,
        element,
        component,
    )
    assert text in err.message
    assert err.message_ref == "24681012"
    assert err.receipt_hint == RefusalCode.SYN
    assert str(err).startswith(f"{tag} segment {no}, element {element} component {component}:")


def test_xsl2_also_reports_the_wrong_length_when_all_problems_are_asked(samples_dir) -> None:
    message = sample_message("edifact_unittest_DIS20_ERROR_XSL2.edi")
    assert [(e.code, e.segment_no, e.component) for e in message_problems(message)] == [
        ("DTM_FORMAT", 24, 3),
        ("DTM_VALUE", 24, 2),
    ]


def _dis01():
    return sample_message("edifact_DIS01_1.edi")


# (edit of DIS01's body, expected (code, segment_no, tag, element, component, refusal))
CASES = {
    "unknown type": (lambda m: _retype(m, "DIS99"), ("UNKNOWN_TYPE", 1, "UNH", 3, None, "VER")),
    "wrong version": (
        lambda m: _reversion(m, "D9133L"),
        ("UNKNOWN_VERSION", 1, "UNH", 2, 5, "VER"),
    ),
    "wrong agency": (lambda m: _reagency(m, "ZZ"), ("UNH_IDENTIFIER", 1, "UNH", 2, 4, "VER")),
    "bad DTM length": (
        lambda m: with_segment(m, 1, "DTM+137:19990115101:203"),
        ("DTM_VALUE", 3, "DTM", 1, 2, "SYN"),
    ),
    "impossible date": (
        lambda m: with_segment(m, 1, "DTM+137:199902301012:203"),
        ("DTM_VALUE", 3, "DTM", 1, 2, "SYN"),
    ),
    "no leap day": (
        lambda m: with_segment(m, 1, "DTM+137:202302291012:203"),
        ("DTM_VALUE", 3, "DTM", 1, 2, "SYN"),
    ),
    "hour 24": (
        lambda m: with_segment(m, 1, "DTM+137:199901152400:203"),
        ("DTM_VALUE", 3, "DTM", 1, 2, "SYN"),
    ),
    "format missing": (
        lambda m: with_segment(m, 1, "DTM+137:199901151012"),
        ("ELEMENT_MISSING", 3, "DTM", 1, 3, "SYN"),
    ),
    "unknown scheme": (
        lambda m: with_segment(m, 3, "NAD+SSP+2001060:XYZ:SST"),
        ("CODE_UNKNOWN", 5, "NAD", 2, 2, "SYN"),
    ),
    "agency mismatch": (
        lambda m: with_segment(m, 3, "NAD+SSP+2001060:SKS:SFU"),
        ("AGENCY_UNKNOWN", 5, "NAD", 2, 3, "SYN"),
    ),
    "segment not allowed": (
        lambda m: inserted(m, 3, "PAS+HS"),
        ("SEGMENT_UNEXPECTED", 5, "PAS", None, None, "SYN"),
    ),
    "segment order": (
        lambda m: _swap(m, "SEQ++1", "SPR+ORG"),
        ("SEGMENT_ORDER", 7, "SEQ", None, None, "SYN"),
    ),
    "segment repeated": (
        lambda m: inserted(m, index_of(m, "GIS+M"), "GIS+N"),
        ("SEGMENT_REPEAT", 18, "GIS", None, None, "SYN"),
    ),
    "mandatory segment missing": (
        lambda m: with_segment(m, index_of(m, "GIS+M"), None),
        ("SEGMENT_MISSING", 16, "GIS", None, None, "SYN"),
    ),
    "group trigger number": (
        lambda m: with_segment(m, index_of(m, "S02"), "S02+03"),
        ("GROUP_TRIGGER", 16, "S02", 1, None, "SYN"),
    ),
    "unknown group": (
        lambda m: inserted(m, index_of(m, "S07"), "S03+03"),
        ("GROUP_UNEXPECTED", 25, "S03", None, None, "SYN"),
    ),
    "group order": (
        lambda m: _move_s05_after_s07(m),
        ("GROUP_ORDER", 23, "S05", None, None, "SYN"),
    ),
    "mandatory group missing": (
        lambda m: _drop_group(m, "S07"),
        ("GROUP_MISSING", 25, "S07", None, None, "SYN"),
    ),
    "sender missing": (
        lambda m: with_segment(m, 3, "NAD+CCR+2001060:SKS:SST"),
        ("REQUIRED_MISSING", 4, "S01", None, None, "SYN"),
    ),
    "date without its diagnosis": (
        lambda m: inserted(m, index_of(m, "FTX"), "DTM+CIS:199812120900:203"),
        ("SEGMENT_CONTEXT", 47, "DTM", None, None, "SYN"),
    ),
    "six FTX lines": (
        lambda m: with_segment(m, len(m.segments) - 1, "FTX+NC+P00++a:b:c:d:e:f"),
        ("FTX_COMPONENTS", 50, "FTX", 4, 6, "SYN"),
    ),
    "71 characters": (
        lambda m: with_segment(m, len(m.segments) - 1, "FTX+NC+P00++" + "x" * 71),
        ("FTX_LENGTH", 50, "FTX", 4, 1, "SYN"),
    ),
    "bad FTX format": (
        lambda m: with_segment(m, len(m.segments) - 1, "FTX+NC+p0++x"),
        ("VALUE_FORMAT", 50, "FTX", 2, 1, "SYN"),
    ),
}


def _retype(m, type_):
    m = with_segment(m, 0, "BGM+EPI++9+NA")
    m.type = type_
    return m


def _reversion(m, version):
    m = with_segment(m, 0, "BGM+EPI++9+NA")
    m.identifier[4] = m.version = version
    return m


def _reagency(m, agency):
    m = with_segment(m, 0, "BGM+EPI++9+NA")
    m.identifier[3] = agency
    return m


def _swap(m, first, second):
    i, j = index_of(m, first), index_of(m, second)
    m = with_segment(m, 0, "BGM+EPI++9+NA")
    m.segments[i], m.segments[j] = m.segments[j], m.segments[i]
    return m


def _group_span(m, name):
    start = index_of(m, name)
    end = start + 1
    while end < len(m.segments) and not m.segments[end].tag.startswith("S"):
        end += 1
    return start, end


def _move_s05_after_s07(m):
    m = with_segment(m, 0, "BGM+EPI++9+NA")
    s05, s07 = _group_span(m, "S05"), _group_span(m, "S07")
    block5, block7 = m.segments[s05[0] : s05[1]], m.segments[s07[0] : s07[1]]
    m.segments[s05[0] : s07[1]] = block7 + block5
    return m


def _drop_group(m, name):
    m = with_segment(m, 0, "BGM+EPI++9+NA")
    start, end = _group_span(m, name)
    del m.segments[start:end]
    return m


@pytest.mark.parametrize("case", sorted(CASES))
def test_broken_dis01_variants_are_named(samples_dir, case: str) -> None:
    edit, (code, no, tag, element, component, refusal) = CASES[case]
    message = edit(_dis01())
    with pytest.raises(EdifactError) as caught:
        validate_message(message)
    err = caught.value
    assert (err.code, err.segment_no, err.tag, err.element, err.component) == (
        code,
        no,
        tag,
        element,
        component,
    ), str(err)
    assert err.receipt_hint == RefusalCode(refusal)
    assert err.message_ref == "BrevNr00129"


def test_structure_only_types_allow_any_segment_but_not_unknown_groups(samples_dir) -> None:
    ref01 = sample_message("edifact_REF01_1.edi")
    assert message_problems(inserted(ref01, index_of(ref01, "S07"), "XYZ+1")) == []
    problems = message_problems(inserted(ref01, index_of(ref01, "S07"), "S25+25"))
    assert [(p.code, p.tag) for p in problems] == [("GROUP_UNEXPECTED", "S25")]


def test_ctl03_refuses_a_refusal_text_and_a_rejecting_action(samples_dir) -> None:
    ctl03 = sample_message("edifact_CTL03_1.edi")
    problems = message_problems(inserted(ctl03, 2, "FTX+SYN+P00++tekst"))
    assert [(p.code, p.tag, p.segment_no) for p in problems] == [("SEGMENT_UNEXPECTED", "FTX", 4)]
    problems = message_problems(with_segment(ctl03, 1, "UCM+1111FRE01095+MEDREF:D:93A:UN:H0130R+4"))
    assert [(p.code, p.segment_no, p.element) for p in problems] == [("CODE_UNKNOWN", 3, 3)]


def test_ctl02_without_refusal_text_is_incomplete(samples_dir) -> None:
    ctl02 = sample_message("edifact_CTL02_1.edi")
    problems = message_problems(with_segment(ctl02, 2, None))
    assert [(p.code, p.tag) for p in problems] == [("SEGMENT_MISSING", "FTX")]


# -- robustness: any edit of a valid letter is either valid (and maps) or an EdifactError ----

from hypothesis import event, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from gateway.edifact.letters import to_model  # noqa: E402
from gateway.edifact.segment_values import build, element, pack, unpack  # noqa: E402

PIECES = [
    "S01+01",
    "S14+14",
    "S11+11",
    "NAD+SSP+1:SKS:SST",
    "NAD+PO",
    "GIS+N",
    "GIS+X",
    "DTM+90:202401011200:203",
    "DTM+91:2024:102",
    "DTM+CIS",
    "CIN+A+X:SKS:SST:t",
    "PAS+HS",
    "FTX+NC+P00++a\\",
    "FTX+OE+F00++.:b",
    "RFF+SRI:1",
    "PNA+PAT+1234567890:::CPR:IM",
    "REL+PER+FA",
    "SPR+ORG++DIS01:SKS:SST",
    "SEQ++1",
    "XYZ",
    "S99+99",
    "S05+05",
]


def _normal(el):
    """The tokeniser's form of an element: trailing empty components dropped."""
    return element(*el) if isinstance(el, list) else el


@settings(max_examples=int(os.environ.get("MEDBRO_FUZZ_EXAMPLES", "300")), deadline=None)
@given(
    edits=st.lists(
        st.tuples(
            st.sampled_from(["drop", "insert", "replace", "mangle"]),
            st.integers(0, 60),
            st.sampled_from(PIECES),
            # graphic characters only: the tokeniser refuses control bytes before this
            st.text(st.characters(codec="latin-1", exclude_categories=("Cc",)), max_size=5),
        ),
        min_size=1,
        max_size=4,
    ),
    sample=st.sampled_from(
        ["edifact_DIS01_1.edi", "edifact_DIS20_1.edi", "edifact_DIS91_3.edi", "edifact_CTL02_1.edi"]
    ),
)
def test_edited_letters_are_valid_or_named_never_a_crash(samples_dir, edits, sample) -> None:
    message = sample_message(sample)
    segments = list(message.segments)
    for action, at, piece, junk in edits:
        at %= len(segments) + 1
        if action == "drop" and at < len(segments):
            del segments[at]
        elif action == "insert":
            segments.insert(at, unpack(piece))
        elif action == "replace" and at < len(segments):
            segments[at] = unpack(piece)
        elif action == "mangle" and at < len(segments):
            mangled = unpack(pack(segments[at]) + junk.replace("?", "").replace("'", ""))
            segments[at] = build(mangled.tag, *(_normal(e) for e in mangled.elements))
    message.segments = segments
    try:
        validate_message(message)
    except EdifactError as err:
        event(f"rejected: {err.code}")
        assert err.segment_no is not None and 1 <= err.segment_no <= len(segments) + 2
        return
    event("valid")
    letter = to_model(message)  # a valid message always maps ...
    if letter is None:
        return
    from collections import Counter

    from gateway.edifact.letters import from_model

    rendered = from_model(letter)

    # ... nothing it said is lost: every segment comes back (the writer may add conventions;
    # layout is not content: free text is compared as text below, not by where FTX splits
    # it, and the writer may group S14 diagnoses and texts differently)
    def content(segs):
        return Counter(pack(s) for s in segs if s.tag != "FTX" and not s.tag.startswith("S"))

    missing = content(segments) - content(rendered)
    assert not missing, missing
    # ... and its model survives rendering
    again = type(message)(
        message.ref,
        message.family,
        message.version,
        message.type,
        list(message.identifier),
        rendered,
    )
    assert to_model(again) == letter


def test_a_leap_day_is_a_valid_date() -> None:
    message = with_segment(_dis01(), 1, "DTM+137:202402291012:203")
    assert message_problems(message) == []


@given(
    fmt=st.sampled_from(sorted(DTM_LENGTHS)),
    parts=st.lists(st.integers(0, 99), min_size=7, max_size=7),
    tail=st.sampled_from(["", "0", "\n", "x"]),
    cut=st.booleans(),
)
def test_the_quick_dtm_check_agrees_with_the_datetime(
    fmt: str, parts: list[int], tail: str, cut: bool
) -> None:
    """``dtm_valid`` decides most values by one regex; it must answer exactly as building the
    datetime does (``parse_dtm``), on real dates, near misses and junk alike."""
    digits = "".join(f"{p:02d}" for p in parts)[: DTM_LENGTHS[fmt]]
    text = (digits[:-1] if cut else digits) + tail
    assert dtm_valid(text, fmt) == (parse_dtm(text, fmt) is not None)
