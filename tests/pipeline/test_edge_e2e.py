"""End to end on the real RabbitMQ and PostgreSQL: EDI mailbox and HTTP in, outbox file out,
receipts back; unknown receiver -> CTL01 in the sender's outbox; duplicates delivered once.

Everything real: the hub's default channel plugins (``edi_mailbox``), inbound watchers on the
mailbox directories, the API app over ASGI, quorum queues under a unique prefix.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.api.app import create_app
from gateway.channels import load_channel
from gateway.demo import discharge_letter
from gateway.edifact import parse
from gateway.edifact.receipts import receipt_owed
from gateway.pipeline.hub import Hub
from gateway.registry import hash_api_key
from gateway.settings import Settings

pytestmark = [pytest.mark.rabbitmq, pytest.mark.postgres]

HOSPITAL, GP, UNKNOWN = "5790000120420", "5790000128686", "5790000999990"
API_KEY = "e2e-hospital-key"
PATIENT = ("0101509991", "Ærøboe", "Søren")


def partners(root: Path) -> str:
    def mailbox(gln: str) -> str:
        return f'channel = {{ kind = "edi_mailbox", directory = "{root / gln}", ' \
               f"poll_interval = 0.05 }}\n"

    return (
        f'[[endpoints]]\ngln = "{HOSPITAL}"\nname = "Hospital"\nkind = "hospital"\n'
        f"{mailbox(HOSPITAL)}\n"
        f'[[endpoints]]\ngln = "{GP}"\nname = "Lægehuset"\nkind = "gp"\n'
        f'accepts = [{{ type = "DIS01", versions = ["D0133L"] }}]\n{mailbox(GP)}\n'
        f'[[organisations]]\nname = "Region"\nglns = ["{HOSPITAL}"]\n'
        f'api_key_sha256 = ["{hash_api_key(API_KEY)}"]\n'
    )


@dataclass
class Running:
    hub: Hub
    channels: dict[str, Any]
    api: httpx.AsyncClient

    def mailbox(self, gln: str) -> Any:
        return self.channels[gln].client

    async def wait_files(self, gln: str, count: int, timeout: float = 20.0) -> list[str]:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            names = self.mailbox(gln).outbox_names()
            if len(names) >= count or asyncio.get_running_loop().time() > deadline:
                return names
            await asyncio.sleep(0.05)

    async def wait_state(self, message_id: str, state: str, timeout: float = 20.0) -> dict:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            view = self.hub.message_view(message_id)
            if view["state"] == state or asyncio.get_running_loop().time() > deadline:
                return view
            await asyncio.sleep(0.05)

    async def wait_events(self, message_id: str, event: str, count: int,
                          timeout: float = 20.0) -> dict:
        """Poll until the message shows ``count`` ``event`` events; fail on the deadline."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            view = self.hub.message_view(message_id)
            seen = sum(e["event"] == event for e in view["events"])
            if seen >= count:
                return view
            assert asyncio.get_running_loop().time() < deadline, (
                f"{seen} {event} events after {timeout} s, expected {count}")
            await asyncio.sleep(0.05)


@pytest.fixture
async def running(tmp_path: Path, postgres_url: str, amqp_url: str, broker_prefix: str,
                  request: pytest.FixtureRequest) -> AsyncIterator[Running]:
    config = tmp_path / "partners.toml"
    config.write_text(partners(tmp_path / "mailboxes"), encoding="utf-8")
    overrides = getattr(request, "param", {})  # settings a test asks for (indirect)
    settings = Settings.load(database_url=postgres_url, broker_url=amqp_url, config=config,
                             broker_prefix=broker_prefix, scan_interval_seconds=0.2, **overrides)
    hub = Hub.from_settings(settings)
    await hub.start()
    channels = {ep.gln: load_channel(ep, settings) for ep in hub.registry.endpoints}
    for chan in channels.values():
        chan.client.ensure_dirs()
    stop = asyncio.Event()
    tasks = [asyncio.create_task(hub.run_worker(stop))]
    tasks += [asyncio.create_task(c.watch(hub.ingest, stop)) for c in channels.values()]
    app = create_app(hub, manage_hub=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://medbro.test") as api:
        try:
            yield Running(hub, channels, api)
        finally:
            stop.set()
            await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 30)
            with contextlib.suppress(Exception):
                await hub.transport.delete(hub.topology)
            await hub.stop()


