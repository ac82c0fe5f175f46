"""Shared fixtures: the MedCom sample corpus and the loopback RabbitMQ and PostgreSQL.

Real services are used over real connections. When one is not reachable its tests are skipped,
except under CI=true, where that is a failure (a green CI must mean the real path ran).
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from databases import PG_ADMIN_URL, fresh_postgres_database  # noqa: F401 - re-exported
from medcom_samples import SAMPLES, sample_bytes  # noqa: F401 - re-exported for fixtures

AMQP_URL = os.environ.get("MEDBRO_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
IN_CI = os.environ.get("CI", "").lower() == "true"


def _port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def _need(service: str, port: int) -> None:
    if _port_open(port):
        return
    if IN_CI:
        pytest.fail(f"{service} is not reachable on 127.0.0.1:{port} and CI=true", pytrace=False)
    pytest.skip(f"{service} is not reachable on 127.0.0.1:{port}")


@pytest.fixture(scope="session")
def samples_dir() -> Path:
    if not SAMPLES.is_dir():
        pytest.skip(f"MedCom sample corpus not found at {SAMPLES}")
    return SAMPLES


@pytest.fixture(scope="session")
def amqp_url() -> str:
    _need("RabbitMQ", 5672)
    return AMQP_URL


@pytest.fixture
def broker_prefix() -> str:
    """A unique name prefix for exchanges and queues, so parallel test runs never meet."""
    return f"medbro-test-{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, dropped afterwards."""
    yield from _fresh_postgres_database()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database nobody else has touched (SQLite and PostgreSQL), for schema-level tests."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
    else:
        yield from _fresh_postgres_database()


def _fresh_postgres_database() -> Iterator[str]:
    _need("PostgreSQL", 5432)
    yield from fresh_postgres_database()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'medbro.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Run a test on both databases: SQLite (embedded default) and PostgreSQL (production)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'medbro.db'}"
    return request.getfixturevalue("postgres_url")
