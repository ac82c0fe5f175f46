"""A FHIR HospitalNotification discharge starts an SLA clock, as a DIS17 does (issue
acceptance): posted in a VANSEnvelope to ``POST /v1/messages``, the accepted message's discharge
report is written with it (one transaction); a revised discharge (a new MessageHeader.id, the
same stay) moves the same clock; a duplicate and a rejected message start none.

On SQLite and PostgreSQL, on the in-process transport (conftest fixtures).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest
import sqlalchemy as sa

from gateway.pipeline import Hub
from gateway.registry import Registry, hash_api_key
from gateway.settings import Settings
from gateway.sla.tables import Discharge
from tests.medcom_fhir import bundles
from tests.pipeline.conftest import RecordingChannel, eventually, running
from tests.pipeline.fhir_wiring import api_client, envelope, resent, started_hub

KOMMUNE, HOSPITAL = bundles.MUNICIPALITY["gln"], bundles.HOSPITAL["gln"]
KEYS = {KOMMUNE: "k-kommune", HOSPITAL: "k-hospital"}
STAY = f"{bundles.HOSPITAL['sor']}/bd481c38-a921-11ed-afa1-0242ac120002"  # the clock's key
NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)  # Friday


def registry() -> Registry:
    return Registry.from_dict({
        "endpoints": [
            {"gln": KOMMUNE, "name": "Aarhus Kommune", "kind": "municipality",
             "accepts": [{"type": "FDIS20"}], "channel": {"kind": "recording"}},
            {"gln": HOSPITAL, "name": "Herlev Hospital", "kind": "hospital",
             "accepts": [{"type": "FCTL"}], "channel": {"kind": "recording"}},
        ],
        "organisations": [
            {"name": "kommune", "glns": [KOMMUNE], "api_key_sha256": [hash_api_key(KEYS[KOMMUNE])]},
            {"name": "hospital", "glns": [HOSPITAL],
             "api_key_sha256": [hash_api_key(KEYS[HOSPITAL])]},
        ],
    })


@pytest.fixture
async def hub(fresh_db: str, broker_prefix: str, channel: RecordingChannel) -> AsyncIterator[Hub]:
    settings = Settings.load(database_url=fresh_db, broker_url="memory://",
                             broker_prefix=broker_prefix, retry_delays_seconds=(0.2, 0.5),
                             scan_interval_seconds=0.1, receipt_timeout_seconds=1800.0)
    async with started_hub(settings, registry(), channel, clock=lambda: NOW) as started:
        yield started


@pytest.fixture
async def client(hub: Hub) -> AsyncIterator[httpx.AsyncClient]:
    async with api_client(hub) as c:
        yield c


def notification(**change) -> bytes:
    return bundles.to_bytes(bundles.hospital_notification(**change))


def new_message_id(data: bytes) -> bytes:
    """The same stay in a new message: a new MessageHeader.id and Bundle.id."""
    return resent(data).replace(bundles.HEADER_ID.encode(), str(uuid.uuid4()).encode())


async def post(client: httpx.AsyncClient, payload: bytes, *, key: str = KEYS[HOSPITAL],
               name: str = "FDIS20#discharge-inpatient-home") -> str:
    body = envelope(payload, sender=HOSPITAL, receiver=KOMMUNE, name=name)
    response = await client.post("/v1/messages", content=body, headers={
        "X-API-Key": key, "Content-Type": "application/xml"})
    assert response.status_code < 500, response.text
    (message_id,) = response.headers["x-medbro-message-ids"].split(",")
    return message_id


def clocks(hub: Hub) -> list[tuple]:
    with hub.store.transaction() as session:
        return [tuple(row) for row in session.execute(sa.select(
            Discharge.discharge_key, Discharge.source, Discharge.patient_cpr,
            Discharge.discharged_at, Discharge.deadline_1, Discharge.deadline_3))]


def utc(*args: int) -> datetime:
    return datetime(*args)  # the SLA tables keep UTC without a zone


async def test_a_discharge_starts_a_clock_a_revision_moves_it_a_duplicate_starts_none(
        hub, client, channel) -> None:
    # Discharged Thursday 3 December 2026, 14:30 Copenhagen (13:30 UTC): the 1-workday deadline
    # is the end of Friday 4 December, the 3-workday one the end of Tuesday 8 December (CET).
    first = notification(start="2026-12-01T08:00:00+01:00", end="2026-12-03T14:30:00+01:00")
    revised = new_message_id(notification(
        activity="revise-discharge-inpatient-home", start="2026-12-01T08:00:00+01:00",
        end="2026-12-04T10:00:00+01:00"))
    async with running(hub):
        # Sent with a key that may not speak for the hospital: rejected, no clock.
        forged = await post(client, first, key=KEYS[KOMMUNE])
        assert hub.message_view(forged)["state"] == "rejected"
        assert clocks(hub) == []

        message_id = await post(client, first)
        await eventually(lambda: hub.message_view(message_id)["state"] == "delivered")
        assert channel.payloads(KOMMUNE) == [first]
        assert clocks(hub) == [(STAY, "dis17", "0201919990", utc(2026, 12, 3, 13, 30),
                                utc(2026, 12, 4, 22, 59, 59, 999999),
                                utc(2026, 12, 8, 22, 59, 59, 999999))]

        # The hospital revises the discharge (Friday 10:00): the same stay, the same clock.
        revision_id = await post(client, revised, name="FDIS20#revise-discharge-inpatient-home")
        await eventually(lambda: hub.message_view(revision_id)["state"] == "delivered")
        moved = [(STAY, "dis17", "0201919990", utc(2026, 12, 4, 9, 0),
                  utc(2026, 12, 7, 22, 59, 59, 999999), utc(2026, 12, 9, 22, 59, 59, 999999))]
        assert clocks(hub) == moved

        # The first message once more (a resend: new Bundle.id, same MessageHeader.id): a
        # duplicate, which neither starts a clock nor moves this one back.
        again = await post(client, resent(first))
        assert again == message_id
        assert clocks(hub) == moved
    assert channel.payloads(KOMMUNE) == [first, revised]


async def test_an_admission_starts_no_clock(hub, client, channel) -> None:
    admission = notification(activity="admit-inpatient", status="in-progress", end=None,
                             start="2026-12-01T08:00:00+01:00")
    async with running(hub):
        message_id = await post(client, admission, name="FDIS20#admit-inpatient")
        await eventually(lambda: hub.message_view(message_id)["state"] == "delivered")
    assert clocks(hub) == []
