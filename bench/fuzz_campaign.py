"""A longer fuzz campaign over every reader and ingest route, bounded in time.

    .venv/bin/python bench/fuzz_campaign.py [--minutes 10] [--seed 1]

The targets and the mutation engine are the ones tests/api/test_fuzz_ingest.py runs briefly
in CI (tests/fuzzcases.py: MedCom's corpus as seeds when ../shared is there, else the repo's
own letters). Each target gets an equal share of the time; the routes run through the real app
and hub (SQLite, in-process transport) in this process. A failure is an exception other than
the sender's error (readers), an answer of 500 or more or a refused message its sender cannot
see (routes), an exception or neither stored nor answered with a receipt (the mailbox's
intake); the first few of each target are saved under ``--out`` to replay. Prints cases run
and failures per target, and ``uptime``.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Awaitable, Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]  # the packages first: tests/adapters must not shadow adapters
sys.path += [str(ROOT / "tests"), str(ROOT / "tests" / "api")]

from apiharness import running_api  # noqa: E402
from fuzzcases import case, corpus_present, seeds  # noqa: E402

from adapters.vans.envelope import VansEnvelopeError  # noqa: E402
from adapters.vans.envelope import parse as parse_envelope  # noqa: E402
from gateway.edifact import EdifactError  # noqa: E402
from gateway.edifact import parse as parse_edifact  # noqa: E402
from gateway.errors import RemoteMessageError  # noqa: E402
from gateway.oioxml import to_edifact  # noqa: E402

Target = Callable[[random.Random], Awaitable[str | None]]  # None: fine; else what failed


def readers(kinds: dict[str, list[bytes]]) -> dict[str, Target]:
    def reader(kind: str, read: Callable[[bytes], object], allowed: type[Exception]) -> Target:
        async def run(rnd: random.Random) -> str | None:
            data = case(kinds, kind, rnd)
            try:
                read(data)
            except allowed:
                return None
            except Exception:  # noqa: BLE001 - a finding, with the input to replay it
                return f"{traceback.format_exc()}\ninput: {data[:4000]!r}\n"
            return None

        return run

    return {
        "reader edifact parse": reader("edifact", parse_edifact, EdifactError),
        "reader vans envelope": reader("vans", parse_envelope, VansEnvelopeError),
        "reader oioxml to_edifact": reader("oioxml", to_edifact, RemoteMessageError),
    }


def routes(kinds: dict[str, list[bytes]], api) -> dict[str, Target]:
    def route(path: str, kind: str, content_type: str) -> Target:
        async def run(rnd: random.Random) -> str | None:
            answer = await api.post(path, case(kinds, kind, rnd), content_type=content_type)
            if answer.status_code >= 500:
                return f"{answer.status_code} {answer.text[:300]}"
            if answer.status_code == 422 and answer.json().get("message_ids"):
                view = await api.message(answer.json()["message_ids"][0])
                if view.status_code != 200:
                    return f"refused message not visible: {view.status_code}"
            return None

        return run

    from gateway.envelopes import envelope_intake

    async def on_receipt(name: str, data: bytes) -> None:
        return None

    intake = envelope_intake(api.hub.ingest, api.hub.settings, received_via="edi_mailbox",
                             on_receipt=on_receipt)

    async def mailbox(rnd: random.Random) -> str | None:
        try:  # never an exception: the watcher would keep the file and retry it forever
            result = await intake(case(kinds, rnd.choice(["edifact", "vans"]), rnd),
                                  received_via="edi_mailbox", source="fuzz/in.edi",
                                  authenticated_glns=None)
        except Exception:  # noqa: BLE001 - a finding
            return traceback.format_exc(limit=3)
        if result.message_ids or getattr(result, "receipt", None):
            return None  # stored, or an envelope answered with its (replayed) receipt
        return f"neither stored nor answered: {result!r}"[:300]

    return {
        "POST /v1/messages edifact": route("/v1/messages", "edifact", "application/edifact"),
        "POST /v1/messages vans": route("/v1/messages", "vans", "application/xml"),
        "POST /v1/hospital/letters edifact": route("/v1/hospital/letters", "edifact",
                                                   "application/edifact"),
        "POST /v1/hospital/letters oioxml": route("/v1/hospital/letters", "oioxml",
                                                  "application/xml"),
        "POST /v1/hospital/letters vans": route("/v1/hospital/letters", "vans",
                                                "application/xml"),
        "EDI mailbox intake": mailbox,
    }


async def campaign(minutes: float, seed: int, out: Path) -> None:
    kinds = seeds()
    print(f"uptime: {subprocess.run(['uptime'], capture_output=True, text=True).stdout.strip()}")
    print(f"seeds: {', '.join(f'{k} {len(v)}' for k, v in kinds.items())} "
          f"({'MedCom corpus + repo letters' if corpus_present() else 'repo letters only'})")
    with tempfile.TemporaryDirectory(prefix="medbro-fuzz-") as tmp:
        async with running_api(Path(tmp)) as api:
            targets = {**readers(kinds), **routes(kinds, api)}
            share = minutes * 60 / len(targets)
            print(f"{len(targets)} targets, {share:.0f} s each\n")
            print(f"{'target':<36} {'cases':>8} {'failures':>9} {'cases/s':>8}")
            total_cases = total_failures = 0
            for number, (name, target) in enumerate(targets.items()):
                rnd = random.Random(seed * 1000 + number)
                cases = failures = 0
                start = time.monotonic()
                while time.monotonic() - start < share:
                    found = await target(rnd)
                    cases += 1
                    if found is not None:
                        failures += 1
                        if failures <= 3:
                            (out / f"{name.replace(' ', '_').replace('/', '')}-{failures}.txt"
                             ).write_text(found, encoding="utf-8")
                elapsed = time.monotonic() - start
                print(f"{name:<36} {cases:>8} {failures:>9} {cases / elapsed:>8.1f}",
                      flush=True)
                total_cases += cases
                total_failures += failures
            print(f"{'all':<36} {total_cases:>8} {total_failures:>9}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path("var/fuzz"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    import logging

    from gateway.logging import configure

    configure(json=True, level=logging.ERROR)  # the figures, not a log line per case
    asyncio.run(campaign(args.minutes, args.seed, args.out))


if __name__ == "__main__":
    main()
