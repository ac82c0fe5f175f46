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
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from gateway.api.app import create_app
from gateway.channels import Delivery, DeliveryResult, TransientDeliveryError
from gateway.db import create_engine, session_factory
from gateway.demo import discharge_letter
from gateway.pipeline.hub import Hub
from gateway.registry import Endpoint, Registry, hash_api_key
from gateway.settings import Settings

from .dataset import NOW

HOSPITAL_GLN, GP_GLN, OTHER_GLN = "5790000120420", "5790000128686", "5790000120437"
PATIENT = ("1203629992", "Østergård", "Åse Marie")  # fictitious test person (9xxx serial)
PASSWORD = "correct horse battery"
OPERATOR, ADMIN, VIEWER, OTHER = "anne", "ada", "viggo", "herle"
PERSONS = {OPERATOR: ("operator", "Region H"), ADMIN: ("admin", "Region H"),
           VIEWER: ("viewer", "Rigshospitalet"), OTHER: ("viewer", "Herlev")}
KEYS = {"Region H": "region-key", "Rigshospitalet": "hospital-key", "Herlev": "other-key"}
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
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
                         broker_prefix=f"console-{os.getpid()}", retry_delays_seconds=(0.2, 0.4),
                         max_delivery_attempts=2, scan_interval_seconds=0.2)


@dataclass
class SwitchableChannel:
    """Delivers every endpoint's letters into a list; an endpoint in ``down`` fails
    (transiently), as a GP system that is off would."""

    delivered: dict[str, list[Delivery]] = field(default_factory=dict)
    down: set[str] = field(default_factory=set)

    async def deliver(self, endpoint: Endpoint, delivery: Delivery) -> DeliveryResult:
        if endpoint.gln in self.down:
            raise TransientDeliveryError(f"{endpoint.name} does not answer")
        self.delivered.setdefault(endpoint.gln, []).append(delivery)
        return DeliveryResult(external_ref=f"test:{delivery.control_ref}")


def working_hub(root: Path, database_url: str, channel: SwitchableChannel) -> Hub:
    settings = settings_for(root, database_url)
    return Hub(settings, Registry.load(settings.config), channel_factory=lambda ep: channel)


def letter(seq: int, patient: tuple[str, str, str] = PATIENT, receiver: str = GP_GLN) -> bytes:
    """A DIS01 discharge letter from the hospital, written by the codec."""
    return discharge_letter(seq, sender=HOSPITAL_GLN, receiver=receiver, patient=patient,
                            prepared_at=datetime(2026, 12, 1, 9, 0), ack_requested=False)


async def parked_letter(hub: Hub, channel: SwitchableChannel, seq: int = 1) -> str:
    """A letter to the GP while its system is down: retried, then parked with a task."""
    channel.down.add(GP_GLN)
    result = await hub.ingest(letter(seq), received_via="test", source="test")
    message_id = result.message_ids[0]
    for _ in range(400):
        if hub.message_view(message_id)["state"] == "parked":
            return message_id
        await asyncio.sleep(0.05)
    raise AssertionError(f"not parked: {hub.message_view(message_id)['state']}")


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
def channel() -> SwitchableChannel:
    return SwitchableChannel()


@pytest.fixture
async def hub(tmp_path: Path, console_db: str, channel: SwitchableChannel) -> AsyncIterator[Hub]:
    """A started hub whose worker delivers through ``channel``."""
    hub = working_hub(tmp_path, console_db, channel)
    await hub.start()
    stop = asyncio.Event()
    worker = asyncio.create_task(hub.run_worker(stop))
    yield hub
    stop.set()
    await asyncio.wait_for(worker, 30)
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
    """uvicorn serving the console of ``hub`` on a free loopback port, with the hub's worker,
    in a thread (and event loop) of its own."""

    def __init__(self, hub: Hub) -> None:
        import uvicorn

        self.hub = hub
        self.app = create_app(hub, manage_hub=False)
        self.app.state.clock = lambda: NOW
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.port = self.socket.getsockname()[1]
        self.server = uvicorn.Server(uvicorn.Config(self.app, log_level="warning",
                                                    lifespan="on"))
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.loop: asyncio.AbstractEventLoop | None = None

    def _run(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        self.loop = asyncio.get_running_loop()
        await self.hub.start()
        stop = asyncio.Event()
        worker = asyncio.create_task(self.hub.run_worker(stop))
        try:
            await self.server.serve(sockets=[self.socket])
        finally:
            stop.set()
            await asyncio.wait_for(worker, 30)
            await self.hub.stop()

    def call(self, coroutine):
        """Run ``coroutine`` on the server's loop (the hub lives there) and wait for it."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=60)

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
def server(tmp_path: Path, console_db: str, channel: SwitchableChannel) -> Iterator[Server]:
    """The console served by uvicorn on a working hub (its worker delivers via ``channel``)."""
    server = Server(working_hub(tmp_path, console_db, channel))
    with server:
        yield server


@pytest.fixture
def console_url(server: Server) -> str:
    return f"http://127.0.0.1:{server.port}"


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
    broken: list[str] = []  # a script error or a CSP refusal on any page of the test
    page.on("pageerror", lambda error: broken.append(str(error)))
    page.on("console", lambda m: broken.append(m.text)
            if m.type == "error" and "Content Security Policy" in m.text else None)
    yield page
    context.close()
    assert broken == [], broken


@pytest.fixture(scope="session")
def screenshots() -> Path:
    """Where the browser tests save a screenshot of each page (MEDBRO_SCREENSHOTS, e.g.
    docs/console to refresh the documentation's pictures; else a folder under var/)."""
    folder = Path(os.environ.get("MEDBRO_SCREENSHOTS", "var/console-screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder
