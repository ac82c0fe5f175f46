"""Every ``GET /v1/messages`` filter is an index scan on PostgreSQL, newest first without a sort.

The store is filled as bench/search_bench.py fills it (same ``seed``, fewer rows), analysed,
and EXPLAIN is asked about the search's own page query (``search.page_query``) for each filter:
the plan must read the filter's index (no sequential scan, no sort of the matches).
"""

from __future__ import annotations

import pytest
from databases import fresh_postgres_database
from sqlalchemy.orm import Session

from bench.search_bench import cases, explain, patient, plan_indexes, seed
from gateway.db import create_engine
from gateway.migrations import upgrade
from gateway.operations import search

pytestmark = pytest.mark.postgres
ROWS = 30_000

# filter -> the indexes the planner may choose (each ends in created_at, id, or is unique-ish)
EXPECTED = {
    "state=parked": {"ix_messages_search_state"},
    "receiver": {"ix_messages_search_receiver"},
    "sender": {"ix_messages_search_sender"},
    # one letter in six is a REF01: walking the newest-first index finds a page as quickly
    "type": {"ix_messages_search_type", "ix_messages_search_created"},
    "patient": {"ix_messages_search_patient"},
    "letter_id": {"ix_messages_search_letter_id"},
    "unb_ref": {"ix_messages_search_control_ref"},
    "since/until": {"ix_messages_search_created"},
}


@pytest.fixture(scope="module")
def store():
    gen = fresh_postgres_database("medbro_plans")
    url = next(gen)
    upgrade(url)
    engine = create_engine(url)
    seed(engine, ROWS)
    try:
        yield engine
    finally:
        engine.dispose()
        gen.close()


@pytest.mark.parametrize("label", sorted(EXPECTED))
def test_each_filter_reads_its_index(store, label):
    params = cases(ROWS)[label]
    with store.connect() as conn:
        used, _node = plan_indexes(conn, params)
        text = "\n".join(explain(conn, params))
    assert set(used) & EXPECTED[label], (label, used, text)
    assert "Seq Scan" not in text, text
    if label in ("state=parked", "sender", "type", "since/until"):  # many matches:
        assert "Sort" not in text, text  # newest first straight from the index, no sort
    # (a receiver's or a patient's few rows may be fetched by bitmap and sorted: still cheap)


def test_the_next_page_through_a_cursor_reads_the_same_index(store):
    with store.connect() as conn:
        first = search.search(Session(bind=conn), search.Filter(state="parked"),
                              glns=None, limit=20)
        used, _ = plan_indexes(conn, {"state": "parked"}, first["next"])
    assert first["next"] and used == ["ix_messages_search_state"]


def test_patient_search_is_exact_among_many(store):
    """The seed's patients: each has its own messages, found by key, no one else's."""
    with store.connect() as conn:
        found = search.search(Session(bind=conn),
                              search.Filter.parse({"patient": patient(4242)}),
                              glns=None, limit=50)
    ids = sorted(int(m["id"].removeprefix("m-")) for m in found["items"])
    assert ids == [g for g in range(1, ROWS + 1) if patient(g) == patient(4242)]
