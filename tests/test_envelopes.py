"""The envelope plugin port (gateway/envelopes.py): what the routes that take envelopes ask."""

from __future__ import annotations

import uuid
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from gateway.envelopes import EnvelopeIntake, envelope_handler_for, envelope_intake, is_envelope


def _vans_envelope() -> bytes:
    from adapters.vans import EndPoint, serialize, wrap

    return serialize(wrap(b"UNA:+.? 'UNB+UNOC:3+1:14+2:14'", sender=EndPoint("5790000120420"),
                          receiver=EndPoint("5790000128686"), message_type="DIS01",
                          version="D0133L", envelope_id=str(uuid.uuid4()),
                          message_id=str(uuid.uuid4()),
                          now=datetime(2026, 11, 22, 10, 0)))


async def _ingest(data: bytes, *, received_via: str, source: str = "",
                  authenticated_glns: frozenset[str] | None = None) -> Any:
    return ("hub", data, received_via)


class _Plugin:
    def __init__(self, prefix: bytes) -> None:
        self.prefix = prefix

    def accepts(self, data: bytes) -> bool:
        return data.startswith(self.prefix)


class _Intake:
    def __init__(self, name: str) -> None:
        self.name, self.closed = name, False

    async def __call__(self, data: bytes, **kwargs: Any) -> Any:
        return (self.name, data, kwargs["received_via"])

    def close(self) -> None:
        self.closed = True


async def test_each_envelope_goes_to_the_intake_of_the_plugin_that_accepts_it() -> None:
    a, b = _Intake("a"), _Intake("b")
    intake = EnvelopeIntake(_ingest, [(_Plugin(b"<a"), a), (_Plugin(b"<b"), b)])
    assert await intake(b"<a/>", received_via="x") == ("a", b"<a/>", "x")
    assert await intake(b"<b/>", received_via="x") == ("b", b"<b/>", "x")
    assert await intake(b"UNB+", received_via="x") == ("hub", b"UNB+", "x")
    intake.close()
    assert a.closed and b.closed


async def test_the_installed_vans_plugin_needs_a_database_to_remember_envelopes(tmp_path) -> None:
    async def on_receipt(name: str, receipt: bytes) -> None: ...

    without = envelope_intake(_ingest, SimpleNamespace(database_url=""), received_via="t",
                              on_receipt=on_receipt)
    assert without.kinds == 0
    with_db = envelope_intake(_ingest, SimpleNamespace(database_url=f"sqlite:///{tmp_path}/v.db"),
                              received_via="t", on_receipt=on_receipt)
    try:
        assert with_db.kinds == 1
        assert await with_db(b"UNB+", received_via="t") == ("hub", b"UNB+", "t")
    finally:
        with_db.close()


def test_an_envelope_is_recognised_from_its_bytes() -> None:
    assert is_envelope(_vans_envelope())
    assert envelope_handler_for(_vans_envelope())[0] == "vans"
    assert not is_envelope(b"UNA:+.? 'UNB+UNOC:3+1:14+2:14'")
    assert not is_envelope(b"<Emessage/>")