def letter(seq: int, receiver: str = GP, ack: bool = True) -> bytes:
    return discharge_letter(seq, sender=HOSPITAL, receiver=receiver, patient=PATIENT,
                            prepared_at=datetime(2026, 3, 2, 9, 30), ack_requested=ack)


async def test_inbox_file_to_outbox_file_and_ctl03_back(running: Running) -> None:
    data = letter(1)
    running.mailbox(HOSPITAL).drop("letter1.edi", data)
    files = await running.wait_files(GP, 1)
    assert files == [f"{HOSPITAL}_KDEMO000001.edi"]
    assert running.mailbox(GP).read_outbox(files[0]) == data  # byte for byte
    assert running.mailbox(HOSPITAL).archived() and not running.mailbox(HOSPITAL).claimed()

    ctl03 = receipt_owed(data, now=datetime(2026, 3, 2, 10, 0))
    running.mailbox(GP).drop("ctl03.edi", ctl03)
    forwarded = await running.wait_files(HOSPITAL, 1)
    assert len(forwarded) == 1 and forwarded[0].startswith(f"{GP}_")
    assert running.mailbox(HOSPITAL).read_outbox(forwarded[0]) == ctl03
    receipt = parse(ctl03).messages[0].letter
    assert receipt.type == "CTL03" and receipt.original_control_ref == "KDEMO000001"

    message_id = (await _message_ids(running, "KDEMO000001"))[0]
    view = await running.wait_state(message_id, "acknowledged")
    assert view["state"] == "acknowledged"
    assert [a["outcome"] for a in view["attempts"]] == ["delivered"]
    assert [r["kind"] for r in view["receipts"]] == ["CTL03"]


async def test_http_to_outbox_file_and_visible_state(running: Running) -> None:
    data = letter(2)
    response = await running.api.post("/v1/messages", content=data, headers={
        "X-API-Key": API_KEY, "Content-Type": "application/edifact"})
    assert response.status_code == 202, response.text
    (message_id,) = response.json()["message_ids"]
    files = await running.wait_files(GP, 1)
    assert running.mailbox(GP).read_outbox(files[0]) == data
    await running.wait_state(message_id, "delivered")
    seen = await running.api.get(f"/v1/messages/{message_id}", headers={"X-API-Key": API_KEY})
    assert seen.status_code == 200
    body = seen.json()
    assert body["state"] == "delivered" and body["received_via"] == "http"
    assert body["attempts"][0]["external_ref"] == f"{HOSPITAL}_KDEMO000002.edi"
    assert body["receipt_due_at"] is not None  # the sender asked for a receipt


async def test_unknown_receiver_gets_ctl01_in_senders_outbox(running: Running) -> None:
    data = letter(3, receiver=UNKNOWN)
    running.mailbox(HOSPITAL).drop("lost.edi", data)
    files = await running.wait_files(HOSPITAL, 1)
    assert len(files) == 1
    ctl01 = parse(running.mailbox(HOSPITAL).read_outbox(files[0]))
    receipt = ctl01.messages[0].letter
    assert ctl01.envelope.recipient == HOSPITAL
    assert receipt.type == "CTL01" and str(receipt.refusal) == "LOK"
    assert receipt.original_control_ref == "KDEMO000003"
    (message_id,) = await _message_ids(running, "KDEMO000003")
    view = running.hub.message_view(message_id)
    assert view["state"] == "parked" and view["tasks"]
    assert running.mailbox(GP).outbox_names() == []


