"""What the case flow needs to run beside a Hub: its service, its outbox, the address book
(party -> GLN) and a clock; read from a small TOML file named by ``MEDBRO_CASEFLOW_CONFIG``.

```toml
journal = true            # every document also to the municipality's endpoint (ESDH channel)

[address_book]            # party (scheme:id) -> GLN in the Hub's partner registry
"KOM:101" = "5790000000101"
"YNR:291714" = "5790000291714"
"SOR:987654321098" = "5790000987654"

[coordinators]            # region -> its health coordinator
hovedstaden = { sor = "987654321098", name = "Sundhedskoordinator Region H" }

[regions.midtjylland]     # optional: a region that screens "any time within the 10 days"
screening_workdays = "within_lead_time"
```
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from gateway.caseflow.deadlines import DeadlineRules, RegionPolicy
from gateway.caseflow.outbox import HubOutbox, Outbox
from gateway.caseflow.service import CaseService
from gateway.db import create_engine, session_factory
from gateway.errors import ConfigError

ENV = "MEDBRO_CASEFLOW_CONFIG"
COPENHAGEN = ZoneInfo("Europe/Copenhagen")


def local_now() -> datetime:
    """Naive Danish local time, the time the case flow counts in."""
    return datetime.now(COPENHAGEN).replace(tzinfo=None)


@dataclass
class Caseflow:
    """One running case flow: the service, where its documents go, and its clock."""

    service: CaseService
    outbox: Outbox
    address_book: dict[tuple[str, str], str] = field(default_factory=dict)
    clock: Callable[[], datetime] = local_now

    def municipalities_of(self, glns: frozenset[str]) -> set[str]:
        """The municipality numbers whose GLN an organisation holds (what it may see)."""
        return {pid for (scheme, pid), gln in self.address_book.items()
                if scheme == "KOM" and gln in glns}


@dataclass(frozen=True)
class CaseflowConfig:
    address_book: dict[tuple[str, str], str]
    coordinators: dict[str, tuple[str, str]]
    policies: dict[str, RegionPolicy]
    journal: bool = False

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "<caseflow config>") -> CaseflowConfig:
        book = {}
        for key, gln in data.get("address_book", {}).items():
            scheme, _, pid = key.partition(":")
            if not pid or not (isinstance(gln, str) and gln.isdigit() and len(gln) == 13):
                raise ConfigError(
                    f"{source}: address_book.{key}: need \"SCHEME:id\" = 13-digit GLN")
            book[(scheme, pid)] = gln
        coordinators = {}
        for region, c in data.get("coordinators", {}).items():
            if not isinstance(c, dict) or "sor" not in c:
                raise ConfigError(f"{source}: coordinators.{region}: needs sor (and name)")
            coordinators[region] = (str(c["sor"]), str(c.get("name", "")))
        policies = {}
        for region, r in data.get("regions", {}).items():
            within = r.get("screening_workdays") == "within_lead_time"
            policies[region] = RegionPolicy(normal=DeadlineRules(
                coordinator_lead_workdays=_workdays(source, region, r,
                                                    "coordinator_lead_workdays", 10),
                screening_workdays=None if within else _workdays(source, region, r,
                                                                 "screening_workdays", 5)))
        return cls(book, coordinators, policies, bool(data.get("journal", False)))

    @classmethod
    def load(cls, path: str | Path) -> CaseflowConfig:
        try:
            return cls.from_dict(tomllib.loads(Path(path).read_text("utf-8")), str(path))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"{path}: cannot read the case flow configuration: {exc}") from exc


def _workdays(source: str, region: str, rules: dict[str, Any], name: str, default: int) -> int:
    value = rules.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError(f"{source}: regions.{region}.{name}: {value!r} is not a number of "
                          "workdays")
    return value


def caseflow_for_hub(hub: Any, config: CaseflowConfig | None = None) -> Caseflow:
    """The case flow beside ``hub``: same database, documents into ``hub.ingest``."""
    if config is None:
        path = os.environ.get(ENV)
        if not path:
            raise ConfigError(f"the case flow is not configured: set {ENV} to its TOML file")
        config = CaseflowConfig.load(path)
    engine = create_engine(hub.settings.database_url)
    service = CaseService(session_factory(engine), policies=config.policies,
                          coordinators=config.coordinators, journal=config.journal)
    return Caseflow(service, HubOutbox(hub, config.address_book), config.address_book)
