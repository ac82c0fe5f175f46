"""Real ``medbro worker`` processes delivering into EDI mailbox outboxes, for fault tests.

The ingesting side is a ``Hub`` in the test process (what the API or a mailbox watcher does);
the delivering side is the ``medbro worker`` command with MEDBRO_* settings. Exactly once is
counted where a receiver would see it: one file per UNB reference in the outboxes, byte for
byte what was sent. A module with a name of its own (not ``conftest``) so every test package
can import it.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa

from adapters.edi_mailbox.mapping import parse_outbox_name
from gateway.demo import discharge_letter
from gateway.pipeline.hub import Hub
from gateway.store.tables import MessageRow

HOSPITAL = "5790000120420"
GPS = ("5790000128686", "5790000181872")


def partners(mailboxes: Path) -> str:
    """The registry: the GPs take DIS01 into outboxes under ``mailboxes``."""
    text = (f'[[endpoints]]\ngln = "{HOSPITAL}"\nname = "hospital"\nkind = "hospital"\n'
            f'channel = {{ kind = "edi_mailbox", outbox = "{mailboxes / HOSPITAL}" }}\n\n')
    for gln in GPS:
        text += (f'[[endpoints]]\ngln = "{gln}"\nname = "gp {gln}"\nkind = "gp"\n'
                 f'accepts = [{{ type = "DIS01" }}]\n'
                 f'channel = {{ kind = "edi_mailbox", outbox = "{mailboxes / gln}" }}\n\n')
    return text


def patient(i: int) -> tuple[str, str, str]:
    """A distinct fictitious patient per letter (test serials 9xxx)."""
    cpr = f"{1 + i % 28:02d}{1 + (i // 28) % 12:02d}{50 + (i // 336) % 40:02d}{9000 + i % 1000}"
    return cpr, "Ærøboe", f"Søren {i}"


def letters(n: int, tag: str) -> dict[str, bytes]:
    """``n`` DIS01 interchanges (no receipt asked: resends stay out of the count) by UNB ref."""
    out = {}
    for i in range(n):
        data = discharge_letter(i, sender=HOSPITAL, receiver=GPS[i % len(GPS)], patient=patient(i),
                                prepared_at=datetime(2026, 3, 2, 9, 30), ack_requested=False)
        ref = f"K{tag}{i:05d}"
        out[ref] = data.replace(f"KDEMO{i:06d}".encode(), ref.encode())
    return out


@dataclass
class Fleet:
    root: Path
    hub: Hub
    env: dict[str, str]
    workers: list[subprocess.Popen] = field(default_factory=list)

    def start_worker(self, **env: str) -> subprocess.Popen:
        log = open(self.root / f"worker{len(self.workers)}.log", "wb")  # noqa: SIM115
        proc = subprocess.Popen([sys.executable, "-m", "gateway.cli", "worker", "--log-console"],
                                env={**self.env, **env}, stdout=log, stderr=subprocess.STDOUT,
                                cwd=self.root)
        self.workers.append(proc)
        return proc

    def worker_log(self) -> str:
        return "".join((self.root / f"worker{i}.log").read_text(errors="replace")
                       for i in range(len(self.workers)))

    def files(self) -> dict[str, Path]:
        """Every outbox file by name, over all GP outboxes."""
        out: dict[str, Path] = {}
        for gln in GPS:
            folder = self.root / "mailboxes" / gln
            if folder.is_dir():
                out.update({p.name: p for p in folder.iterdir() if not p.name.startswith(".")})
        return out

    async def ingest_all(self, batch: dict[str, bytes], concurrency: int = 16) -> None:
        gate = asyncio.Semaphore(concurrency)

        async def one(data: bytes) -> None:
            async with gate:
                result = await self.hub.ingest(data, received_via="test")
                assert result.error is None, result.error

        await asyncio.gather(*(one(d) for d in batch.values()))

    async def wait_files(self, count: int, timeout: float) -> int:
        deadline = time.monotonic() + timeout
        while len(self.files()) < count and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        return len(self.files())

    def stop_workers(self) -> None:
        for proc in self.workers:
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)

    def assert_exactly_once(self, batch: dict[str, bytes]) -> None:
        """One outbox file per UNB ref sent, with the bytes sent; every message delivered."""
        files = self.files()
        refs = [parse_outbox_name(name)[1] for name in files]
        assert sorted(refs) == sorted(batch), "outbox refs differ from the refs sent"
        for name, path in files.items():
            assert path.read_bytes() == batch[parse_outbox_name(name)[1]]
        with self.hub.store.transaction() as session:
            states = session.execute(sa.select(MessageRow.state, sa.func.count()).where(
                MessageRow.control_ref.in_(list(batch))).group_by(MessageRow.state)).all()
        assert dict(states) == {"delivered": len(batch)}


def worker_env(*, database_url: str, broker_url: str, config: Path, prefix: str) -> dict[str, str]:
    return {**os.environ, "MEDBRO_DATABASE_URL": database_url, "MEDBRO_BROKER_URL": broker_url,
            "MEDBRO_CONFIG": str(config), "MEDBRO_BROKER_PREFIX": prefix,
            "MEDBRO_SCAN_INTERVAL_SECONDS": "1", "MEDBRO_PREFETCH": "32",
            "PYTHONUNBUFFERED": "1"}