async def test_duplicate_is_delivered_once_and_gets_the_same_receipt(running: Running) -> None:
    headers = {"X-API-Key": API_KEY, "Content-Type": "application/edifact"}
    data = letter(4)
    first = await running.api.post("/v1/messages", content=data, headers=headers)
    second = await running.api.post("/v1/messages", content=data, headers=headers)
    assert first.status_code == second.status_code == 202
    assert second.json()["duplicate"] is True
    assert second.json()["message_ids"] == first.json()["message_ids"]
    await running.wait_files(GP, 1)
    running.mailbox(HOSPITAL).drop("dup.edi", data)  # and once more through the mailbox
    (message_id,) = first.json()["message_ids"]
    # the mailbox copy is recorded as a duplicate in the transaction that decides not to
    # deliver it, so once the event is there no second delivery can follow
    view = await running.wait_events(message_id, "duplicate_received", 2)
    assert sum(e["event"] == "duplicate_received" for e in view["events"]) == 2
    assert len(view["attempts"]) == 1
    assert running.mailbox(GP).outbox_names() == [f"{HOSPITAL}_KDEMO000004.edi"]

    # the receiver's CTL03 comes back; a duplicate after that is answered with that CTL03
    ctl03 = receipt_owed(data, now=datetime(2026, 3, 2, 10, 0))
    running.mailbox(GP).drop("ctl03.edi", ctl03)
    await running.wait_state(message_id, "acknowledged")
    third = await running.api.post("/v1/messages", content=data, headers=headers)
    assert third.json()["duplicate"] is True and third.json()["receipt"] == ctl03.decode(
        "latin-1")

    # a refused letter sent twice gets byte-identical CTL01s
    lost = letter(5, receiver=UNKNOWN)
    refused = [await running.api.post("/v1/messages", content=lost, headers=headers)
               for _ in range(2)]
    assert [r.status_code for r in refused] == [422, 422]
    assert refused[1].json()["duplicate"] is True and refused[0].json()["state"] == "parked"
    assert refused[0].json()["receipt"] == refused[1].json()["receipt"] is not None
    await running.wait_files(HOSPITAL, 2)
    assert len(running.mailbox(HOSPITAL).outbox_names()) == 2  # one CTL03, one CTL01


@pytest.mark.parametrize("running", [{"receipt_timeout_seconds": 1.0, "max_resends": 2}],
                         indirect=True)
async def test_missing_receipt_is_resent_twice_then_a_manual_task(running: Running) -> None:
    data = letter(6)
    running.mailbox(HOSPITAL).drop("l6.edi", data)
    name = f"{HOSPITAL}_KDEMO000006.edi"
    gp = running.mailbox(GP)
    (message_id,) = await _message_ids(running, "KDEMO000006")
    copies = 0
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 30
    # The GP system takes each copy out of its outbox and never answers; every resend puts the
    # same interchange (same bytes, same name) there again.
    while loop.time() < deadline:
        if name in gp.outbox_names():
            assert gp.read_outbox(name) == data
            (gp.config.outbox / name).unlink()
            copies += 1
        if running.hub.message_view(message_id)["state"] == "parked":
            break
        await asyncio.sleep(0.05)
    view = running.hub.message_view(message_id)
    assert view["state"] == "parked" and view["resend_count"] == 2
    assert copies == 3  # the original and two resends, never more (MedCom §3.2)
    assert [a["outcome"] for a in view["attempts"]] == ["delivered"] * 3
    assert [t["kind"] for t in view["tasks"]] == ["receipt_missing"]
    # not a synchronisation but an observation window: a further resend would be due one
    # receipt timeout (1 s) plus a scan (0.2 s) after the last copy
    await asyncio.sleep(1.5)
    assert gp.outbox_names() == []  # no further automatic resend after the task


async def _message_ids(running: Running, control_ref: str) -> list[str]:
    import sqlalchemy as sa

    from gateway.store.tables import MessageRow

    for _ in range(200):
        with running.hub.store.transaction() as session:
            ids = list(session.scalars(sa.select(MessageRow.id).where(
                MessageRow.control_ref == control_ref, MessageRow.sender_gln == HOSPITAL)))
        if ids:
            return ids
        await asyncio.sleep(0.05)
    raise AssertionError(f"no message with control ref {control_ref}")
