"""In-memory twin of the hub for the hospital push: records ingests, answers as told.

The router tests run against it and against the real ``Hub`` (tests/adapters/hospital), so
the thin adapter is checked for what it hands over, not only for what a fake says back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class FakeIngestResult:
    message_ids: list[str]
    state: str = "routed"
    duplicate: bool = False
    receipt: bytes | None = None
    error: str | None = None


@dataclass
class FakeSettings:
    database_url: str


@dataclass
class RecordingHub:
    """Has the hub's ``ingest`` signature; ``results`` are answered in order, then "routed"."""

    settings: FakeSettings
    registry: Any
    results: list[FakeIngestResult] = field(default_factory=list)
    ingested: list[dict[str, Any]] = field(default_factory=list)

    async def ingest(self, data: bytes, *, received_via: str, source: str = "",
                     authenticated_glns: frozenset[str] | None = None,
                     hint: Any = None) -> FakeIngestResult:
        self.ingested.append({"data": data, "received_via": received_via, "source": source,
                              "authenticated_glns": authenticated_glns, "hint": hint})
        if self.results:
            return self.results.pop(0)
        return FakeIngestResult([f"msg-{len(self.ingested)}"])

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None
