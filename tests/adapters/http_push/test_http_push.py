"""HTTP push channel: status classification, headers, idempotency key, against a fake receiver."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from adapters.http_push import HttpPushChannel, Outcome, classify, request_headers
from adapters.http_push.config import HttpPushConfig
from adapters.http_push.testing import FakeReceiver
from gateway.channels import (
    Delivery,
    PermanentDeliveryError,
    TransientDeliveryError,
    load_channel,
)
from gateway.errors import ConfigError
from gateway.registry import Registry

DELIVERY = Delivery(message_id="msg-1", payload="UNB+Æ'".encode("latin-1"),
                    sender_gln="5790000120420", receiver_gln="5790000128686",
                    control_ref="K1", type="DIS01", version="D0133L")


@pytest.mark.parametrize(
    ("status", "outcome"),
    [(200, Outcome.DELIVERED), (201, Outcome.DELIVERED), (202, Outcome.DELIVERED),
     (400, Outcome.PERMANENT), (403, Outcome.PERMANENT), (404, Outcome.PERMANENT),
     (408, Outcome.TRANSIENT), (429, Outcome.TRANSIENT), (500, Outcome.TRANSIENT),
     (503, Outcome.TRANSIENT)],
)
def test_status_table(status: int, outcome: Outcome) -> None:
    assert classify(status) is outcome


def test_headers_carry_identity() -> None:
    headers = request_headers(DELIVERY, {"X-Extra": "1"})
    assert headers["Idempotency-Key"] == "msg-1"
    assert headers["X-Medcom-Control-Ref"] == "K1"
    assert headers["Content-Type"] == "application/edifact"
    assert headers["X-Extra"] == "1"


async def test_delivers_bytes_and_redelivery_is_recognisable() -> None:
    receiver = FakeReceiver()
    chan = receiver.channel()
    first = await chan.deliver(None, DELIVERY)
    await chan.deliver(None, DELIVERY)
    await chan.aclose()
    assert first.external_ref == "/documents/msg-1"
    assert len(receiver.requests) == 2 and receiver.accepted == {"msg-1": DELIVERY.payload}


async def test_errors_say_whether_to_retry() -> None:
    receiver = FakeReceiver(statuses=[503, 422])
    chan = receiver.channel()
    with pytest.raises(TransientDeliveryError, match="503"):
        await chan.deliver(None, DELIVERY)
    with pytest.raises(PermanentDeliveryError, match="422"):
        await chan.deliver(None, DELIVERY)
    await chan.aclose()


async def test_unreachable_receiver_is_transient() -> None:
    chan = HttpPushChannel(HttpPushConfig(gln="1", url="http://127.0.0.1:9/", timeout=1))
    with pytest.raises(TransientDeliveryError):
        await chan.deliver(None, DELIVERY)
    await chan.aclose()


def test_config_and_plugin() -> None:
    with pytest.raises(ConfigError, match="url"):
        HttpPushConfig.from_options("1", {"url": "ftp://x"})
    with pytest.raises(ConfigError, match="MEDBRO_TEST_NO_SUCH_TOKEN"):
        HttpPushConfig.from_options("1", {"url": "http://x", "api_key_env":
                                          "MEDBRO_TEST_NO_SUCH_TOKEN"}, environ={})
    cfg = HttpPushConfig.from_options("1", {"url": "http://x", "api_key_env": "T"},
                                      environ={"T": "secret"})
    assert cfg.bearer_token == "secret" and "secret" not in repr(cfg)
    registry = Registry.from_dict({"endpoints": [{
        "gln": "5790000128686", "name": "GP", "kind": "gp",
        "channel": {"kind": "http", "url": "https://gp.example/in"}}]})
    chan = load_channel(registry.endpoint("5790000128686"), None)
    assert isinstance(chan, HttpPushChannel) and chan.config.url == "https://gp.example/in"


class _Receiver(BaseHTTPRequestHandler):
    """A real HTTP receiver on loopback: 503 for the first request, then 201."""

    received: list[tuple[dict[str, str], bytes]] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((dict(self.headers), body))
        self.send_response(503 if len(self.received) == 1 else 201)
        self.send_header("Location", f"/doc/{len(self.received)}")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


async def test_against_a_real_http_server() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/inbox"
        chan = HttpPushChannel(HttpPushConfig(gln="1", url=url, headers={"X-Tenant": "t1"}))
        with pytest.raises(TransientDeliveryError, match="503"):
            await chan.deliver(None, DELIVERY)
        result = await chan.deliver(None, DELIVERY)
        await chan.aclose()
    finally:
        server.shutdown()
        server.server_close()
    assert result.external_ref == "/doc/2"
    headers, body = _Receiver.received[-1]
    assert body == DELIVERY.payload
    assert headers["Idempotency-Key"] == "msg-1" and headers["X-Tenant"] == "t1"
    assert headers["Content-Type"] == "application/edifact"
