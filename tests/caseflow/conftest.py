"""A case service on a migrated database (SQLite and PostgreSQL) and a fake clock."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from gateway.caseflow.outbox import MemoryOutbox
from gateway.caseflow.service import CaseService
from gateway.db import create_engine, session_factory
from gateway.migrations import upgrade

COORDINATORS = {"hovedstaden": ("987654321098", "Sundhedskoordinator Region H")}


@pytest.fixture
def service(database_url: str) -> Iterator[CaseService]:
    upgrade(database_url)
    engine = create_engine(database_url)
    yield CaseService(session_factory(engine), coordinators=COORDINATORS)
    # PostgreSQL: the session database is shared by the tests; cases use unique refs.
    engine.dispose()


@pytest.fixture
def outbox() -> MemoryOutbox:
    return MemoryOutbox()
