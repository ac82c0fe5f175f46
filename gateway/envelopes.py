"""The envelope plugin port: transport envelopes (a VANSEnvelope, ...) around a payload.

Envelopes arrive on several routes (``POST /v1/messages``, the hospital push, ``.xml`` files in
an EDI mailbox). Each route asks this port, never an adapter, so no adapter imports another and
``gateway`` imports none (plugins are named in pyproject.toml, group ``medbro.envelopes``).

A plugin is an object (a module) with:

* ``accepts(data) -> bool``: the bytes are this kind of envelope (read from the bytes, never
  from a content type, which senders get wrong);
* ``async handle(request, org, data, *, source="") -> Response``: the HTTP answer to a posted
  envelope, for an organisation already authenticated by the API;
* optionally ``intake(ingest, settings, *, received_via, on_receipt) -> Intake | None``: an
  ingest for intakes built around ``Hub.ingest`` (the EDI mailbox watcher) that also takes this
  envelope; the receipt it owes the sender goes to ``on_receipt(file_name, receipt_bytes)``.
  ``None`` means the plugin cannot take envelopes with these settings (e.g. no database);
* optionally ``close(app)``: release what ``handle`` keeps on the app (called at shutdown).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import cache
from typing import Any, Protocol

from gateway import plugins
from gateway.errors import ConfigError

ENVELOPE_GROUP = "medbro.envelopes"

OnReceipt = Callable[[str, bytes], Awaitable[None]]


class Ingest(Protocol):
    """``Hub.ingest``'s signature, as intakes call it."""

    async def __call__(self, data: bytes, *, received_via: str, source: str = "",
                       authenticated_glns: frozenset[str] | None = None) -> Any: ...


class Intake(Ingest, Protocol):
    """An ``Ingest`` that also takes one kind of envelope; ``close`` releases its store."""

    def close(self) -> None: ...


class EnvelopePlugin(Protocol):
    def accepts(self, data: bytes) -> bool: ...

    async def handle(self, request: Any, org: Any, data: bytes, *, source: str = "") -> Any: ...


@cache
def envelope_handlers() -> tuple[tuple[str, EnvelopePlugin], ...]:
    """The ``medbro.envelopes`` plugins by name, loaded once; a broken one is a ConfigError."""
    handlers = []
    for name in sorted(plugins.available(ENVELOPE_GROUP)):
        try:
            handler = plugins.load(ENVELOPE_GROUP, name)
        except Exception as exc:
            raise ConfigError(f"envelope plugin {name!r} failed to load: {exc!r}") from exc
        if not (callable(getattr(handler, "accepts", None))
                and callable(getattr(handler, "handle", None))):
            raise ConfigError(f"envelope plugin {name!r} has no accepts(data) and handle(...)")
        handlers.append((name, handler))
    return tuple(handlers)


def envelope_handler_for(data: bytes) -> tuple[str, EnvelopePlugin] | None:
    """The first envelope plugin that recognises ``data``, or None (not an envelope)."""
    return next(((name, h) for name, h in envelope_handlers() if h.accepts(data)), None)


def is_envelope(data: bytes) -> bool:
    return envelope_handler_for(data) is not None


class EnvelopeIntake:
    """``ingest`` that also takes the envelopes of every plugin with an ``intake``.

    Data no plugin accepts goes to ``ingest`` unchanged; ``close`` closes every plugin's intake.
    """

    def __init__(self, ingest: Ingest, intakes: list[tuple[EnvelopePlugin, Intake]]) -> None:
        self._ingest = ingest
        self._intakes = intakes

    @property
    def kinds(self) -> int:
        """How many envelope kinds this intake takes (0: plain ``ingest``)."""
        return len(self._intakes)

    async def __call__(self, data: bytes, *, received_via: str, source: str = "",
                       authenticated_glns: frozenset[str] | None = None) -> Any:
        for plugin, intake in self._intakes:
            if plugin.accepts(data):
                return await intake(data, received_via=received_via, source=source,
                                    authenticated_glns=authenticated_glns)
        return await self._ingest(data, received_via=received_via, source=source,
                                  authenticated_glns=authenticated_glns)

    def close(self) -> None:
        for _plugin, intake in self._intakes:
            intake.close()


def envelope_intake(ingest: Ingest, settings: Any, *, received_via: str,
                    on_receipt: OnReceipt) -> EnvelopeIntake:
    """The intake an inbound channel feeds instead of ``ingest`` (see the module docstring)."""
    intakes: list[tuple[EnvelopePlugin, Intake]] = []
    for _name, plugin in envelope_handlers():
        factory = getattr(plugin, "intake", None)
        if not callable(factory):
            continue
        intake = factory(ingest, settings, received_via=received_via, on_receipt=on_receipt)
        if intake is not None:
            intakes.append((plugin, intake))
    return EnvelopeIntake(ingest, intakes)
