"""A real ``Hub`` (SQLite, in-process transport) behind the real API app, for API tests.

Letters come from the repo itself (gateway.demo's DIS01 through the codec, its OIOXML twin
through the converter), so these tests run without MedCom's corpus.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import httpx

from gateway.registry import Registry, hash_api_key
from gateway.settings import Settings

HOSPITAL, GP, OTHER_GP = "5790000120420", "5790000128686", "5790000121526"
KEY, OTHER_KEY = "k-region", "k-other"
WHEN = datetime(2026, 11, 23, 9, 30)


def registry() -> Registry:
    return Registry.from_dict({
        "endpoints": [
            {"gln": HOSPITAL, "name": "Hillerød", "kind": "hospital",
             "accepts": [{"type": "DIS91"}], "channel": {"kind": "local"}},
            {"gln": GP, "name": "Lægehuset", "kind": "gp",
             "accepts": [{"type": "DIS01"}, {"type": "XDIS22"}], "channel": {"kind": "local"}},
            {"gln": OTHER_GP, "name": "Odense", "kind": "gp",
             "accepts": [{"type": "DIS01"}], "channel": {"kind": "local"}},
        ],
        "organisations": [
            {"name": "Region", "glns": [HOSPITAL], "api_key_sha256": [hash_api_key(KEY)]},
            {"name": "Other", "glns": [OTHER_GP], "api_key_sha256": [hash_api_key(OTHER_KEY)]},
        ],
    })


def edifact_letter(seq: int = 1) -> bytes:
    """A DIS01 from HOSPITAL to GP, rendered by the codec (gateway.demo's letter)."""
    from gateway.demo import discharge_letter

    return discharge_letter(seq, sender=HOSPITAL, receiver=GP,
                            patient=("0108584947", "Mosebryggersen", "Schwenlund"),
                            prepared_at=WHEN)


def oioxml_letter(seq: int = 1) -> bytes:
    """The OIOXML twin of ``edifact_letter(seq)``."""
    from gateway.oioxml import from_edifact

    return from_edifact(edifact_letter(seq))


def envelope(payload: bytes, *, message_type: str = "DIS01", version: str = "D0133L",
             sender: str = HOSPITAL, receiver: str = GP) -> bytes:
    from adapters.vans import EndPoint, serialize, wrap

    return serialize(wrap(payload, sender=EndPoint(sender), receiver=EndPoint(receiver),
                          message_type=message_type, version=version,
                          envelope_id=str(uuid.uuid4()), message_id=str(uuid.uuid4()),
                          now=WHEN))


@dataclass
class Api:
    client: httpx.AsyncClient
    hub: object

    async def post(self, path: str, body: bytes, *, key: str = KEY,
                   content_type: str = "application/xml") -> httpx.Response:
        return await self.client.post(path, content=body, headers={
            "X-API-Key": key, "Content-Type": content_type})

    async def message(self, message_id: str, *, key: str = KEY) -> httpx.Response:
        return await self.client.get(f"/v1/messages/{message_id}", headers={"X-API-Key": key})


@asynccontextmanager
async def running_api(tmp_path: Path, *, app_options: dict | None = None,
                      **overrides: object) -> AsyncIterator[Api]:
    """The app around a started hub; app exceptions become 500 answers as in production.
    ``app_options`` go to ``create_app``, ``overrides`` to the settings."""
    from gateway.api.app import create_app
    from gateway.pipeline.hub import Hub

    settings = Settings.load(database_url=f"sqlite:///{tmp_path / 'medbro.db'}",
                             broker_url="memory://", broker_prefix=f"t{uuid.uuid4().hex[:8]}",
                             **overrides)
    hub = Hub(settings, registry())
    app = create_app(hub, **(app_options or {}))
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with (app.router.lifespan_context(app),
                httpx.AsyncClient(transport=transport, base_url="http://medbro.test") as c):
        yield Api(c, hub)
