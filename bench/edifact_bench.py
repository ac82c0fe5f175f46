"""EDIFACT codec speed against pydifact on MedCom's sample corpus, same run, same segments.

    .venv/bin/python bench/edifact_bench.py [--rounds 15] [--repeat 20]

For every valid ``edifact_*.edi`` sample (``../shared/research/samples``, ``# SOURCE`` line
stripped) it first checks that the codec's tokeniser yields segments identical to pydifact's
``Interchange.from_str`` (UNB + segments + UNZ). BIN01 is left out of the comparison and the
timing: pydifact cannot read MEDBIN's raw bytes (it fails on them).

Then it times, in process CPU time, ``--rounds`` rounds; each round runs every contender once,
pydifact first, over the whole corpus (``--repeat`` passes for the codec, a tenth of that for
the slower pydifact):

1. **pydifact**: ``Interchange.from_str(data.decode("latin-1"))`` (decoding included, pydifact's
   warnings silenced so they cost nothing);
2. **tokeniser**: ``gateway.edifact.tokenize(data)`` (bytes in, pydifact segments out);
3. **envelope**: ``gateway.edifact.parse_envelope(data)`` (tokeniser + UNB..UNZ checks + model);
4. **full parse**: ``gateway.edifact.parse(data)``, the path ingest uses: tokeniser + envelope +
   the letter-type grammar, validated in the same block-by-block pass (issue 13). The canonical
   letter is built when first read, so:
5. **parse + letters**: ``parse(data)`` and reading every ``message.letter`` (what
   ``gateway.pipeline.codec.read`` does for the summary), for comparison.

The machine is shared, and pydifact's speed swings with the load as much as the codec's, so a
ratio of two separately taken bests is noisy. Each round's ratio is taken against the pydifact
pass of the same round (a second or so apart, under the same load), and the median of the
rounds' ratios is printed, with its spread and ``uptime``. Targets: tokeniser / pydifact >= 10
(issue 2) and parse() / pydifact >= 10 (issue 13), with identical segments.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

from pydifact.segmentcollection import Interchange as PydifactInterchange

from gateway.edifact import parse, parse_envelope, tokenize

SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "research" / "samples"


def load_corpus() -> dict[str, bytes]:
    corpus = {}
    for path in sorted(SAMPLES.glob("edifact_*.edi")):
        if "ERROR" in path.name or "BIN01" in path.name:
            continue
        data = path.read_bytes()
        if data.startswith(b"# SOURCE"):
            data = data.split(b"\n", 1)[1]
        corpus[path.name] = data
    return corpus


def pydifact_segments(data: bytes) -> list:
    ic = PydifactInterchange.from_str(data.decode("latin-1"))
    return [ic.get_header_segment(), *ic.segments, ic.get_footer_segment()]


def parse_with_letters(data: bytes) -> object:
    interchange = parse(data)
    for message in interchange.messages:
        _ = message.letter
    return interchange


def measure(
    runs: dict[str, tuple[Callable[[bytes], object], int]],
    corpus: list[bytes],
    rounds: int,
) -> dict[str, list[float]]:
    """CPU seconds per corpus pass of each run, one figure per round.

    The runs are interleaved within each round and timed in process CPU time, so the other
    jobs on this shared 2-core machine slow the contenders of one round alike; the collector is
    emptied before each timing so no run pays for another's garbage. A warm-up pass first, so
    no round pays for the first use of the grammar tables."""
    times: dict[str, list[float]] = {name: [] for name in runs}
    for run, _ in runs.values():  # warm up: imports, compiled grammars, caches
        for data in corpus:
            run(data)
    for _ in range(rounds):
        for name, (run, repeat) in runs.items():
            gc.collect()
            start = time.process_time()
            for _ in range(repeat):
                for data in corpus:
                    run(data)
            times[name].append((time.process_time() - start) / repeat)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    if not SAMPLES.is_dir():
        print(f"sample corpus not found at {SAMPLES}", file=sys.stderr)
        return 2
    warnings.simplefilter("ignore")  # pydifact warns per segment about missing directories

    corpus = load_corpus()
    segments = 0
    for name, data in corpus.items():
        ours, theirs = tokenize(data), pydifact_segments(data)
        if ours != theirs:
            print(f"DIFFERENT segments for {name}", file=sys.stderr)
            return 1
        segments += len(ours)
    print(f"corpus: {len(corpus)} interchanges, {segments} segments, identical to pydifact")

    data = list(corpus.values())
    base = "pydifact Interchange.from_str"
    times = measure(
        {
            base: (pydifact_segments, max(1, args.repeat // 10)),
            "codec tokenize": (tokenize, args.repeat),
            "codec parse_envelope": (parse_envelope, args.repeat),
            "codec parse (full)": (parse, max(1, args.repeat // 4)),
            "codec parse + letters": (parse_with_letters, max(1, args.repeat // 4)),
        },
        data,
        args.rounds,
    )
    ratios = {
        name: sorted(b / t for b, t in zip(times[base], own, strict=True))
        for name, own in times.items()
    }
    for name, own in times.items():
        rate = segments / statistics.median(own)
        spread = f"{ratios[name][0]:5.1f}..{ratios[name][-1]:5.1f}"
        print(
            f"{name:32s} {rate:12,.0f} segments/s   x{statistics.median(ratios[name]):6.1f} "
            f"vs pydifact (median of {args.rounds} rounds, {spread})"
        )
    for label, name in (("tokeniser", "codec tokenize"), ("parse()", "codec parse (full)")):
        ratio = statistics.median(ratios[name])
        verdict = "OK" if ratio >= 10 else "MISSED"
        print(f"{label} / pydifact ratio: {ratio:.1f} (target >= 10): {verdict}")
    print(f"uptime: {os.popen('uptime').read().strip()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
