"""Reloading the partner file while medbro runs: read it again, decide, swap, audit.

Every way in (``POST /v1/admin/reload``; SIGHUP in ``medbro api``, ``medbro worker`` and
``medbro mailbox-watch``) calls ``reload``, so they decide alike:

* ``decide`` reads and checks the file as start-up does (``Registry.load``). A file with any
  problem keeps the running configuration, with the ``ConfigError``'s reason (file, entry,
  field); nothing changes.
* A good file is compared with the running one (``diff``: endpoints and organisations added,
  removed, changed) and handed to ``Hub.swap_registry``: its queues are declared first, the
  change is written to the access audit (``config.reload``, who and what), and only then is it
  swapped in by one reference, so no caller ever sees half a registry and no change goes
  unaudited. The worker then consumes the new endpoints' queues.

A reload changes one process: run it in every ``medbro`` process (docs/operations.md).
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from gateway.errors import ConfigError
from gateway.logging import get_logger
from gateway.registry import Endpoint, Organisation, Registry

log = get_logger(__name__)

AUDIT_ACTION = "config.reload"


@dataclass(frozen=True)
class Changes:
    """What a new partner file changes: endpoint GLNs and organisation names, sorted."""

    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    organisations_added: tuple[str, ...] = ()
    organisations_removed: tuple[str, ...] = ()
    organisations_changed: tuple[str, ...] = ()

    @property
    def none(self) -> bool:
        return not any(getattr(self, f) for f in self.__dataclass_fields__)

    def as_dict(self) -> dict[str, Any]:
        return {"endpoints": {"added": list(self.added), "removed": list(self.removed),
                              "changed": list(self.changed)},
                "organisations": {"added": list(self.organisations_added),
                                  "removed": list(self.organisations_removed),
                                  "changed": list(self.organisations_changed)}}


def _endpoint_facts(ep: Endpoint) -> tuple[Any, ...]:
    # ChannelSpec leaves its options out of equality: a new outbox is a change all the same.
    return (ep.name, ep.kind, ep.accepts, ep.channel.kind, repr(sorted(
        ep.channel.options.items())), ep.deliver_as, ep.sor, ep.departments)


def _organisation_facts(org: Organisation) -> tuple[Any, ...]:
    return (org.kind, org.glns, frozenset(org.key_hashes), org.hospitals)


def _compare(old: dict[str, Any], new: dict[str, Any],
             facts: Callable[[Any], tuple[Any, ...]]) -> tuple[tuple[str, ...], ...]:
    added = tuple(sorted(new.keys() - old.keys()))
    removed = tuple(sorted(old.keys() - new.keys()))
    changed = tuple(sorted(k for k in old.keys() & new.keys() if facts(old[k]) != facts(new[k])))
    return added, removed, changed


def diff(old: Registry, new: Registry) -> Changes:
    """What changes from ``old`` to ``new``; pure. Key hashes are compared, never shown."""
    endpoints = _compare({e.gln: e for e in old.endpoints}, {e.gln: e for e in new.endpoints},
                         _endpoint_facts)
    organisations = _compare({o.name: o for o in old.organisations},
                             {o.name: o for o in new.organisations}, _organisation_facts)
    return Changes(*endpoints, *organisations)


@dataclass(frozen=True)
class Decision:
    """``registry`` to swap in, or None: keep the running one, ``error`` says why."""

    registry: Registry | None
    changes: Changes = field(default_factory=Changes)
    error: str = ""


def decide(running: Registry, read: Callable[[], Registry]) -> Decision:
    """Read the file with ``read`` and decide; a ``ConfigError`` keeps ``running``."""
    try:
        new = read()
    except ConfigError as exc:
        return Decision(None, error=" ".join(str(exc).split()))
    return Decision(new, diff(running, new))


@dataclass(frozen=True)
class Outcome:
    """What a reload did: ``applied`` (swapped in) or refused with ``error``."""

    applied: bool
    file: str
    changes: Changes
    error: str = ""

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"applied": self.applied, "file": self.file,
                               **self.changes.as_dict()}
        if self.error:
            out["error"] = self.error
        return out


def read_partner_file(settings: Any) -> Registry:
    """The partner file of ``settings``, checked as at start-up."""
    if settings.config is None:
        raise ConfigError("MEDBRO_CONFIG is not set: there is no partner file to reload")
    return Registry.load(settings.config, allow_demo_keys=settings.allow_demo_keys)


async def reload(hub: Any, *, who: Any, now: datetime | None = None) -> Outcome:
    """Re-read ``hub``'s partner file and swap it in if it is good (see the module docstring).

    ``who``: the ``Principal`` asking (a person, a key, or ``principal.system`` for a signal).
    Raises only when the broker or the store is away (nothing swapped then)."""
    from gateway.operations import audit

    async with hub.reload_lock:  # one reload at a time: each diffs against the last swap
        return await _reload(hub, audit, who, now or datetime.now(UTC))


async def _reload(hub: Any, audit: Any, who: Any, at: datetime) -> Outcome:
    file = str(hub.settings.config or "")
    decision = decide(hub.registry, lambda: read_partner_file(hub.settings))
    if decision.registry is None:
        outcome = Outcome(False, file, decision.changes, decision.error)
        log.warning("config_reload_refused", actor=who.actor, error=decision.error)
        try:
            await hub.ctx.db(_record, hub, audit, who, at, outcome)
        except Exception as exc:  # noqa: BLE001 - the refusal stands without its audit row
            log.warning("config_reload_audit_failed", error=repr(exc))
        return outcome
    outcome = Outcome(True, file, decision.changes)

    async def audited() -> None:
        await hub.ctx.db(_record, hub, audit, who, at, outcome)

    await hub.swap_registry(decision.registry, decision.changes, before=audited)
    log.info("config_reloaded", actor=who.actor, file=file, endpoints=len(hub.registry.endpoints),
             **{k: v for k, v in _flat(decision.changes).items() if v})
    return outcome


def _flat(changes: Changes) -> dict[str, list[str]]:
    return {name: list(getattr(changes, name)) for name in changes.__dataclass_fields__}


def _record(hub: Any, audit: Any, who: Any, at: datetime, outcome: Outcome) -> None:
    detail: dict[str, Any] = {"outcome": "applied" if outcome.applied else "refused",
                              **outcome.changes.as_dict()}
    if outcome.error:
        detail["error"] = outcome.error
    with hub.store.transaction() as session:
        audit.record(session, who, AUDIT_ACTION, target=f"file:{outcome.file}", at=at, **detail)


def reload_on_sighup(hub: Any, process: str) -> Callable[[], None]:
    """SIGHUP reloads ``hub``'s partner file (in the running loop); returns the uninstall.

    A bad file is one log line (``config_reload_refused`` naming file, entry and field) and
    the process goes on with the configuration it has; so does a broker or store that is
    away (``config_reload_failed``)."""
    from gateway.operations.principal import system

    loop = asyncio.get_running_loop()
    running: set[asyncio.Task[None]] = set()
    who = system(f"signal:SIGHUP:{process}")

    async def run() -> None:
        try:
            await reload(hub, who=who)
        except Exception as exc:  # noqa: BLE001 - the process keeps its configuration
            log.error("config_reload_failed", actor=who.actor, error=repr(exc))

    def on_signal() -> None:
        task = loop.create_task(run())
        running.add(task)  # referenced until done, so it is not collected mid-reload
        task.add_done_callback(running.discard)

    loop.add_signal_handler(signal.SIGHUP, on_signal)
    return lambda: loop.remove_signal_handler(signal.SIGHUP)
