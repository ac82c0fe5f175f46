"""EDI mailbox adapter: naming rules, the client contract (files and the memory twin), watcher."""

from __future__ import annotations

import asyncio
import os
import threading
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.edi_mailbox import EdiMailboxChannel
from adapters.edi_mailbox.client import MailboxClient
from adapters.edi_mailbox.config import MailboxConfig
from adapters.edi_mailbox.mapping import (
    MailboxNameError,
    claimed_name,
    is_complete,
    original_name,
    outbox_name,
    parse_outbox_name,
)
from adapters.edi_mailbox.testing import MemoryMailboxClient
from adapters.edi_mailbox.watcher import MailboxWatcher
from gateway.channels import Delivery, TransientDeliveryError, load_channel
from gateway.errors import ConfigError

# -- mapping ---------------------------------------------------------------------------------

NAMES = [
    ("5790000120420", "KuvertNr012234", "5790000120420_KuvertNr012234.edi"),
    ("DKKMDKMDNET", "KuvertNr1234", "DKKMDKMDNET_KuvertNr1234.edi"),
    ("5790000120420", "A_B", "5790000120420_A%5FB.edi"),
    ("5790000120420", "../x", "5790000120420_%2E.%2Fx.edi"),
    ("5790000120420", "Æ 1", "5790000120420_%C6%201.edi"),
]


@pytest.mark.parametrize(("sender", "ref", "name"), NAMES)
def test_outbox_name_table(sender: str, ref: str, name: str) -> None:
    assert outbox_name(sender, ref) == name
    assert parse_outbox_name(name) == (sender, ref)
    assert "/" not in name and is_complete(name)


@given(
    st.text(st.characters(min_codepoint=32, max_codepoint=255), min_size=1, max_size=20),
    st.text(st.characters(min_codepoint=32, max_codepoint=255), min_size=1, max_size=14),
)
def test_outbox_name_round_trips_any_latin1(sender: str, ref: str) -> None:
    name = outbox_name(sender, ref)
    assert parse_outbox_name(name) == (sender, ref)
    assert "/" not in name and is_complete(name)


@pytest.mark.parametrize(
    ("name", "complete"),
    [("a.edi", True), (".a.edi", False), ("a.edi.tmp", False), ("a.part", False),
     ("a~", False), ("", False), ("DIS01", True)],
)
def test_only_complete_inbox_names_are_taken(name: str, complete: bool) -> None:
    assert is_complete(name) is complete


def test_claimed_name_keeps_the_original() -> None:
    claimed = claimed_name("x_y.edi", datetime(2026, 1, 2, 3, 4, 5, 6), "0badcafe")
    assert claimed == "20260102T030405000006Z-0badcafe~x_y.edi"
    assert original_name(claimed) == "x_y.edi"
    with pytest.raises(MailboxNameError):
        original_name("x_y.edi")
    with pytest.raises(MailboxNameError):
        parse_outbox_name("no-separator.edi")
    with pytest.raises(MailboxNameError):
        outbox_name("", "ref")


def test_config_errors_name_the_endpoint(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="5790000128686.*outbox"):
        MailboxConfig.from_options("5790000128686", {})
    with pytest.raises(ConfigError, match="poll_interval"):
        MailboxConfig.from_options("1", {"directory": str(tmp_path), "poll_interval": 0})
    cfg = MailboxConfig.from_options("1", {"directory": str(tmp_path), "poll_interval": "2"})
    assert cfg.poll_interval == 2.0 and cfg.outbox == tmp_path / "outbox"


# -- client contract: the same suite for files and the memory twin ---------------------------


@pytest.fixture(params=["files", "memory"])
def client(request: pytest.FixtureRequest, tmp_path: Path) -> MailboxClient | MemoryMailboxClient:
    config = MailboxConfig(gln="5790000128686", directory=tmp_path / "mb")
    made = MailboxClient(config) if request.param == "files" else MemoryMailboxClient(config)
    made.ensure_dirs()
    return made


def test_publish_is_idempotent_by_name(client) -> None:
    assert client.publish("a_1.edi", b"UNB+first'") is True
    assert client.publish("a_1.edi", b"UNB+again'") is False
    assert client.outbox_names() == ["a_1.edi"]
    assert client.read_outbox("a_1.edi") == b"UNB+first'"


def test_publish_passes_bytes_through(client) -> None:
    payload = bytes(range(256)) + "Ærø Sø".encode("latin-1")
    client.publish("a_2.edi", payload)
    assert client.read_outbox("a_2.edi") == payload


def test_claim_store_archive_cycle(client) -> None:
    client.drop("one.edi", b"1")
    client.drop("two.edi", b"2")
    assert sorted(client.ready()) == ["one.edi", "two.edi"]
    claimed = client.claim("one.edi")
    assert claimed is not None and original_name(claimed) == "one.edi"
    assert client.claim("one.edi") is None  # a file is claimed once
    assert client.ready() == ["two.edi"]
    assert client.claimed() == [claimed]
    assert client.read_claimed(claimed) == b"1"
    client.archive(claimed)
    assert client.claimed() == [] and client.archived() == [claimed]


def test_same_file_name_sent_twice_archives_both(client) -> None:
    client.drop("same.edi", b"1")
    first = client.claim("same.edi")
    client.archive(first)
    client.drop("same.edi", b"2")
    second = client.claim("same.edi")
    client.archive(second)
    assert len(client.archived()) == 2


# -- file specifics ---------------------------------------------------------------------------


def test_files_being_written_are_left_alone(tmp_path: Path) -> None:
    config = MailboxConfig(gln="1", directory=tmp_path)
    client = MailboxClient(config)
    client.ensure_dirs()
    (config.inbox / ".hidden.edi").write_bytes(b"x")
    (config.inbox / "letter.edi.tmp").write_bytes(b"x")
    (config.inbox / "done.edi").write_bytes(b"x")
    (config.inbox / "subdir").mkdir()
    assert client.ready() == ["done.edi"]


def test_min_age_waits_for_files_that_are_still_changing(tmp_path: Path) -> None:
    config = MailboxConfig(gln="1", directory=tmp_path, min_age=60)
    client = MailboxClient(config)
    client.ensure_dirs()
    (config.inbox / "new.edi").write_bytes(b"x")
    old = config.inbox / "old.edi"
    old.write_bytes(b"x")
    os.utime(old, (1_000_000, 1_000_000))
    assert client.ready() == ["old.edi"]


def test_publish_leaves_no_temp_files(tmp_path: Path) -> None:
    client = MailboxClient(MailboxConfig(gln="1", directory=tmp_path))
    client.ensure_dirs()
    client.publish("a_1.edi", b"x")
    client.publish("a_1.edi", b"x")
    assert os.listdir(tmp_path / "outbox") == ["a_1.edi"]


def test_concurrent_publishers_create_one_file(tmp_path: Path) -> None:
    client = MailboxClient(MailboxConfig(gln="1", directory=tmp_path))
    client.ensure_dirs()
    results: list[bool] = []
    barrier = threading.Barrier(8)

    def publish() -> None:
        barrier.wait()
        results.append(client.publish("a_race.edi", b"payload"))

    threads = [threading.Thread(target=publish) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count(True) == 1
    assert os.listdir(tmp_path / "outbox") == ["a_race.edi"]


def test_concurrent_claimers_claim_each_file_once(tmp_path: Path) -> None:
    config = MailboxConfig(gln="1", directory=tmp_path)
    client = MailboxClient(config)
    client.ensure_dirs()
    for i in range(50):
        client.drop(f"f{i}.edi", b"x")
    claims: list[str | None] = []
    lock = threading.Lock()

    def claimer() -> None:
        other = MailboxClient(config)
        for name in other.ready():
            got = other.claim(name)
            with lock:
                claims.append(got)

    threads = [threading.Thread(target=claimer) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    won = [c for c in claims if c is not None]
    assert len(won) == 50
    assert sorted(original_name(c) for c in won) == sorted(f"f{i}.edi" for i in range(50))


# -- watcher ----------------------------------------------------------------------------------


@dataclass
class FakeResult:
    message_ids: list[str]
    state: str = "received"
    duplicate: bool = False


@dataclass
class RecordingIngest:
    """Stands in for Hub.ingest; ``failures`` makes the next calls raise (database away)."""

    calls: list[tuple[bytes, dict]] = field(default_factory=list)
    failures: int = 0

    async def __call__(self, data: bytes, **kwargs) -> FakeResult:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("database unavailable")
        self.calls.append((data, kwargs))
        return FakeResult([f"m{len(self.calls)}"])


async def test_watcher_stores_then_archives(client) -> None:
    ingest = RecordingIngest()
    watcher = MailboxWatcher(client, ingest, gln="5790000128686",
                             authenticated_glns=frozenset({"5790000128686"}))
    client.drop("a.edi", b"A")
    client.drop("b.edi", b"B")
    client.drop(".c.edi", b"C")
    assert await watcher.poll_once() == 2
    assert sorted(d for d, _ in ingest.calls) == [b"A", b"B"]
    assert ingest.calls[0][1]["received_via"] == "edi_mailbox"
    assert ingest.calls[0][1]["authenticated_glns"] == frozenset({"5790000128686"})
    assert len(client.archived()) == 2 and client.claimed() == []
    assert await watcher.poll_once() == 0  # never read twice


async def test_watcher_keeps_file_when_store_fails_and_retries(client) -> None:
    ingest = RecordingIngest(failures=2)
    watcher = MailboxWatcher(client, ingest, gln="1", concurrency=1)
    client.drop("a.edi", b"A")
    client.drop("b.edi", b"B")
    assert await watcher.poll_once() == 0
    assert len(client.claimed()) == 1 and client.archived() == []
    assert client.ready() != []  # nothing more claimed while the store is away
    assert await watcher.poll_once() == 0
    assert await watcher.poll_once() == 2  # leftover recovered first, then the rest
    assert sorted(d for d, _ in ingest.calls) == [b"A", b"B"]
    assert client.claimed() == [] and len(client.archived()) == 2


async def test_watcher_ingests_concurrently_and_stops_claiming_on_failure(client) -> None:
    ingest = RecordingIngest(failures=1)
    watcher = MailboxWatcher(client, ingest, gln="1", concurrency=4)
    for i in range(10):
        client.drop(f"f{i}.edi", bytes([i]))
    assert await watcher.poll_once() == 3  # one of the first four failed: stop claiming
    assert len(client.claimed()) == 1 and len(client.ready()) == 6
    assert await watcher.poll_once() == 7
    assert sorted(d for d, _ in ingest.calls) == [bytes([i]) for i in range(10)]
    assert client.claimed() == [] and client.ready() == [] and len(client.archived()) == 10


async def test_crash_leftovers_are_finished_at_startup(tmp_path: Path) -> None:
    config = MailboxConfig(gln="1", directory=tmp_path, poll_interval=0.05)
    client = MailboxClient(config)
    client.ensure_dirs()
    client.drop("a.edi", b"A")
    dead = MailboxClient(config)
    dead.claim("a.edi")  # a previous process claimed it and died before storing
    dead.close()  # (the kernel drops a dead process's locks)
    ingest = RecordingIngest()
    stop = asyncio.Event()
    task = asyncio.create_task(MailboxWatcher(client, ingest, gln="1",
                                              poll_interval=0.05).run(stop))
    for _ in range(100):
        if ingest.calls:
            break
        await asyncio.sleep(0.02)
    stop.set()
    await task
    assert [d for d, _ in ingest.calls] == [b"A"]
    assert client.claimed() == [] and len(client.archived()) == 1


def test_outbox_only_config_derives_siblings(tmp_path: Path) -> None:
    cfg = MailboxConfig.from_options("1", {"outbox": str(tmp_path / "gp" / "out")})
    assert not cfg.has_inbox and cfg.outbox == tmp_path / "gp" / "out"
    cfg = MailboxConfig.from_options(
        "1", {"outbox": str(tmp_path / "out"), "inbox": str(tmp_path / "h" / "in")}
    )
    assert cfg.has_inbox and cfg.processing == tmp_path / "h" / "processing"
    assert cfg.archive == tmp_path / "h" / "archive"


# -- the channel (deliver) against the memory twin --------------------------------------------


def _delivery(ref: str = "KuvertNr1", payload: bytes = b"UNA:+.? 'UNB+x'") -> Delivery:
    return Delivery(message_id="m1", payload=payload, sender_gln="5790000120420",
                    receiver_gln="5790000128686", control_ref=ref, type="DIS01",
                    version="D0133L")


async def test_channel_delivers_once_by_name(tmp_path: Path) -> None:
    twin = MemoryMailboxClient(MailboxConfig(gln="5790000128686", directory=tmp_path))
    chan = EdiMailboxChannel(twin, gln="5790000128686")
    first = await chan.deliver(None, _delivery())
    again = await chan.deliver(None, _delivery())
    assert first.external_ref == again.external_ref == "5790000120420_KuvertNr1.edi"
    assert twin.outbox == {"5790000120420_KuvertNr1.edi": b"UNA:+.? 'UNB+x'"}


async def test_channel_disk_errors_are_transient(tmp_path: Path) -> None:
    twin = MemoryMailboxClient(MailboxConfig(gln="1", directory=tmp_path))
    twin.fail_next_publish = OSError(28, "No space left on device")
    chan = EdiMailboxChannel(twin, gln="1")
    with pytest.raises(TransientDeliveryError, match="No space left"):
        await chan.deliver(None, _delivery())
    await chan.deliver(None, _delivery())
    assert list(twin.outbox) == ["5790000120420_KuvertNr1.edi"]


def test_plugin_builds_channel_from_registry_endpoint(tmp_path: Path) -> None:
    from gateway.registry import Registry

    registry = Registry.from_dict({"endpoints": [{
        "gln": "5790000128686", "name": "Lægehuset", "kind": "gp",
        "accepts": [{"type": "DIS01"}],
        "channel": {"kind": "edi_mailbox", "outbox": str(tmp_path / "gp" / "outbox"),
                    "inbox": str(tmp_path / "gp" / "inbox"), "poll_interval": 0.2},
    }]})
    chan = load_channel(registry.endpoint("5790000128686"), None)
    assert isinstance(chan, EdiMailboxChannel) and chan.has_inbox
    assert chan.client.config.outbox == tmp_path / "gp" / "outbox"
    assert chan.poll_interval == 0.2


async def test_a_live_watchers_claim_is_left_alone_until_it_dies(tmp_path: Path) -> None:
    config = MailboxConfig(gln="1", directory=tmp_path)
    busy, other = MailboxClient(config), MailboxClient(config)
    busy.ensure_dirs()
    busy.drop("a.edi", b"A")
    claimed = busy.claim("a.edi")  # another watcher is storing it right now
    ingest = RecordingIngest()
    watcher = MailboxWatcher(other, ingest, gln="1")
    assert await watcher.poll_once() == 0 and ingest.calls == []
    assert other.adopt(claimed) is False and busy.adopt(claimed) is True
    busy.close()  # that watcher died
    assert await watcher.poll_once() == 1 and [d for d, _ in ingest.calls] == [b"A"]
    assert other.archived() == [claimed]


def test_adopt_after_the_owner_archived_is_false(tmp_path: Path) -> None:
    config = MailboxConfig(gln="1", directory=tmp_path)
    owner, late = MailboxClient(config), MailboxClient(config)
    owner.ensure_dirs()
    owner.drop("a.edi", b"A")
    claimed = owner.claim("a.edi")
    owner.archive(claimed)
    assert late.adopt(claimed) is False and late.claimed() == []
