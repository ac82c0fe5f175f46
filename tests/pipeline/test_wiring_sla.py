"""The SLA wired into the pipeline: deadline-aware retries, escalations, the sweep on the
scanner tick, and the metrics a delivery leaves on ``/metrics`` (fake clock, no waiting)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from gateway import metrics
from gateway.pipeline import Hub, retries, ticks
from gateway.registry import Registry
from gateway.settings import Settings
from gateway.sla import hooks
from gateway.sla.tables import SlaTask
from gateway.store import MessageRow
from tests.pipeline.conftest import GP, PARTNERS, eventually, letter, running

SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

# Discharged Monday 2 March 2026, 08:00 Copenhagen (07:00 UTC): the 1-workday deadline is the
# end of Tuesday 3 March (22:59:59.999999 UTC), at risk from Tuesday 12:00 local (11:00 UTC),
# the 3-workday deadline the end of Thursday 5 March.
DISCHARGED = "202603020800"
DEADLINE_1 = datetime(2026, 3, 3, 22, 59, 59, 999999, tzinfo=UTC)


class FakeClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def ref() -> str:
    return "K" + uuid.uuid4().hex[:10].upper()


def epikrise(control_ref: str, discharged: str = DISCHARGED,
             cpr: str = "0108584947", letter_ref: str = "BrevNr00129") -> bytes:
    """The sample DIS01 for another discharge time, patient and letter (the SLA joins letters
    of one patient and department, or with one letter id, to one discharge)."""
    data = letter(control_ref).replace(b"BrevNr00129", letter_ref.encode())
    data = data.replace(b"DTM+91:199901111300:203", f"DTM+91:{discharged}:203".encode())
    return data.replace(b"PNA+PAT+0108584947:", f"PNA+PAT+{cpr}:".encode())


@pytest.fixture
async def hub(pipeline_db, broker, broker_prefix, channel):
    """On the in-process transport and RabbitMQ (the not_before hops through real delay
    queues); the fake clock decides when a retry is due."""
    clock = FakeClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    settings = Settings.load(database_url=pipeline_db, broker_url=broker,
                             broker_prefix=broker_prefix, retry_delays_seconds=(0.05, 0.2),
                             scan_interval_seconds=3600)
    hub = Hub(settings, Registry.from_dict(PARTNERS), clock=clock,
              channel_factory=lambda endpoint: channel)
    hub.clock = clock
    await hub.start()
    try:
        yield hub
    finally:
        await hub.transport.delete(hub.topology)
        await hub.stop()


def retries_of(hub: Hub, message_id: str) -> list[dict]:
    view = hub.message_view(message_id)
    return [e["detail"] for e in view["events"] if e["event"] == "message_retry"]


def tasks(hub: Hub) -> set[str]:
    with hub.store.transaction() as session:
        return set(session.scalars(sa.select(SlaTask.kind)))


@SQLITE
async def test_failing_epikrise_is_retried_on_the_sla_schedule_and_escalated(hub, channel):
    clock = hub.clock
    channel.transient_failures[GP] = 1000
    async with running(hub):
        result = await hub.ingest(epikrise(ref()), received_via="test")
        message_id = result.message_ids[0]
        await eventually(lambda: len(retries_of(hub, message_id)) == 1)
        first = retries_of(hub, message_id)[0]
        # The SLA policy (30 s, doubling, + up to 10 % jitter), not the generic 0.05 s tier.
        assert first["sla"] is True and 30 <= first["retry_in_seconds"] <= 33
        # Not due yet on the fake clock: the message hops through the delay tiers, no attempt.
        calls = channel.calls
        await _settle()
        assert channel.calls == calls

        # Tuesday 11:00:10 UTC: past the at-risk instant. The next failure escalates.
        clock.now = datetime(2026, 3, 3, 11, 0, 10, tzinfo=UTC)
        await eventually(lambda: len(retries_of(hub, message_id)) == 2)
        assert tasks(hub) == {"at_risk_1"}
        events = [e for e in hub.message_view(message_id)["events"]
                  if e["event"] == "sla_escalated"]
        assert [e["detail"]["kind"] for e in events] == ["at_risk_1"]

        # 22:52 UTC, seven minutes before the deadline: the wait is cut to the checkpoint
        # five minutes before it, although the backoff alone would wait longer.
        clock.now = datetime(2026, 3, 3, 22, 52, tzinfo=UTC)
        await eventually(lambda: len(retries_of(hub, message_id)) == 3)
        third = retries_of(hub, message_id)[2]
        checkpoint = DEADLINE_1 - timedelta(minutes=5)
        assert third["retry_in_seconds"] <= (checkpoint - clock.now).total_seconds() + 0.001
        assert third["retry_in_seconds"] > 0
        assert hub.message_view(message_id)["state"] == "routed"  # never parked meanwhile

        # Wednesday: the 1-workday deadline has passed: breached, still retried.
        clock.now = datetime(2026, 3, 4, 8, 0, tzinfo=UTC)
        await eventually(lambda: len(retries_of(hub, message_id)) == 4)
        assert tasks(hub) == {"at_risk_1", "breached_1"}
        channel.transient_failures[GP] = 0
        clock.now += timedelta(hours=1)
        await eventually(lambda: hub.message_view(message_id)["state"] == "delivered")
    assert len(hub.message_view(message_id)["attempts"]) == 5


async def _settle() -> None:
    import asyncio

    await asyncio.sleep(0.6)


@SQLITE
async def test_backlog_retries_are_due_earliest_deadline_first(hub):
    """Two epikriser failing at the same moment with the same attempt count: the one whose
    deadline comes first is due first; a letter without an SLA clock keeps the generic rule."""
    early = await hub.ingest(epikrise(ref(), "202603020800"), received_via="test")
    late = await hub.ingest(epikrise(ref(), "202603030800", cpr="0208584946",
                                    letter_ref="BrevNr00777"),
                           received_via="test")
    now = datetime(2026, 3, 3, 22, 40, tzinfo=UTC)
    plans = {}
    with hub.store.transaction() as session:
        for name, result in (("early", early), ("late", late)):
            rows = [session.get(MessageRow, result.message_ids[0])]
            plans[name] = retries.plan_retry(session, rows, attempt_no=7, now=now,
                                             max_attempts=6, generic_delay=lambda n: 300.0)
    assert plans["early"].sla and plans["late"].sla
    assert not plans["early"].give_up  # a deadline is ahead: never parked after 6 attempts
    assert plans["early"].delay == pytest.approx(
        (DEADLINE_1 - timedelta(minutes=5) - now).total_seconds())
    assert plans["early"].delay < plans["late"].delay
    assert plans["early"].escalations == ("at_risk_1",)

    generic = MessageRow(id="x", interchange_id="y", type="DIS91", family="MEDDIS")
    with hub.store.transaction() as session:
        plan = retries.plan_retry(session, [generic], attempt_no=2, now=now, max_attempts=6,
                                  generic_delay=lambda n: 5.0 * n)
        assert plan == retries.RetryPlan(delay=10.0)
        assert retries.plan_retry(session, [generic], attempt_no=6, now=now, max_attempts=6,
                                  generic_delay=lambda n: 5.0).give_up


def test_hop_delay_never_overshoots_the_due_time():
    tiers = (5.0, 30.0, 300.0)
    assert retries.hop_delay(tiers, 1800) == 300.0
    assert retries.hop_delay(tiers, 299) == 30.0
    assert retries.hop_delay(tiers, 2) == 5.0  # below the shortest tier: the shortest
    assert retries.hop_delay(tiers, 40) == 30.0  # 40 s left: one 30 s hop, then decided again


@SQLITE
async def test_scanner_tick_sweeps_discharges_without_traffic(pipeline_db, broker_prefix,
                                                               channel):
    clock = FakeClock(datetime(2026, 3, 3, 11, 30, tzinfo=UTC))  # Tuesday, after 12:00 local
    settings = Settings.load(database_url=pipeline_db, broker_prefix=broker_prefix,
                             scan_interval_seconds=0.05, sla_sweep_interval_seconds=0.1)
    hub = Hub(settings, Registry.from_dict(PARTNERS), clock=clock,
              channel_factory=lambda endpoint: channel)
    await hub.start()
    try:
        with hub.store.transaction() as session:
            hooks.discharge_reported(
                session, hospital="1301", department="130122", patient_cpr="0101011234",
                discharge_id="D-1", discharged_at=datetime(2026, 3, 2, 7, 0, tzinfo=UTC))
        async with running(hub):
            await eventually(lambda: tasks(hub) == {"at_risk_1"})
            clock.now = datetime(2026, 3, 4, 8, 0, tzinfo=UTC)  # Wednesday: 1 breached
            await eventually(lambda: "breached_1" in tasks(hub))
        value = metrics.REGISTRY.get_sample_value(
            "medbro_sla_letters_at_risk", {"hospital": "1301", "target": "1"})
        assert value in (None, 0.0)  # no longer at risk for 1: breached
    finally:
        await hub.stop()


def _sample(name: str, **labels: str) -> float:
    return metrics.REGISTRY.get_sample_value(name, labels) or 0.0


@SQLITE
async def test_delivery_shows_on_metrics_with_labels(hub, channel):
    import httpx

    from gateway.api.app import create_app

    async def scrape() -> str:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="http://medbro") as client:
            response = await client.get("/metrics")
        assert response.status_code == 200
        return response.text

    clock = hub.clock
    before = {
        "delivered": _sample("medbro_messages_total", type="DIS01", state="delivered"),
        "routed": _sample("medbro_messages_total", type="DIS01", state="routed"),
        "ok": _sample("medbro_delivery_attempts_total", endpoint=GP, outcome="ok"),
        "failed": _sample("medbro_delivery_attempts_total", endpoint=GP, outcome="failed"),
        "latency": _sample("medbro_delivery_latency_seconds_count", type="DIS01"),
    }
    # Waiting: the store says one message is routed to the GP and 90 s old (scrape-time).
    waiting = await hub.ingest(letter(ref()), received_via="test")
    clock.now += timedelta(seconds=90)
    app = create_app(hub, manage_hub=False)
    text = await scrape()
    assert f'medbro_queue_depth{{endpoint="{GP}"}} 1.0' in text
    assert f'medbro_oldest_message_age_seconds{{endpoint="{GP}"}} 90.0' in text

    channel.transient_failures[GP] = 1
    async with running(hub):
        await eventually(lambda: hub.message_view(waiting.message_ids[0])["state"]
                         == "delivered")
    assert _sample("medbro_messages_total", type="DIS01", state="delivered") == \
        before["delivered"] + 1
    assert _sample("medbro_messages_total", type="DIS01", state="routed") == before["routed"] + 1
    assert _sample("medbro_delivery_attempts_total", endpoint=GP, outcome="ok") == before["ok"] + 1
    assert _sample("medbro_delivery_attempts_total", endpoint=GP, outcome="failed") == \
        before["failed"] + 1
    assert _sample("medbro_delivery_latency_seconds_count", type="DIS01") == \
        before["latency"] + 1
    text = await scrape()
    assert 'medbro_messages_total{state="delivered",type="DIS01"}' in text
    assert f'medbro_delivery_attempts_total{{endpoint="{GP}",outcome="ok"}}' in text
    assert f'medbro_queue_depth{{endpoint="{GP}"}} 0.0' in text
    await ticks.tick(hub.ctx)  # the worker's tick sets the same gauges
    assert _sample("medbro_queue_depth", endpoint=GP) == 0.0
