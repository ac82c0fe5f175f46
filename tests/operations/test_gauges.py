"""The store-derived gauges (gateway/operations/gauges.py) against a fresh database, SQLite and
PostgreSQL: parked messages by type and receiver, open tasks by kind, letters at risk; and the
task counts are answered from their indexes."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from gateway import metrics
from gateway.db import create_engine, session_factory
from gateway.migrations import upgrade
from gateway.operations import gauges
from gateway.sla import hooks
from gateway.sla.deadlines import COPENHAGEN
from gateway.sla.tables import SlaTask
from gateway.store.tables import InterchangeRow, MessageRow, OperatorTaskRow

GP, HOSPITAL, STRANGER = "5790000128686", "5790000120420", "5790000999999"
ENDPOINTS = {GP: GP, HOSPITAL: HOSPITAL}
NOW = datetime(2025, 4, 22, 12, 0, tzinfo=COPENHAGEN)  # inside the at-risk margin (below)


@pytest.fixture
def sessions(empty_database_url):
    upgrade(empty_database_url)
    engine = create_engine(empty_database_url)
    yield session_factory(engine)
    engine.dispose()


def message(session, letter_type: str, receiver: str, state: str) -> MessageRow:
    at = datetime(2025, 4, 22, 8, 0, tzinfo=UTC)
    inter = InterchangeRow(id=str(uuid.uuid4()), raw=b"", sha256="0" * 64, received_via="test",
                           status="processed", created_at=at)
    row = MessageRow(id=str(uuid.uuid4()), interchange_id=inter.id, type=letter_type,
                     sender_gln=HOSPITAL, receiver_gln=receiver, message_ref=inter.id[:8],
                     state=state, created_at=at, updated_at=at)
    session.add_all([inter, row])
    session.flush()
    return row


def task(session, kind: str, status: str = "open") -> None:
    session.add(OperatorTaskRow(kind=kind, reason="test", status=status,
                                created_at=datetime(2025, 4, 22, tzinfo=UTC)))


def sample(name: str, **labels: str) -> float | None:
    return metrics.REGISTRY.get_sample_value(name, labels)


def test_parked_counts_by_type_and_receiver_unknown_receivers_as_one(sessions):
    with sessions() as s, s.begin():
        assert gauges.parked(s, ENDPOINTS) == {}
        for _ in range(2):
            message(s, "DIS01", GP, "parked")
        message(s, "DIS01", STRANGER, "parked")
        message(s, "DIS01", GP, "routed")
        message(s, "DIS01", GP, "delivered")
        message(s, "CTL03", HOSPITAL, "parked")
        assert gauges.parked(s, ENDPOINTS) == {
            ("DIS01", GP): 2, ("DIS01", gauges.UNKNOWN): 1, ("CTL03", HOSPITAL): 1}


def test_open_tasks_count_operator_and_sla_tasks_by_kind(sessions):
    with sessions() as s, s.begin():
        assert gauges.open_tasks(s) == {}
        task(s, "undeliverable")
        task(s, "undeliverable")
        task(s, "undeliverable", status="closed")
        task(s, "refused")
        discharge = hooks.discharge_reported(
            s, hospital="1301", department="1301011", patient_cpr="0108584947",
            discharge_id="D1", discharged_at=datetime(2025, 4, 16, 13, 0),
            config=hooks.current_config(), reported_at=datetime(2025, 4, 16, 13, 0))
        at = datetime(2025, 4, 22, 10, 0)
        s.add(SlaTask(discharge_pk=discharge.id, kind="at_risk_1", hospital="1301",
                      department="1301011", deadline=at, created_at=at))
        s.add(SlaTask(discharge_pk=discharge.id, kind="breached_1", hospital="1301",
                      department="1301011", deadline=at, created_at=at, resolved_at=at))
        s.flush()
        assert gauges.open_tasks(s) == {"undeliverable": 2, "refused": 1, "at_risk_1": 1}


def test_refresh_sets_the_gauges_and_forgets_what_is_gone(sessions):
    with sessions() as s, s.begin():
        parked = message(s, "DIS01", GP, "parked")
        task(s, "undeliverable")
        hooks.discharge_reported(  # Wed 16 April 2025: due Tue 22 April, at risk from 12:00
            s, hospital="1301", department="1301011", patient_cpr="0108584947",
            discharge_id="D1", discharged_at=datetime(2025, 4, 16, 13, 0),
            config=hooks.current_config(), reported_at=datetime(2025, 4, 16, 13, 0))
        gauges.refresh(s, ENDPOINTS, NOW)
    assert sample("medbro_messages_parked", type="DIS01", receiver=GP) == 1
    assert sample("medbro_tasks_open", kind="undeliverable") == 1
    assert sample("medbro_sla_letters_at_risk", hospital="1301", target="1") == 1
    assert sample("medbro_sla_letters_open", hospital="1301") == 1
    with sessions() as s, s.begin():
        s.get(MessageRow, parked.id).state = "failed"  # closed by an operator
        s.execute(sa.update(OperatorTaskRow).values(status="closed"))
        gauges.refresh(s, ENDPOINTS, NOW)
    assert sample("medbro_messages_parked", type="DIS01", receiver=GP) is None
    assert sample("medbro_tasks_open", kind="undeliverable") is None


@pytest.mark.parametrize(("query", "indexes"), [
    ("SELECT kind, count(*) FROM operator_tasks WHERE status = 'open' GROUP BY kind",
     {"ix_operator_tasks_status_kind"}),
    ("SELECT kind, count(*) FROM sla_tasks WHERE resolved_at IS NULL GROUP BY kind",
     {"ix_sla_tasks_resolved_at_kind"}),
    # two indexes lead with the state; the planner may take either
    ("SELECT type, receiver_gln, count(*) FROM messages WHERE state = 'parked' "
     "GROUP BY type, receiver_gln", {"ix_messages_state_updated_at", "ix_messages_search_state"}),
])
def test_the_scrape_queries_use_an_index(tmp_path, query, indexes):
    url = f"sqlite:///{tmp_path / 'plan.db'}"
    upgrade(url)
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            plan = " ".join(str(row[-1]) for row in conn.exec_driver_sql(
                f"EXPLAIN QUERY PLAN {query}"))
    finally:
        engine.dispose()
    assert any(f"INDEX {index} " in plan for index in indexes), plan
