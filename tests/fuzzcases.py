"""Fuzz cases for medbro's readers and ingest routes: seeds mutated by a seeded ``Random``.

One engine for the Hypothesis tests (tests/api/test_fuzz_ingest.py, which draw the ``Random``
so a failure shrinks and replays) and the longer campaign (bench/fuzz_campaign.py). Seeds are
MedCom's corpus (../shared/research/samples) when it is there, else letters the repo builds
itself (gateway.demo's DIS01, its OIOXML twin, both in a VANSEnvelope), so it runs anywhere.

Mutations keep most of a seed (a fuzz case that is all noise only tests the first check): flip
or insert bytes, insert MedCom's special characters and XML constructs that have broken medbro
before (a DOCTYPE, entities, control characters in text, lines of "." or ending in "\\"),
delete, duplicate or truncate a slice, repeat a segment many times.
"""

from __future__ import annotations

import base64
import random
import re
import uuid
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "research" / "samples"
HOSPITAL, GP = "5790000120420", "5790000128686"

PIECES = [
    b"'", b"+", b":", b"?", b"?'", b"UNA:+.? '", b"UNH+1+MEDDIS:D:93A:UN:D0133L+DIS01'",
    b"UNT+2+1'", b"UNZ+1+X'", b"FTX+AAI+++a:b'", b"\x00", b"\x85", b"\xff", b"\t", b"\r\n",
    b"<!DOCTYPE x>", b'<!DOCTYPE x [<!ENTITY e "aaaaaaaaaa">]>', b"&e;", b"&amp;", b"&#0;",
    b"<![CDATA[x]]>", b"<Break/>", b"<Break/>.<Break/>", b"x\\<Break/>", b"\\", b".",
    b"</Emessage>", b"<Emessage>", b"<?xml version='1.0'?>", b"\xef\xbb\xbf", b"99999999999",
    b"0108584947", b"-", b"2026-02-30", b"24:00",
]


def _strip_source(data: bytes) -> bytes:
    return data.split(b"\n", 1)[1] if data.startswith(b"# SOURCE") else data


def corpus_present() -> bool:
    return SAMPLES.is_dir()


def _wrap(payload: bytes, message_type: str, version: str, sender: str = HOSPITAL,
          receiver: str = GP) -> bytes:
    from adapters.vans import EndPoint, serialize, wrap

    return serialize(wrap(payload, sender=EndPoint(sender), receiver=EndPoint(receiver),
                          message_type=message_type, version=version,
                          envelope_id=str(uuid.UUID(int=len(payload))),
                          message_id=str(uuid.UUID(int=len(payload) + 1)),
                          now=datetime(2026, 11, 23, 9, 30)))


def seeds() -> dict[str, list[bytes]]:
    """Seeds per kind: ``edifact``, ``oioxml``, ``vans``."""
    from gateway.demo import discharge_letter
    from gateway.oioxml import from_edifact

    own = discharge_letter(1, sender=HOSPITAL, receiver=GP,
                           patient=("0108584947", "Mosebryggersen", "Schwenlund"),
                           prepared_at=datetime(2026, 11, 23, 9, 30))
    kinds = {"edifact": [own], "oioxml": [from_edifact(own)], "vans": [_wrap(own, "DIS01",
                                                                             "D0133L")]}
    if corpus_present():
        for path in sorted(SAMPLES.glob("edifact_*.edi")):
            kinds["edifact"].append(_strip_source(path.read_bytes()))
        for path in sorted(SAMPLES.glob("oioxml_*.xml")):
            kinds["oioxml"].append(_strip_source(path.read_bytes()))
        for path in sorted(SAMPLES.glob("vansenvelope_*message*.xml")):
            kinds["vans"].append(_strip_source(path.read_bytes()))
        kinds["vans"].append(_wrap(kinds["oioxml"][0], "DIS01", "XD0133L"))
    return kinds


def _text_spans(data: bytes) -> list[tuple[int, int]]:
    """Where XML text sits between tags (to mutate content, not structure)."""
    return [m.span(1) for m in re.finditer(rb">([^<]{1,200})<", data)]


def mutate(data: bytes, rnd: random.Random, *, rounds: int | None = None) -> bytes:
    """``data`` with 1-4 mutations chosen by ``rnd``."""
    out = bytearray(data)
    for _ in range(rounds if rounds is not None else rnd.randint(1, 4)):
        size = len(out)
        at = rnd.randrange(size + 1)
        op = rnd.randrange(9)
        if op == 0 and size:
            out[min(at, size - 1)] = rnd.randrange(256)
        elif op == 1:
            out[at:at] = rnd.choice(PIECES)
        elif op == 2 and size:
            end = min(size, at + rnd.randint(1, 64))
            del out[at:end]
        elif op == 3 and size:
            end = min(size, at + rnd.randint(1, 200))
            out[at:at] = out[at:end] * rnd.randint(1, 50)
        elif op == 4:
            del out[at:]
        elif op == 5:
            spans = _text_spans(bytes(out))
            if spans:
                start, end = rnd.choice(spans)
                where = rnd.randint(start, end)
                out[where:where] = rnd.choice(PIECES)
        elif op == 6:
            segment = rnd.choice([b"FTX'", b"'", b"FTX+AAI'", b"+"])
            out[at:at] = segment * rnd.choice([10, 1000, 20000])
        elif op == 7:
            out[at:at] = bytes(rnd.randrange(256) for _ in range(rnd.randint(1, 16)))
        else:
            found = out.find(b"<Data>")
            if found >= 0:  # mutate the payload inside a VANSEnvelope, re-encoded
                end = out.find(b"</Data>", found)
                inner = bytes(out[found + 6:end])
                try:
                    payload = base64.b64decode(b"".join(inner.split()))
                except ValueError:
                    continue
                payload = mutate(payload, rnd, rounds=1)
                out[found + 6:end] = base64.b64encode(payload)
    return bytes(out)


def case(kinds: dict[str, list[bytes]], kind: str, rnd: random.Random) -> bytes:
    return mutate(rnd.choice(kinds[kind]), rnd)


Check = Callable[[bytes], None]
