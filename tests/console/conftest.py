"""Console fixtures: a real Hub (its database migrated) behind the real API app, reached over
HTTP in-process (``client``) or by Chromium through a real uvicorn server (``console_url``).

Persons (gateway.operations.persons, one password for all): ``anne`` an operator and ``ada`` an
admin in ``Region H`` (kind region: sees everything); ``viggo`` a viewer in ``Rigshospitalet``
(hospital 1301 only); ``herle`` a viewer in ``Herlev`` (hospital 1330).
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from gateway.api.app import create_app
from gateway.db import create_engine, session_factory
from gateway.pipeline.hub import Hub
from gateway.registry import hash_api_key
from gateway.settings import Settings

from .dataset import NOW

HOSPITAL_GLN, GP_GLN, OTHER_GLN = "5790000120420", "5790000128686", "5790000120437"
PASSWORD = "correct horse battery"
OPERATOR, ADMIN, VIEWER, OTHER = "anne", "ada", "viggo", "herle"
PERSONS = {OPERATOR: ("operator", "Region H"), ADMIN: ("admin", "Region H"),
           VIEWER: ("viewer", "Rigshospitalet"), OTHER: ("viewer", "Herlev")}
KEYS = {"Region H": "region-key", "Rigshospitalet": "hospital-key", "Herlev": "other-key"}
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--lang=da-DK",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
IN_CI = os.environ.get("CI", "").lower() == "true"


def partners_toml(root: Path) -> str:
    def endpoint(gln: str, name: str, kind: str, accepts: str = "") -> str:
        where = root / "mailboxes" / gln
        return (f'[[endpoints]]\ngln = "{gln}"\nname = "{name}"\nkind = "{kind}"\n{accepts}'
                f'channel = {{ kind = "edi_mailbox", directory = "{where}" }}\n\n')

    def organisation(name: str, key: str, gln: str, kind: str, hospitals: str = "") -> str:
        return (f'[[organisations]]\nname = "{name}"\nglns = ["{gln}"]\nkind = "{kind}"\n'
                f'api_key_sha256 = ["{hash_api_key(key)}"]\n{hospitals}\n')

    return (endpoint(HOSPITAL_GLN, "Rigshospitalet", "hospital")
            + endpoint(OTHER_GLN, "Herlev Hospital", "hospital")
            + endpoint(GP_GLN, "Lægehuset Vandværksvej", "gp",
                       'accepts = [{ type = "DIS01", versions = ["D0133L"] }]\n')
            + organisation("Region H", KEYS["Region H"], HOSPITAL_GLN, "region")
            + organisation("Rigshospitalet", KEYS["Rigshospitalet"], HOSPITAL_GLN, "hospital",
                           'hospitals = ["1301"]')
            + organisation("Herlev", KEYS["Herlev"], OTHER_GLN, "hospital",
                           'hospitals = ["1330"]'))


def settings_for(root: Path, database_url: str) -> Settings:
    config = root / "partners.toml"
    config.write_text(partners_toml(root), encoding="utf-8")
    return Settings.load(database_url=database_url, broker_url="memory://", config=config,
                         broker_prefix=f"console-{os.getpid()}")


def prepare(url: str) -> str:
    """Migrate ``url`` and add the persons above (argon2 hashing: done once per template)."""
    from gateway.migrations import upgrade
    from gateway.operations import persons

    upgrade(url)
    engine = create_engine(url)
    with session_factory(engine)() as session, session.begin():
        for name, (role, organisation) in PERSONS.items():
            persons.add(session, name, role=role, organisations=[organisation],
                        password=PASSWORD, now=datetime.now(UTC))
    engine.dispose()
    return url


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("console") / "template.db"
    prepare(f"sqlite:///{path}")
    return path


# For tests that run on both databases: @pytest.mark.parametrize("console_db", BOTH, indirect=True)
BOTH = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture
def console_db(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> str:
    """A database of the test's own holding the persons above: a copy of the SQLite template,
    or (parametrised ``postgres``) a fresh PostgreSQL database."""
    if getattr(request, "param", "sqlite") == "postgres":
        return prepare(request.getfixturevalue("empty_database_url_postgres"))
    path = tmp_path / "medbro.db"
    shutil.copyfile(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def empty_database_url_postgres() -> Iterator[str]:
    from databases import fresh_postgres_database

    yield from fresh_postgres_database("medbro_console")


@pytest.fixture
def sessions(console_db: str) -> Iterator:
    engine = create_engine(console_db)
    yield session_factory(engine)
    engine.dispose()


@pytest.fixture
async def hub(tmp_path: Path, console_db: str) -> AsyncIterator[Hub]:
    hub = Hub.from_settings(settings_for(tmp_path, console_db))
    await hub.start()
    yield hub
    await hub.stop()


@pytest.fixture
async def client(hub: Hub) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(hub, manage_hub=False)
    app.state.clock = lambda: NOW
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://medbro") as http:
        http.app = app  # type: ignore[attr-defined]
        yield http


async def log_in(http: httpx.AsyncClient, who: str = OPERATOR) -> str:
    """Log ``http`` in as ``who``; returns the session's CSRF token (from a page's form)."""
    page = await http.get("/console/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    answer = await http.post("/console/login", data={
        "csrf": token, "name": who, "password": PASSWORD, "next": "/console/"})
    assert answer.status_code == 303, answer.text
    overview = await http.get("/console/")
    return re.search(r'data-csrf="([^"]+)"', overview.text).group(1)


# -- a real server for the browser ---------------------------------------------------------


class Server:
    """uvicorn serving ``app`` on a free loopback port, in a thread of its own."""

    def __init__(self, app) -> None:
        import uvicorn

        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.port = self.socket.getsockname()[1]
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        asyncio.run(self.server.serve(sockets=[self.socket]))

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the console server did not start")
            time.sleep(0.05)
        return f"http://127.0.0.1:{self.port}"

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)
        self.socket.close()


@pytest.fixture
def console_app(tmp_path: Path, console_db: str):
    """The API app with the console, on a Hub it starts and stops itself (lifespan)."""
    app = create_app(Hub.from_settings(settings_for(tmp_path, console_db)))
    app.state.clock = lambda: NOW
    return app


@pytest.fixture
def console_url(console_app) -> Iterator[str]:
    with Server(console_app) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium driven by Playwright (never a browser Playwright downloads).

    Module scope: Playwright's sync API keeps an event loop of its own while it runs, which
    must be gone before the next module's asyncio tests start theirs."""
    if not Path(CHROMIUM).exists():
        if IN_CI:
            pytest.fail(f"{CHROMIUM} is missing and CI=true (.ci/run installs it)", pytrace=False)
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="da-DK",
                                  timezone_id="Europe/Copenhagen")
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    """Where the browser tests save a screenshot of each page (MEDBRO_SCREENSHOTS, e.g.
    docs/console to refresh the documentation's pictures; else a folder under var/)."""
    folder = Path(os.environ.get("MEDBRO_SCREENSHOTS", "var/console-screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder
