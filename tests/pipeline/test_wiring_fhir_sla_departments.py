"""One clock for one stay across FHIR and EDIFACT: a HospitalNotification discharge (naming its
department by SOR code) starts the clock, and the DIS01 epikrise from the same department
(naming it by SKS code, NAD+SSP) for the same patient joins that clock and stops it with its
delivery, because the partner file pairs the department's SOR and SKS codes
(gateway/sla/departments.py). Without the pair the DIS01 starts a second clock.

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
from tests.pipeline.conftest import GP, RecordingChannel, eventually, letter, running
from tests.pipeline.conftest import HOSPITAL as EDI_HOSPITAL
from tests.pipeline.fhir_wiring import api_client, envelope, started_hub

KOMMUNE, FHIR_HOSPITAL = bundles.MUNICIPALITY["gln"], bundles.HOSPITAL["gln"]
DEPARTMENT_SOR, DEPARTMENT_SKS = bundles.HOSPITAL["sor"], "2001060"  # the DIS01's NAD+SSP
KEY = "k-hospital"
CPR = "0108584947"  # the DIS01 sample's patient
STAY = "bd481c38-a921-11ed-afa1-0242ac120002"  # the notification's episodeOfCare identifier
NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)  # Friday


def registry(*, paired: bool) -> Registry:
    hospital = {"gln": FHIR_HOSPITAL, "name": "Herlev Hospital", "kind": "hospital",
                "accepts": [{"type": "FCTL"}], "channel": {"kind": "recording"}}
    if paired:
        hospital["departments"] = [{"sor": DEPARTMENT_SOR, "sks": DEPARTMENT_SKS,
                                    "name": "Kirurgisk afdeling A"}]
    return Registry.from_dict({
        "endpoints": [
            hospital,
            {"gln": KOMMUNE, "name": "Aarhus Kommune", "kind": "municipality",
             "accepts": [{"type": "FDIS20"}], "channel": {"kind": "recording"}},
            {"gln": EDI_HOSPITAL, "name": "Hillerød Hospital", "kind": "hospital",
             "accepts": [{"type": "DIS91"}], "channel": {"kind": "recording"}},
            {"gln": GP, "name": "Lægehuset", "kind": "gp",
             "accepts": [{"type": "DIS01", "versions": ["D0133L"]}],
             "channel": {"kind": "recording"}},
        ],
        "organisations": [{"name": "hospital", "glns": [FHIR_HOSPITAL],
                           "api_key_sha256": [hash_api_key(KEY)]}],
    })


@pytest.fixture(params=[True, False], ids=["paired", "not-paired"])
async def hub(request: pytest.FixtureRequest, pipeline_db: str, broker_prefix: str,
              channel: RecordingChannel) -> AsyncIterator[Hub]:
    settings = Settings.load(database_url=pipeline_db, broker_url="memory://",
                             broker_prefix=broker_prefix, retry_delays_seconds=(0.2, 0.5),
                             scan_interval_seconds=0.1, receipt_timeout_seconds=1800.0)
    async with started_hub(settings, registry(paired=request.param), channel,
                           clock=lambda: NOW) as started:
        started.paired = request.param  # type: ignore[attr-defined]
        yield started


@pytest.fixture
async def client(hub: Hub) -> AsyncIterator[httpx.AsyncClient]:
    async with api_client(hub) as c:
        yield c


def epikrise() -> bytes:
    """The sample DIS01 (from SKS department 2001060) for this patient, discharged Thursday
    3 December 2026 at 14:30 Copenhagen time (DTM+91, local), like the notification."""
    data = letter("K" + uuid.uuid4().hex[:10].upper())
    assert b"DTM+91:199901111300:203" in data and f"PNA+PAT+{CPR}:".encode() in data
    return data.replace(b"DTM+91:199901111300:203", b"DTM+91:202612031430:203")


def clocks(hub: Hub) -> list[tuple]:
    with hub.store.transaction() as session:
        return [tuple(row) for row in session.execute(sa.select(
            Discharge.discharge_key, Discharge.source, Discharge.hospital, Discharge.department,
            Discharge.patient_cpr, Discharge.letters, Discharge.letter_message_id,
            Discharge.letter_sent_at).order_by(Discharge.id))]


async def test_the_dis01_from_the_paired_sks_department_stops_the_notifications_clock(
        hub, client, channel) -> None:
    notification = bundles.to_bytes(bundles.hospital_notification(
        cpr=CPR, start="2026-12-01T08:00:00+01:00", end="2026-12-03T14:30:00+01:00"))
    body = envelope(notification, sender=FHIR_HOSPITAL, receiver=KOMMUNE,
                    name="FDIS20#discharge-inpatient-home")
    async with running(hub):
        response = await client.post("/v1/messages", content=body, headers={
            "X-API-Key": KEY, "Content-Type": "application/xml"})
        assert response.status_code == 200, response.text
        (notified,) = response.headers["x-medbro-message-ids"].split(",")
        await eventually(lambda: hub.message_view(notified)["state"] == "delivered")
        if hub.paired:  # keyed as the SKS department's DIS17 would be
            started = ("2001/" + STAY, "dis17", "2001", DEPARTMENT_SKS, CPR, 0, None, None)
        else:  # keyed by the SOR codes as reported
            started = (f"{DEPARTMENT_SOR}/{STAY}", "dis17", DEPARTMENT_SOR, DEPARTMENT_SOR, CPR,
                       0, None, None)
        assert clocks(hub) == [started]

        result = await hub.ingest(epikrise(), received_via="test")
        assert result.state == "routed", result
        (letter_id,) = result.message_ids
        await eventually(lambda: hub.message_view(letter_id)["state"] == "delivered")
    assert len(channel.delivered[GP]) == 1
    sent = NOW.replace(tzinfo=None)  # the hub's clock, UTC as the SLA tables keep it
    if hub.paired:  # the same clock, stopped by the letter's delivery
        assert clocks(hub) == [started[:5] + (1, letter_id, sent)]
    else:  # the letter's department matches no clock: a second one, the first still open
        assert clocks(hub) == [started, (f"letter/{letter_id}", "letter", "2001",
                                         DEPARTMENT_SKS, CPR, 1, letter_id, sent)]
