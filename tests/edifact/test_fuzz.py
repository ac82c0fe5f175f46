"""Any bytes give an ``Interchange`` or an ``EdifactError``, never another exception (h11's fuzz
rule); feeding the same bytes in any chunks gives the same answer as feeding them at once."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.edifact import EdifactError, Interchange, parse, read_envelope_leniently
from gateway.edifact.tokenizer import Event, Tokenizer, tokenize

from .test_corpus import VALID

SAMPLES = Path(__file__).resolve().parents[3] / "shared" / "research" / "samples"
FIXTURES = Path(__file__).parent / "fixtures_core"


def _strip_source(data: bytes) -> bytes:
    return data.split(b"\n", 1)[1] if data.startswith(b"# SOURCE") else data


SEEDS = [p.read_bytes() for p in sorted(FIXTURES.glob("*.edi"))]
if SAMPLES.is_dir():
    SEEDS += [_strip_source((SAMPLES / name).read_bytes()) for name in VALID]

PIECES = [
    b"UNA:+.? '",
    b"UNA|*,# ~",
    b"UNB+UNOC:3+5790000000001:14+5790000000002:14+250101:0000+R'",
    b"UNB+UNOY:3+1+2+250101:0000+R++++1'",
    b"UNH+1+MEDDIS:D:93A:UN:D0133L+DIS01'",
    b"UNH+2+CONTRL:D:93A:ZZ:C0230Q+CTL02'",
    b"BGM+EPI++9+NA'",
    b"GIS+N'",
    b"UNT+2+1'",
    b"UNT+3+1'",
    b"UNZ+1+R'",
    b"UNZ+0+R'",
    b"UNO+1+A+B+3'",
    b"UNP+3+1'",
    b"abc",
    b"?",
    b"'",
    b"+",
    b":",
    b"\x00",
    b"\x85",
    b"\xff",
    b"\xc3\xa6",
    b"\xb2",
    b"UNT+\xb2+1'",
    b"\r\n",
    b" ",
    b"FTX+AAB+++a?:b'",
]


def assert_parses_or_rejects(data: bytes) -> None:
    try:
        result = parse(data)
    except EdifactError as err:
        assert str(err)
    else:
        assert isinstance(result, Interchange)
    info = read_envelope_leniently(data)  # must never raise either
    assert info is None or isinstance(info.sender, str)


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=400))
def test_random_bytes(data: bytes) -> None:
    assert_parses_or_rejects(data)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=25))
def test_random_envelope_pieces(pieces: list[bytes]) -> None:
    assert_parses_or_rejects(b"".join(pieces))


@st.composite
def mutated_seed(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(data)))
        action = draw(st.sampled_from(["delete", "insert", "replace"]))
        chunk = draw(st.binary(min_size=1, max_size=6) | st.sampled_from(PIECES))
        if action == "delete":
            del data[at : at + len(chunk)]
        elif action == "insert":
            data[at:at] = chunk
        else:
            data[at : at + len(chunk)] = chunk
    return bytes(data)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_seed())
def test_mutated_samples(data: bytes) -> None:
    assert_parses_or_rejects(data)


def chunked(data: bytes, cuts: list[int]) -> tuple[list, str | None]:
    tok = Tokenizer()
    events: list = []
    bounds = sorted({c % (len(data) + 1) for c in cuts} | {0, len(data)})
    try:
        for a, b in zip(bounds, bounds[1:], strict=False):
            tok.feed(data[a:b])
            while (ev := tok.next_event()) is not Event.NEED_DATA:
                events.append(ev)
        tok.close()
        while (ev := tok.next_event()) is not Event.END:
            events.append(ev)
    except EdifactError as err:
        return events, err.code
    return events, None


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_seed(), st.lists(st.integers(0, 10_000), max_size=12))
def test_chunking_never_changes_the_answer(data: bytes, cuts: list[int]) -> None:
    events, code = chunked(data, cuts)
    try:
        expected, expected_code = tokenize(data), None
    except EdifactError as err:
        expected, expected_code = None, err.code
    assert code == expected_code
    if expected is not None:
        assert events == expected
