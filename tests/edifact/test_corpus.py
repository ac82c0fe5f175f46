"""MedCom's own test corpus: every valid sample parses and round-trips segment for segment,
every DIS20_ERROR sample is rejected naming the right place. Skips when the corpus is absent."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
from medcom_samples import VALID_EDIFACT, sample_bytes
from pydifact.segmentcollection import Interchange as PydifactInterchange

from gateway.edifact import EdifactError, encode, parse_envelope, tokenize
from gateway.edifact.tokenizer import Event, Tokenizer

VALID = VALID_EDIFACT

# name suffix -> (code, tag, segment number) of the envelope/charset errors (codec core)
ENVELOPE_ERRORS = {
    "ENC0": ("CHARSET", "NAD", 11),
    "UNB0": ("UNB_ELEMENT", "UNB", 1),
    "UNB1": ("UNB_MISSING", "UNH", 1),
    "UNB2": ("UNB_DUPLICATE", "UNB", 2),
    "UNB3": ("AFTER_UNZ", "UNB", 29),
    "UNH0": ("UNH_EMPTY", "UNH", 1),
    "UNH1": ("UNH_MISSING", "BGM", 2),
    "UNH2": ("UNH_UNT_REF", "UNT", 26),
    "UNT0": ("UNT_COUNT", "UNT", 26),
    "UNT1": ("UNT_MISSING", "UNZ", 27),
    "UNT2": ("UNT_EMPTY", "UNT", 26),
    "UNZ0": ("UNZ_REF", "UNZ", 28),
    "UNZ1": ("UNZ_COUNT", "UNZ", 28),
    "UNZ2": ("UNZ_ELEMENT", "UNZ", 28),
    "UNZ3": ("UNZ_MISSING", "UNZ", None),
}
# the deep-validation errors (gateway.edifact.validate): tag and segment number (UNH = 1)
DEEP_ERRORS = {"XSL0": ("NAD", 5), "XSL1": ("PAS", 25), "XSL2": ("DTM", 24)}


def error_name(suffix: str) -> str:
    return f"edifact_unittest_DIS20_ERROR_{suffix}.edi"


def test_corpus_lists_are_complete(samples_dir: Path) -> None:
    on_disk = {p.name for p in samples_dir.glob("edifact_*.edi")}
    errors = {error_name(s) for s in [*ENVELOPE_ERRORS, *DEEP_ERRORS]}
    assert len(VALID) == 28 and len(errors) == 18
    assert on_disk == set(VALID) | errors


@pytest.mark.parametrize("name", VALID)
def test_valid_sample_envelope(samples_dir: Path, name: str) -> None:
    ic = parse_envelope(sample_bytes(name))
    assert len(ic.messages) == 1
    msg = ic.messages[0]
    named_type = "DIS20" if "unittest" in name else name.split("_")[1]
    assert msg.type[:4] == named_type[:4]  # DIS91_3 is a DIS90 (same family)
    assert msg.family.startswith(("MED", "CONTRL")) and msg.version and msg.segments
    assert ic.sender and ic.recipient and ic.control_ref


@pytest.mark.parametrize("name", VALID)
def test_round_trip_segment_for_segment(samples_dir: Path, name: str) -> None:
    data = sample_bytes(name)
    assert tokenize(encode(parse_envelope(data))) == tokenize(data)


@pytest.mark.parametrize("name", VALID)
def test_incremental_tokeniser_agrees(samples_dir: Path, name: str) -> None:
    data = sample_bytes(name)
    tok = Tokenizer()
    events = []
    for i in range(0, len(data), 7):
        tok.feed(data[i : i + 7])
        while (ev := tok.next_event()) is not Event.NEED_DATA:
            events.append(ev)
    tok.close()
    assert tok.next_event() is Event.END
    assert events == tokenize(data)


@pytest.mark.parametrize("name", [n for n in VALID if "BIN01" not in n])
def test_identical_segments_to_pydifact(samples_dir: Path, name: str) -> None:
    """pydifact cannot read MEDBIN's raw bytes, so BIN01 is compared only by round trip."""
    data = sample_bytes(name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = PydifactInterchange.from_str(data.decode("latin-1"))
    expected = [theirs.get_header_segment(), *theirs.segments, theirs.get_footer_segment()]
    assert tokenize(data) == expected


@pytest.mark.parametrize("suffix", sorted(ENVELOPE_ERRORS))
def test_envelope_error_samples(samples_dir: Path, suffix: str) -> None:
    code, tag, segment_no = ENVELOPE_ERRORS[suffix]
    with pytest.raises(EdifactError) as info:
        parse_envelope(sample_bytes(error_name(suffix)))
    err = info.value
    assert (err.code, err.tag, err.segment_no) == (code, tag, segment_no), str(err)


def test_unt0_message_reads_as_the_issue_says(samples_dir: Path) -> None:
    with pytest.raises(EdifactError) as info:
        parse_envelope(sample_bytes(error_name("UNT0")))
    assert str(info.value) == "UNT segment 26: count 25 does not match 26 segments"


def test_enc0_names_the_charset(samples_dir: Path) -> None:
    with pytest.raises(EdifactError) as info:
        parse_envelope(sample_bytes(error_name("ENC0")))
    assert str(info.value) == (
        "NAD segment 11, element 4 component 1: byte 0x99 is not allowed in UNOC "
        "(ISO 8859-1 graphic characters)"
    )


# -- the full parse (with the semantic layer: validate + letters) ----------------------------


@pytest.fixture
def full_parse():
    from gateway.edifact import parse

    return parse


@pytest.mark.parametrize("name", VALID)
def test_valid_sample_full_parse(samples_dir: Path, full_parse, name: str) -> None:
    data = sample_bytes(name)
    ic = full_parse(data)
    assert tokenize(encode(ic)) == tokenize(data)
    for msg in ic.messages:  # the model covers letters (MEDDIS, REF01) and receipts (CONTRL)
        modelled = msg.family in ("MEDDIS", "CONTRL") or msg.type == "REF01"
        assert (msg.letter is not None) == modelled, msg.type


@pytest.mark.parametrize("suffix", sorted([*ENVELOPE_ERRORS, *DEEP_ERRORS]))
def test_all_18_error_samples_rejected_by_parse(samples_dir: Path, full_parse, suffix: str) -> None:
    with pytest.raises(EdifactError) as info:
        full_parse(sample_bytes(error_name(suffix)))
    err = info.value
    if suffix in DEEP_ERRORS:
        assert (err.tag, err.segment_no) == DEEP_ERRORS[suffix], str(err)
    else:
        assert err.code == ENVELOPE_ERRORS[suffix][0], str(err)
