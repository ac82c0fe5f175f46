"""Bounded reading (issue 13): the codec validates as it tokenises, block by block, so the first
wrong segment stops the parse, and memory stays a small multiple of the input."""

from __future__ import annotations

import gc
import tracemalloc
from datetime import datetime

import pytest
from medcom_samples import VALID_EDIFACT, sample_bytes

from gateway.edifact import EdifactError, parse, parse_envelope, read_envelope_leniently, tokenizer
from gateway.edifact.receipts import negative_vans_receipt, receipt_owed
from gateway.model import RefusalCode

from .fixtures_core import cases
from .test_envelope import ERROR_CASES, fixture

NOW = datetime(2026, 11, 22, 18, 30)
HEAD = (
    b"UNA:+.? 'UNB+UNOC:3+5790000000001:14+5790000000002:14+250301:0930+IC1++++0'"
    b"UNH+R1+MEDDIS:D:93A:UN:D0133L+DIS01'"
)
MILLION = 1_000_000


def hostile(segment: bytes = b"FTX'", count: int = MILLION) -> bytes:
    """A 4 MB interchange of a million tiny segments before BGM (the probe of issue 13)."""
    return HEAD + segment * count + b"UNT+%d+R1'UNZ+1+IC1'" % (count + 2)


@pytest.fixture
def tokenised_bytes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The sizes of the blocks the tokeniser's fast path read."""
    sizes: list[int] = []
    real = tokenizer.fast_tokens

    def spy(data: bytes, *args: object) -> object:
        sizes.append(len(data))
        return real(data, *args)

    monkeypatch.setattr(tokenizer, "fast_tokens", spy)
    return sizes


def test_the_first_wrong_segment_stops_the_parse(tokenised_bytes: list[int]) -> None:
    data = hostile()
    with pytest.raises(EdifactError) as info:
        parse(data)
    err = info.value
    assert (err.code, err.tag, err.segment_no, err.message_ref) == (
        "SEGMENT_UNEXPECTED", "FTX", 2, "R1",
    )
    # one block was read, not the 4 MB behind it
    assert len(data) > 4_000_000 and sum(tokenised_bytes) <= tokenizer.BLOCK + 100


def test_errors_come_in_stream_order() -> None:
    """A wrong segment in the first message is reported before a broken UNZ after it."""
    data = HEAD + b"FTX'UNT+3+R1'UNZ+1+WRONG'"
    with pytest.raises(EdifactError) as info:
        parse(data)
    assert (info.value.code, info.value.segment_no) == ("SEGMENT_UNEXPECTED", 2)
    with pytest.raises(EdifactError) as info:
        parse_envelope(data)  # the envelope alone checks no letter grammar
    assert info.value.code == "UNZ_REF"


@pytest.mark.parametrize(
    "read",
    [
        pytest.param(parse, id="parse"),
        pytest.param(read_envelope_leniently, id="lenient envelope"),
        pytest.param(lambda data: receipt_owed(data, now=NOW), id="CTL02 owed"),
        pytest.param(
            lambda data: negative_vans_receipt(data, RefusalCode.LOK, now=NOW, vans_id="V"),
            id="CTL01",
        ),
    ],
)
def test_memory_stays_a_small_multiple_of_a_hostile_input(read) -> None:
    data = hostile()
    tracemalloc.start()
    try:
        try:
            answer = read(data)
        except EdifactError as err:
            answer = err
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert answer is not None  # refused, or the envelope and receipt that answer it
    assert peak <= 2 * len(data), f"peak {peak:,} bytes for {len(data):,} bytes of input"


@pytest.mark.parametrize(("data", "code", "tag", "segment_no", "element"), ERROR_CASES)
def test_block_boundaries_change_nothing_in_errors(
    monkeypatch: pytest.MonkeyPatch, data, code, tag, segment_no, element
) -> None:
    """Tiny blocks (every few segments) give the errors of the one-block read."""
    monkeypatch.setattr(tokenizer, "BLOCK", 7)
    with pytest.raises(EdifactError) as info:
        parse_envelope(data)
    err = info.value
    assert (err.code, err.tag, err.segment_no, err.element) == (code, tag, segment_no, element)


@pytest.mark.parametrize(
    "name", ["multi_message.edi", "escapes.edi", "latin1.edi", "binary.edi", "unoy.edi"]
)
@pytest.mark.parametrize("block", [1, 5, 16, 64])
def test_block_boundaries_change_nothing_in_interchanges(
    monkeypatch: pytest.MonkeyPatch, name: str, block: int
) -> None:
    whole = parse_envelope(fixture(name))
    monkeypatch.setattr(tokenizer, "BLOCK", block)
    assert parse_envelope(fixture(name)) == whole


def test_block_boundaries_at_escaped_terminators(monkeypatch: pytest.MonkeyPatch) -> None:
    body = b"".join(text for text, _ in cases.SEGMENT_CASES) * 50
    data = b"UNB+UNOC:3+1+2+250301:0930+IC1'" + body
    whole = tokenizer.tokenize(data)
    for block in (3, 11, 40):
        monkeypatch.setattr(tokenizer, "BLOCK", block)
        assert tokenizer.tokenize(data) == whole


@pytest.mark.parametrize("read_letters", [False, True], ids=["parse", "parse + letters"])
def test_a_parse_leaves_nothing_for_the_cycle_collector(samples_dir, read_letters: bool) -> None:
    """A parsed interchange is freed by reference counting as soon as it is dropped: no
    reference cycle (such as a deferred letter closing over its own message) leaves its
    segments to the cyclic collector, which costs time on every parse and holds memory."""
    gc.collect()
    gc.disable()
    try:
        for name in VALID_EDIFACT:
            interchange = parse(sample_bytes(name))
            if read_letters:
                for message in interchange.messages:
                    _ = message.letter
            del interchange
        assert gc.collect() == 0
    finally:
        gc.enable()
