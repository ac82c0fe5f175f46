"""Every outgoing document of a case goes through the real pipeline: Hub on RabbitMQ and
PostgreSQL, delivered to each receiver's channel as a DIS91 interchange that reads back."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from datetime import date, datetime

import pytest
from databases import fresh_postgres_database

from gateway.caseflow.outbox import HubOutbox
from gateway.caseflow.service import CaseService
from gateway.db import create_engine, session_factory
from gateway.edifact import parse
from gateway.forms import from_edifact
from gateway.pipeline import Hub
from gateway.registry import Registry
from gateway.settings import Settings

from .conftest import (
    ADDRESS_BOOK,
    CLINIC,
    COORDINATOR,
    COORDINATORS,
    GP,
    MUNICIPALITY,
    PARTNERS,
    Recorder,
)
from .scenario import create, lae261, lae265, lae271, lae275, new_ref


@pytest.fixture
def fresh_pg(postgres_url: str) -> Iterator[str]:
    """A database of its own: the Hub's scanner looks at every message in its store."""
    yield from fresh_postgres_database("medbro_case")


def t(month: int, day: int, hour: int = 10) -> datetime:
    return datetime(2026, month, day, hour)


@pytest.mark.postgres
@pytest.mark.rabbitmq
async def test_case_documents_are_routed_through_the_hub(fresh_pg, amqp_url, broker_prefix):
    settings = Settings.load(database_url=fresh_pg, broker_url=amqp_url,
                             broker_prefix=broker_prefix, scan_interval_seconds=0.2)
    recorder = Recorder()
    hub = Hub(settings, Registry.from_dict(PARTNERS), channel_factory=lambda ep: recorder)
    await hub.start()
    engine = create_engine(fresh_pg)
    service = CaseService(session_factory(engine), coordinators=COORDINATORS, journal=True)
    stop = asyncio.Event()
    worker = asyncio.create_task(hub.run_worker(stop))
    try:
        ref = new_ref()
        create(service, ref, t(3, 2, 9))
        service.schedule_meeting(ref, date(2026, 4, 22), now=t(3, 2, 9))
        service.send_form(ref, lae261(ref, t(3, 2)), now=t(3, 2))
        service.record_form(ref, lae265(ref, t(3, 20), date(2026, 3, 16)), now=t(3, 20))
        service.send_to_coordinator(ref, now=t(3, 26))
        service.record_screening(ref, clarified=False, notes="", now=t(3, 31))
        service.send_form(ref, lae271(ref, t(4, 1)), now=t(4, 1))
        service.record_summons(ref, date(2026, 4, 14), now=t(4, 8))
        service.record_form(ref, lae275(ref, t(4, 14), date(2026, 4, 14)), now=t(4, 14))
        service.send_documents(ref, now=t(4, 15))
        service.send_recommendation(ref, "Teamet indstiller til ressourceforløb.", now=t(4, 23))
        outbox = HubOutbox(hub, ADDRESS_BOOK)
        ids = await service.dispatch(outbox, now=t(4, 23))
        # 5 documents to the partners + a journal copy of all 10 documents of the case
        assert len(ids) == 15 and len(set(ids)) == 15

        async def delivered() -> None:
            for _ in range(300):
                if sum(len(v) for v in recorder.delivered.values()) >= 15:
                    return
                await asyncio.sleep(0.05)
            raise AssertionError(f"delivered so far: {recorder.delivered}")

        await delivered()
        to_gp = recorder.delivered[GP]
        assert from_edifact(to_gp[0]) == lae261(ref, t(3, 2))
        assert from_edifact(to_gp[1]).form_id == f"{ref}-275-1"  # the copy of LÆ 275
        recommendation = parse(to_gp[2]).messages[0]
        assert recommendation.type == "DIS91"
        assert "ressourceforløb" in recommendation.letter.texts[1].text
        assert from_edifact(recorder.delivered[CLINIC][0]) == lae271(ref, t(4, 1))
        assert b"Sag til screening" in recorder.delivered[COORDINATOR][0]
        states = {hub.message_view(i)["state"] for i in ids}
        assert states <= {"delivered", "acknowledged"}
        view = service.view(ref, now=t(4, 23))
        assert {d["message_id"] for d in view["documents"] if d["route"] == "pipeline"} == set(ids)
        # the journal copies: the ESDH channel's mapping files each on this case
        from adapters.esdh.mapping import letter_entry

        journal = recorder.delivered[MUNICIPALITY]
        assert len(journal) == 10
        for data in journal:
            message = parse(data).messages[0]
            entry = letter_entry(message.letter, original=data, original_type="application/edifact",
                                 sender_gln=MUNICIPALITY, control_ref=message.letter.ref)
            assert entry.case_reference == ref
            assert entry.cpr == "1502824933"
    finally:
        stop.set()
        await asyncio.wait_for(worker, 30)
        with contextlib.suppress(Exception):
            await hub.transport.delete(hub.topology)
        await hub.stop()
        engine.dispose()
