"""One contract for the channel port (gateway/channels.py), run over every channel kind.

Like ``TransportContract`` (tests/pipeline/test_transport_contract.py): each kind supplies a
harness with a real receiver on loopback (a directory, an HTTP server, the reference ESDH,
medbro's own VANS receiver), and the same tests run over all of them. The channel is always the
one the plugin builds from a partner-registry endpoint (``load_channel``), as the worker gets it.

The contract:

* the receiver gets the interchange byte for byte (Latin-1 letters included), and ``deliver``
  names what the receiver called it (``external_ref``);
* a redelivery of the same ``Delivery``, by the same channel or by a new one (a worker that
  died after delivering but before committing), is recognised: same ``external_ref``, and the
  receiver still shows the letter once;
* a receiver that cannot be reached is a ``TransientDeliveryError`` (the pipeline retries); a
  receiver that refuses the letter is a ``PermanentDeliveryError`` (parked for an operator);
* different letters delivered concurrently all arrive, each once.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from gateway.channels import (
    Delivery,
    PermanentDeliveryError,
    TransientDeliveryError,
    load_channel,
)
from gateway.demo import discharge_letter
from gateway.registry import Endpoint, Registry, hash_api_key

HOSPITAL, RECEIVER, FOREIGN = "5790000120420", "5790000128686", "5790009999994"
CPR, CPR_WITHOUT_CASE = "0108584947", "0203784471"


def letter(seq: int, *, cpr: str = CPR) -> bytes:
    """A DIS01 rendered by the codec (no corpus needed); its Ø is Latin-1 on the wire."""
    return discharge_letter(seq, sender=HOSPITAL, receiver=RECEIVER,
                            patient=(cpr, "Jensen", "Åse Øster"),
                            prepared_at=datetime(2026, 11, 23, 9, 30))


def delivery(seq: int = 1, *, cpr: str = CPR, sender: str = HOSPITAL,
             receiver: str = RECEIVER, control_ref: str | None = None) -> Delivery:
    return Delivery(message_id=f"msg-{seq}", payload=letter(seq, cpr=cpr), sender_gln=sender,
                    receiver_gln=receiver,
                    control_ref=f"KDEMO{seq:06d}" if control_ref is None else control_ref,
                    type="DIS01", version="D0133L")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def endpoint(channel: dict[str, Any]) -> Endpoint:
    registry = Registry.from_dict({"endpoints": [
        {"gln": RECEIVER, "name": "receiver", "kind": "gp", "channel": channel}]})
    found = registry.endpoint(RECEIVER)
    assert found is not None
    return found


@contextlib.contextmanager
def served(app: Any) -> Iterator[str]:
    """An ASGI app served by uvicorn on a free loopback port, in a thread."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "server did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


# -- harnesses: one receiver per channel kind ---------------------------------------------------


class Harness:
    """A channel kind with its receiver. ``received()`` is what the receiver shows its users
    (None: the receiver is medbro itself); ``unreachable`` and ``refused`` are None when the
    kind cannot fail that way."""

    kind: str

    def endpoint(self) -> Endpoint:
        raise NotImplementedError

    def received(self) -> list[bytes] | None:
        raise NotImplementedError

    def unreachable(self) -> Endpoint | None:
        return None

    def refused(self) -> Delivery | None:
        return None


class LocalHarness(Harness):
    kind = "local"

    def endpoint(self) -> Endpoint:
        return endpoint({"kind": "local"})

    def received(self) -> None:
        return None  # the worker records the letter in medbro's own store


class MailboxHarness(Harness):
    kind = "edi_mailbox"

    def __init__(self, tmp_path: Path) -> None:
        self.root = tmp_path / "mailbox"

    def endpoint(self) -> Endpoint:
        return endpoint({"kind": "edi_mailbox", "directory": str(self.root)})

    def received(self) -> list[bytes]:
        outbox = self.root / "outbox"
        return [p.read_bytes() for p in sorted(outbox.iterdir())] if outbox.exists() else []

    def unreachable(self) -> Endpoint:
        blocker = self.root.parent / "not-a-directory"
        blocker.write_text("a file where the mailbox should be")
        return endpoint({"kind": "edi_mailbox", "directory": str(blocker / "mailbox")})

    def refused(self) -> Delivery:
        return delivery(control_ref="")  # no file name can be built for it


class _HttpReceiver(BaseHTTPRequestHandler):
    """A receiver that keeps one document per Idempotency-Key, or refuses while told to."""

    documents: dict[str, bytes]
    refuse: bool

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        body = self.rfile.read(int(self.headers["Content-Length"]))
        key = self.headers["Idempotency-Key"]
        if self.server.refuse:  # type: ignore[attr-defined]
            status = 422
        else:
            status = 200 if key in self.server.documents else 201  # type: ignore[attr-defined]
            self.server.documents.setdefault(key, body)  # type: ignore[attr-defined]
        self.send_response(status)
        self.send_header("Location", f"/documents/{key}")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


class HttpHarness(Harness):
    kind = "http"

    def __init__(self) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _HttpReceiver)
        self.server.documents = {}  # type: ignore[attr-defined]
        self.server.refuse = False  # type: ignore[attr-defined]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/inbox"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def endpoint(self) -> Endpoint:
        return endpoint({"kind": "http", "url": self.url, "timeout": 5})

    def received(self) -> list[bytes]:
        return list(self.server.documents.values())  # type: ignore[attr-defined]

    def unreachable(self) -> Endpoint:
        return endpoint({"kind": "http", "url": f"http://127.0.0.1:{free_port()}/in",
                         "timeout": 2})

    def refused(self) -> Delivery:
        self.server.refuse = True  # type: ignore[attr-defined]
        return delivery(7)


class EsdhHarness(Harness):
    """The reference ESDH (adapters/esdh/reference_server.py); the citizen has one open case."""

    kind = "esdh"

    def __init__(self, tmp_path: Path, stack: contextlib.ExitStack) -> None:
        from adapters.esdh.reference_server import create_app

        self.url = stack.enter_context(served(create_app(tmp_path / "esdh.db")))
        self.admin = stack.enter_context(httpx.Client(base_url=self.url))
        answer = self.admin.post("/v1/cases", json={"cpr": CPR, "kind": "sundhed"})
        self.case_id = answer.raise_for_status().json()["id"]

    def endpoint(self) -> Endpoint:
        return endpoint({"kind": "esdh", "url": self.url, "attempts": 1})

    def received(self) -> list[bytes]:
        documents = self.admin.get(f"/v1/cases/{self.case_id}").json()["documents"]
        out = []
        for doc in documents:
            (original,) = [f["name"] for f in doc["files"] if f["name"].endswith(".edi")]
            out.append(self.admin.get(f"/v1/documents/{doc['id']}/files/{original}").content)
        return out

    def unreachable(self) -> Endpoint:
        return endpoint({"kind": "esdh", "url": f"http://127.0.0.1:{free_port()}",
                         "attempts": 1, "timeout": 2})

    def refused(self) -> Delivery:
        return delivery(8, cpr=CPR_WITHOUT_CASE)  # no case to file it on


class VansHarness(Harness):
    """medbro's own VANS receiver (``/v1/hospital/letters``, reliable mode) before a hub that
    records what it was given."""

    kind = "vans"

    def __init__(self, tmp_path: Path, stack: contextlib.ExitStack) -> None:
        from adapters.hospital.testing import FakeSettings, RecordingHub
        from gateway.api.app import create_app

        registry = Registry.from_dict({
            "endpoints": [
                {"gln": HOSPITAL, "name": "hospital", "kind": "hospital",
                 "channel": {"kind": "local"}},
                {"gln": RECEIVER, "name": "gp", "kind": "gp", "channel": {"kind": "local"}},
            ],
            "organisations": [{"name": "region", "glns": [HOSPITAL],
                               "api_key_sha256": [hash_api_key("k-contract")]}],
        })
        self.hub = RecordingHub(FakeSettings(f"sqlite:///{tmp_path / 'vans.db'}"), registry)
        app = create_app(self.hub, manage_hub=False)
        stack.callback(self._close, app)
        self.url = stack.enter_context(served(app)) + "/v1/hospital/letters"

    @staticmethod
    def _close(app: Any) -> None:
        """Release the receiver's store of seen envelopes (the app's lifespan is off)."""
        from gateway.envelopes import envelope_handlers

        for _name, plugin in envelope_handlers():
            close = getattr(plugin, "close", None)
            if callable(close):
                close(app)

    def endpoint(self) -> Endpoint:
        return endpoint({"kind": "vans", "url": self.url, "timeout": 5,
                         "headers": {"X-API-Key": "k-contract"}})

    def received(self) -> list[bytes]:
        return [call["data"] for call in self.hub.ingested]

    def unreachable(self) -> Endpoint:
        return endpoint({"kind": "vans", "url": f"http://127.0.0.1:{free_port()}/in",
                         "timeout": 2})

    def refused(self) -> Delivery:
        # an envelope for a ReceiverID medbro does not know: answered with a NegativeMessage
        # before anything is ingested (a forged sender is stored and rejected by the core:
        # tests/pipeline/test_authorisation_every_route.py)
        return delivery(9, receiver=FOREIGN)


