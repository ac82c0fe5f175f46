"""Receipts: the CONTRL mapping, and the receipt a receiver owes (MedCom's rules)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import pytest
from medcom_samples import sample_bytes

from gateway.edifact import EdifactError, parse
from gateway.edifact.letters import render_letter
from gateway.edifact.receipt_texts import TITLES
from gateway.edifact.receipts import (
    Original,
    build_receipt,
    negative_vans_receipt,
    receipt_owed,
)
from gateway.errors import LocalUsageError
from gateway.model import OriginalLetter, Receipt, RefusalCode

NOW = datetime(2026, 11, 22, 18, 30, 41)
ERRORS = [  # UNB0 (no control reference) gets no receipt: UCI element 1 is mandatory
    "ENC0",
    "UNB2",
    "UNB3",
    "UNH0",
    "UNH1",
    "UNH2",
    "UNT0",
    "UNT1",
    "UNT2",
    "UNZ0",
    "UNZ1",
    "UNZ2",
    "UNZ3",
    "XSL0",
    "XSL1",
    "XSL2",
]


def test_ctl02_sample_maps_to_a_negative_receipt(samples_dir) -> None:
    receipt = parse(sample_bytes("edifact_CTL02_1.edi")).messages[0].letter
    assert receipt == Receipt(
        type="CTL02",
        version="C0230Q",
        ref="BrevNr5678",
        original_control_ref="MEDREF01095",
        original_sender="5790000181872",
        original_recipient="5790000120420",
        original_letters=(OriginalLetter("1111MAN01095", "MEDREF:D:93A:UN:H0130R", "4"),),
        refusal=RefusalCode.VER,
        text=(
            "EDI-brev med nummeret 1111MAN01095, afsendt 11/11 1999 kl 18.46 har ikke kunnet "
            "modtages. Horsens Sygehus, laboratoriet kan ikke modtage sygehushenvisninger. \n"
            "Med venlig hilsen\n IT-Hotline. Horsens Sygehus.Telefon 86345678."
        ),
        refused_letter_ref="1111MAN01095",
    )
    assert not receipt.accepted


def test_ctl01_and_ctl03_samples(samples_dir) -> None:
    ctl01 = parse(sample_bytes("edifact_CTL01_1.edi")).messages[0].letter
    assert ctl01.refusal is RefusalCode.LOK and ctl01.refused_letter_ref == ""
    assert [x.ref for x in ctl01.original_letters] == ["1111FRE01095", "1111MAN01095"]
    ctl03 = parse(sample_bytes("edifact_CTL03_1.edi")).messages[0].letter
    assert ctl03.accepted and ctl03.refusal is None and ctl03.text == ""
    assert ctl03.original_letters == (
        OriginalLetter("1111FRE01095", "MEDREF:D:93A:UN:H0130R", "7"),
    )


def test_positive_receipt_only_when_asked(samples_dir) -> None:
    assert receipt_owed(sample_bytes("edifact_DIS01_1.edi"), now=NOW) is None  # UNB 9 = 0
    raw = receipt_owed(
        sample_bytes("edifact_REF06_1.edi"), now=NOW, control_ref="K1", message_ref="M1"
    )
    answer = parse(raw)
    assert (answer.sender, answer.recipient) == ("5790000183784", "5790000127269")  # swapped
    assert (answer.control_ref, answer.ack_requested) == ("K1", False)
    [message] = answer.messages
    assert (message.ref, message.type, message.identifier) == (
        "M1",
        "CTL03",
        ["CONTRL", "D", "93A", "ZZ", "C0330Q"],
    )
    receipt = message.letter
    assert receipt.accepted and receipt.original_control_ref == "Kuv12345"
    assert receipt.original_letters == (OriginalLetter("Brv56789", "MEDREF:D:93A:UN:H0630R", "7"),)
    assert [s.tag for s in message.segments] == ["UCI", "UCM"]


@pytest.mark.parametrize("suffix", ERRORS)
def test_every_rejection_gets_a_negative_receipt_in_danish(samples_dir, suffix: str) -> None:
    data = sample_bytes(f"edifact_unittest_DIS20_ERROR_{suffix}.edi")
    raw = receipt_owed(data, now=NOW)
    assert raw is not None
    answer = parse(raw)
    assert (answer.sender, answer.recipient) == ("5790000143055", "5790000143054")
    assert len(answer.control_ref) <= 14 and answer.control_ref != "123456789"
    [message] = answer.messages
    receipt = message.letter
    assert message.identifier[-1] == "C0230Q" and receipt.type == "CTL02"
    assert receipt.refusal is RefusalCode.SYN
    assert receipt.text.startswith("EDI-")
    assert "er afvist. Segment" in receipt.text or "er afvist. Kuverten" in receipt.text
    assert {x.action for x in receipt.original_letters} <= {"4"}
    assert "fejl i meddelelsen" not in receipt.text  # a specific Danish text, not the fallback


def test_the_unt_receipt_text_names_place_and_numbers(samples_dir) -> None:
    raw = receipt_owed(sample_bytes("edifact_unittest_DIS20_ERROR_UNT0.edi"), now=NOW)
    receipt = parse(raw).messages[0].letter
    assert receipt.text == (
        "EDI-brev 24681012 i kuvert 123456789 er afvist. "
        "Segment 26 (UNT): antal 25 svarer ikke til 26 segmenter."
    )
    assert receipt.refused_letter_ref == "24681012"
    xsl0 = (
        parse(receipt_owed(sample_bytes("edifact_unittest_DIS20_ERROR_XSL0.edi"), now=NOW))
        .messages[0]
        .letter
    )
    assert xsl0.text.endswith(
        "Segment 5 (NAD), element 1, komponent 1: koden SORT er ikke tilladt her "
        "(tilladt: ROR, SOR)."
    )


def test_no_receipt_for_a_receipt_or_for_nobody(samples_dir) -> None:
    for name in ("edifact_CTL01_1.edi", "edifact_CTL02_1.edi", "edifact_CTL03_1.edi"):
        assert receipt_owed(sample_bytes(name), now=NOW) is None
    broken_ctl = sample_bytes("edifact_CTL02_1.edi").replace(b"UNT+5+", b"UNT+9+")
    assert receipt_owed(broken_ctl, now=NOW) is None
    assert receipt_owed(sample_bytes("edifact_unittest_DIS20_ERROR_UNB1.edi"), now=NOW) is None


DIS01 = ("R1", "MEDDIS:D:93A:UN:D0133L", "DIS01")
CTL02 = ("M1", "CONTRL:D:93A:ZZ:C0230Q", "CTL02")


@pytest.mark.parametrize(
    ("original", "answerable"),
    [
        (Original("1", "2", "C1", letters=(DIS01,)), True),
        (Original("1", "2", "C1"), True),  # no readable UNH: the receipt has no UCM
        (Original("", "2", "C1", letters=(DIS01,)), False),  # nobody to answer
        (Original("1", "", "C1", letters=(DIS01,)), False),  # UCI element 3 would be empty
        (Original("1", "2", "", letters=(DIS01,)), False),  # UCI element 1 would be empty
        (Original("1", "2", "C1", letters=(CTL02,)), False),  # a receipt is never receipted
        (Original("1", "2", "C1", letters=(DIS01, CTL02)), False),
    ],
)
def test_which_originals_a_receipt_can_answer(original: Original, answerable: bool) -> None:
    assert original.answerable is answerable


UNB_NO_REF = b"UNA:+.? 'UNB+UNOC:3+5790000000001:14+5790000000002:14+250301:0930'"
INVALID_DIS01 = b"UNH+R1+MEDDIS:D:93A:UN:D0133L+DIS01'BGM+EPI++9+NA'UNT+3+R1'UNZ+1+IC1'"


def test_no_receipt_quotes_an_empty_interchange_reference() -> None:
    data = UNB_NO_REF + INVALID_DIS01
    assert receipt_owed(data, now=NOW) is None
    assert negative_vans_receipt(data, RefusalCode.LOK, now=NOW, vans_id="V") is None
    with_ref = data.replace(b"0930'", b"0930+IC1'")
    assert parse(receipt_owed(with_ref, now=NOW)).messages[0].letter.original_control_ref == "IC1"


def test_a_contrl_without_its_original_interchange_reference_is_refused() -> None:
    contrl = (
        b"UNB+UNOC:3+5790000000002:14+5790000000001:14+250301:0930+K1'"
        b"UNH+M1+CONTRL:D:93A:ZZ:C0330Q+CTL03'UCI+%s+5790000000001:14+5790000000002:14+7'"
        b"UCM+R1+MEDDIS:D:93A:UN:D0133L+7'UNT+4+M1'UNZ+1+K1'"
    )
    assert parse(contrl % b"IC1").messages[0].letter.original_control_ref == "IC1"
    with pytest.raises(EdifactError) as info:
        parse(contrl % b"")
    err = info.value
    assert (err.code, err.tag, err.segment_no, err.element, err.component) == (
        "ELEMENT_MISSING", "UCI", 2, 1, 1,
    )
    assert "original interchange reference" in str(err)
    assert receipt_owed(contrl % b"", now=NOW) is None  # and it is not answered


def test_the_receipt_for_a_test_interchange_is_a_test() -> None:
    unb = b"UNB+UNOC:3+5790000000001:14+5790000000002:14+250301:0930+IC1++++0++1'"
    for data in (unb + INVALID_DIS01, unb.replace(b"++1'", b"'") + INVALID_DIS01):
        test = b"++1'" in data
        ctl02 = parse(receipt_owed(data, now=NOW))
        ctl01 = parse(negative_vans_receipt(data, RefusalCode.LOK, now=NOW, vans_id="V"))
        assert ctl02.test is test and ctl01.test is test
        assert ctl02.messages[0].type == "CTL02" and not ctl02.ack_requested


def test_the_positive_receipt_for_a_test_interchange_is_a_test(samples_dir) -> None:
    data = sample_bytes("edifact_DIS01_1.edi").replace(b"++++0'", b"++++1++1'")
    assert parse(data).test
    ctl03 = parse(receipt_owed(data, now=NOW))
    assert ctl03.messages[0].type == "CTL03" and ctl03.test and not ctl03.ack_requested


def test_render_refuses_a_receipt_that_requests_a_receipt() -> None:
    original = Original("1", "2", "C1", letters=(DIS01,))
    envelope, receipt = build_receipt("CTL03", original, now=NOW)
    assert not envelope.ack_requested
    with pytest.raises(LocalUsageError, match="must not request a receipt"):
        render_letter(replace(envelope, ack_requested=True), receipt)


def test_receipts_are_pure(samples_dir) -> None:
    data = sample_bytes("edifact_unittest_DIS20_ERROR_XSL1.edi")
    assert receipt_owed(data, now=NOW) == receipt_owed(data, now=NOW)
    assert receipt_owed(data, now=NOW) != receipt_owed(data, now=NOW.replace(minute=31))


def test_unknown_type_is_refused_with_ver(samples_dir) -> None:
    data = sample_bytes("edifact_DIS20_1.edi").replace(b"+DIS20'", b"+DIS99'")
    receipt = parse(receipt_owed(data, now=NOW)).messages[0].letter
    assert receipt.refusal is RefusalCode.VER
    assert "brevtypen DIS99 kendes ikke" in receipt.text


def test_negative_vans_receipt(samples_dir) -> None:
    raw = negative_vans_receipt(
        sample_bytes("edifact_DIS01_1.edi"), RefusalCode.LOK, now=NOW, vans_id="DKKMDKMDNET"
    )
    answer = parse(raw)
    assert (answer.sender, answer.recipient) == ("DKKMDKMDNET", "5790000120420")
    receipt = answer.messages[0].letter
    assert (receipt.type, receipt.version, receipt.refusal) == ("CTL01", "C0130Q", RefusalCode.LOK)
    assert receipt.text == (
        "EDI-kuvert KuvertNr012234 afsendt 15/01 1999 kl 12.02 har ikke kunnet modtages: "
        "modtagerlokationsnummer 5790000128686 har ikke kunnet identificeres."
    )
    assert [s.tag for s in answer.messages[0].segments] == ["UCI", "FTX", "FTX", "UCM"] or [
        s.tag for s in answer.messages[0].segments
    ][:2] == ["UCI", "FTX"]
    assert (
        negative_vans_receipt(
            sample_bytes("edifact_CTL01_1.edi"), RefusalCode.LOK, now=NOW, vans_id="X"
        )
        is None
    )


def test_build_receipt_checks_its_arguments() -> None:
    original = Original("1", "2", "C1", letters=(("R", "MEDDIS:D:93A:UN:D0133L", "DIS01"),))
    with pytest.raises(LocalUsageError, match="refusal"):
        build_receipt("CTL02", original, now=NOW)
    with pytest.raises(LocalUsageError, match="refusal"):
        build_receipt("CTL03", original, now=NOW, refusal=RefusalCode.SYN)
    with pytest.raises(LocalUsageError, match="14 characters"):
        build_receipt("CTL03", original, now=NOW, control_ref="X" * 15)
    with pytest.raises(LocalUsageError, match="receipt type"):
        build_receipt("CTL04", original, now=NOW)
    envelope, receipt = build_receipt("CTL03", original, now=NOW)
    assert envelope.prepared_at == datetime(2026, 11, 22, 18, 30)
    assert (envelope.sender, envelope.recipient) == ("2", "1")
    assert receipt.original_letters == (OriginalLetter("R", "MEDDIS:D:93A:UN:D0133L", "7"),)


def test_every_error_code_of_the_codec_has_a_danish_title() -> None:
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "gateway" / "edifact"
    codes = set()
    for path in root.glob("*.py"):
        source = path.read_text()
        codes |= set(re.findall(r'\(\s*"([A-Z]+(?:_[A-Z0-9]+)+)",\s*f?"', source))
        codes |= set(re.findall(r'_located\([^)]*?"([A-Z_]+)"', source))
        codes |= set(re.findall(r'self\.fail\(\s*"([A-Z_]+)"', source))
    codes -= {"UNB", "UNH", "UNT", "UNZ"}
    missing = {c for c in codes if c not in TITLES and not c.startswith(("UNO", "UNOC"))}
    assert not missing, missing


import os  # noqa: E402

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=int(os.environ.get("MEDBRO_FUZZ_EXAMPLES", "300")), deadline=None)
@given(
    name=st.sampled_from(
        [
            "edifact_DIS01_1.edi",
            "edifact_DIS20_1.edi",
            "edifact_REF06_1.edi",
            "edifact_CTL02_1.edi",
            "edifact_DIS91_3.edi",
        ]
    ),
    cuts=st.lists(
        st.tuples(st.integers(0, 3000), st.integers(0, 40), st.binary(max_size=6)), max_size=3
    ),
)
def test_a_receipt_for_anything_is_a_valid_contrl_or_none(samples_dir, name, cuts) -> None:
    data = bytearray(sample_bytes(name))
    for at, length, insert in cuts:
        at %= len(data) + 1
        data[at : at + length] = insert
    raw = receipt_owed(bytes(data), now=NOW)
    if raw is None:
        return
    answer = parse(raw)  # a receipt medbro writes is always valid
    [message] = answer.messages
    assert message.type in ("CTL02", "CTL03")
    assert message.letter.refusal is None or message.letter.text.startswith("EDI-")
    assert not answer.ack_requested
