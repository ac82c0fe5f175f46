"""SLA store fixtures: a migrated database (SQLite and PostgreSQL) with empty SLA tables."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import delete
from sqlalchemy.orm import sessionmaker

from gateway.db import create_engine, session_factory
from gateway.migrations import upgrade
from gateway.sla.tables import Discharge, SlaLetter, SlaTask


@pytest.fixture
def sessions(database_url: str) -> Iterator[sessionmaker]:
    upgrade(database_url)
    engine = create_engine(database_url)
    factory = session_factory(engine)
    with factory() as session, session.begin():
        for table in (SlaTask, SlaLetter, Discharge):  # the PG database lives for the session
            session.execute(delete(table))
    yield factory
    engine.dispose()