KINDS = ["local", "edi_mailbox", "http", "esdh", "vans"]


@pytest.fixture(params=KINDS)
def harness(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Harness]:
    with contextlib.ExitStack() as stack:
        kind = request.param
        if kind == "local":
            yield LocalHarness()
        elif kind == "edi_mailbox":
            yield MailboxHarness(tmp_path)
        elif kind == "http":
            receiver = HttpHarness()
            stack.callback(receiver.close)
            yield receiver
        elif kind == "esdh":
            yield EsdhHarness(tmp_path, stack)
        else:
            yield VansHarness(tmp_path, stack)


async def _deliver(target: Endpoint, item: Delivery) -> Any:
    channel = load_channel(target, None)
    try:
        return await channel.deliver(target, item)
    finally:
        close = getattr(channel, "aclose", None)
        if close is not None:
            await close()


# -- the contract -------------------------------------------------------------------------------


def test_every_channel_kind_of_the_registry_has_a_harness() -> None:
    from gateway import plugins

    assert set(KINDS) == {"local", *plugins.available("medbro.channels")}


def test_the_plugin_builds_the_channel_from_the_registry_endpoint(harness: Harness) -> None:
    channel = load_channel(harness.endpoint(), None)
    assert callable(channel.deliver)
    assert getattr(channel, "kind", "local") == harness.kind


async def test_the_receiver_gets_the_bytes_unchanged_and_the_delivery_is_named(
        harness: Harness) -> None:
    item = delivery()
    assert "Ø".encode("latin-1") in item.payload
    result = await _deliver(harness.endpoint(), item)
    assert result.external_ref
    received = harness.received()
    if received is not None:
        assert received == [item.payload]


async def test_a_redelivery_is_recognised_and_shown_once(harness: Harness) -> None:
    target = harness.endpoint()
    item = delivery(2)
    channel = load_channel(target, None)
    try:
        first = await channel.deliver(target, item)
        again = await channel.deliver(target, item)
    finally:
        if (close := getattr(channel, "aclose", None)) is not None:
            await close()
    after_restart = await _deliver(target, item)  # another worker, a new channel
    assert first.external_ref == again.external_ref == after_restart.external_ref
    received = harness.received()
    if received is not None:
        assert received == [item.payload]


async def test_an_unreachable_receiver_is_transient(harness: Harness) -> None:
    target = harness.unreachable()
    if target is None:
        pytest.skip(f"a {harness.kind} channel has no receiver to lose")
    with pytest.raises(TransientDeliveryError):
        await _deliver(target, delivery(3))


async def test_a_refusal_is_permanent_and_nothing_is_shown(harness: Harness) -> None:
    item = harness.refused()
    if item is None:
        pytest.skip(f"a {harness.kind} channel never refuses")
    with pytest.raises(PermanentDeliveryError):
        await _deliver(harness.endpoint(), item)
    received = harness.received()
    assert received is not None and item.payload not in received


async def test_different_letters_delivered_concurrently_all_arrive_once(
        harness: Harness) -> None:
    target = harness.endpoint()
    items = [delivery(seq) for seq in range(10, 16)]
    channel = load_channel(target, None)
    try:
        results = await asyncio.gather(*(channel.deliver(target, i) for i in items))
    finally:
        if (close := getattr(channel, "aclose", None)) is not None:
            await close()
    assert len({r.external_ref for r in results}) == len(items)
    received = harness.received()
    if received is not None:
        assert sorted(received) == sorted(i.payload for i in items)

