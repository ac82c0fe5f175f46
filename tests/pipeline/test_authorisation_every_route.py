"""The same foreign-sender interchange through every route gets the same outcome.

Authorisation is decided once, in ``decide_ingest``: an interchange whose sender the caller
may not speak for is stored and rejected (``SENDER_NOT_AUTHORISED``, visible to operators),
answered without a receipt (it would go to the impersonated GLN), never delivered, and the
HTTP routes answer 403. Routes: HTTP EDIFACT, HTTP VANSEnvelope, hospital push (EDIFACT and
envelope), the EDI mailbox, a payload routed by its envelope's facts, the case flow's outbox.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import pytest

from adapters import edi_mailbox
from adapters.vans import EndPoint, serialize, wrap
from gateway.demo import discharge_letter
from gateway.pipeline import Hub, PayloadHint
from gateway.registry import Registry, hash_api_key
from gateway.settings import Settings

HOSPITAL, GP, FORGED = "5790000120420", "5790000128686", "5790000181872"
KEY = "k-hospital"
NOW = datetime(2026, 11, 22, 10, 0)


@pytest.fixture
async def hub(tmp_path, broker_prefix, fresh_db):
    registry = Registry.from_dict({
        "endpoints": [
            {"gln": HOSPITAL, "name": "Hillerød", "kind": "hospital",
             "accepts": [{"type": "CTL01"}, {"type": "CTL03"}],
             "channel": {"kind": "edi_mailbox", "directory": str(tmp_path / "hospital")}},
            {"gln": GP, "name": "Lægehuset", "kind": "gp", "accepts": [{"type": "DIS01"}],
             "channel": {"kind": "edi_mailbox", "directory": str(tmp_path / "gp")}},
            {"gln": FORGED, "name": "Another hospital", "kind": "hospital",
             "accepts": [{"type": "CTL01"}],
             "channel": {"kind": "edi_mailbox", "directory": str(tmp_path / "forged")}},
        ],
        "organisations": [{"name": "hillerod", "glns": [HOSPITAL],
                           "api_key_sha256": [hash_api_key(KEY)]}],
    })
    settings = Settings.load(database_url=fresh_db, broker_url="memory://",
                             broker_prefix=broker_prefix, scan_interval_seconds=0.1)
    hub = Hub(settings, registry)
    await hub.start()
    try:
        yield hub
    finally:
        await hub.stop()


_seq = iter(range(1, 10_000))


def forged_letter() -> bytes:
    """A DIS01 whose UNB sender is a GLN the caller does not own."""
    return discharge_letter(next(_seq) + 100, sender=FORGED, receiver=GP,
                            patient=("0101509991", "Ærøboe", "Søren"), prepared_at=NOW)


def envelope(payload: bytes) -> bytes:
    return serialize(wrap(payload, sender=EndPoint(FORGED), receiver=EndPoint(GP),
                          message_type="DIS01", version="D0133L",
                          envelope_id=str(uuid.uuid4()), message_id=str(uuid.uuid4()), now=NOW,
                          reliable=True))


async def _http(client, path: str, body: bytes, ctype: str) -> list[str]:
    response = await client.post(path, content=body,
                                 headers={"X-API-Key": KEY, "Content-Type": ctype})
    assert response.status_code == 403, (path, response.text)
    answer = response.json()
    assert answer["code"] == "SENDER_NOT_AUTHORISED" and FORGED in answer["error"]
    assert answer["receipt"] is None
    return answer["message_ids"]


async def test_a_forged_sender_gets_the_same_outcome_on_every_route(hub, client, tmp_path):
    ids: dict[str, list[str]] = {}
    ids["http edifact"] = await _http(client, "/v1/messages", forged_letter(),
                                      "application/edifact")
    ids["http envelope"] = await _http(client, "/v1/messages", envelope(forged_letter()),
                                       "application/xml")
    ids["hospital edifact"] = await _http(client, "/v1/hospital/letters", forged_letter(),
                                          "application/edifact")
    ids["hospital envelope"] = await _http(client, "/v1/hospital/letters",
                                           envelope(forged_letter()), "application/xml")

    channel = edi_mailbox.channel(hub.registry.endpoint(HOSPITAL), hub.settings)
    channel.client.ensure_dirs()
    channel.client.drop("forged.edi", forged_letter())
    assert await channel.watcher(hub.ingest).poll_once() == 1
    hinted = await hub.ingest(b"<Emessage/>", received_via="vans", authenticated_glns=frozenset(
        {HOSPITAL}), hint=PayloadHint(sender_gln=FORGED, receiver_gln=GP, format="oioxml",
                                      type="XDIS22", version="XD2230L", message_key="m-1"))
    outbox = await hub.ingest(forged_letter(), received_via="caseflow", source="case:1",
                              authenticated_glns=frozenset({HOSPITAL}))
    for result in (hinted, outbox):
        assert (result.state, result.code, result.receipt) == (
            "rejected", "SENDER_NOT_AUTHORISED", None)
    ids["hinted"], ids["caseflow"] = hinted.message_ids, outbox.message_ids

    with hub.store.transaction() as session:
        from gateway.store.tables import InterchangeRow, MessageRow

        rows = session.query(MessageRow).all()
        inters = {i.id: i for i in session.query(InterchangeRow).all()}
    mailbox = [r.id for r in rows if inters[r.interchange_id].received_via == "edi_mailbox"]
    ids["mailbox"] = mailbox
    assert all(len(v) == 1 for v in ids.values()), ids
    stored = {r.id: r for r in rows}
    for route, (message_id,) in ids.items():
        row = stored[message_id]
        inter = inters[row.interchange_id]
        assert (row.state, row.sender_gln) == ("rejected", FORGED), route
        assert (inter.status, inter.error["code"]) == ("rejected", "SENDER_NOT_AUTHORISED"), route
        assert inter.error["segment"] == "UNB", route
    # nothing delivered, no receipt written to anyone (every interchange stored is inbound)
    assert all(i.origin == "inbound" for i in inters.values())
    assert len(rows) == len(ids)
