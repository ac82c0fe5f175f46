"""Configuration of one endpoint's EDI mailbox, read from the partner registry.

A mailbox has four directories, created at startup:

* ``inbox``: the partner drops interchanges for medbro here (complete files only, see mapping);
* ``processing``: files medbro has claimed and not yet durably stored;
* ``archive``: files medbro has stored (kept for operators; never read again);
* ``outbox``: interchanges medbro delivers to the partner, ``<senderGLN>_<controlref>.edi``.

Channel options (partner registry, ``[endpoints.channel]`` with ``kind = "edi_mailbox"``): either
``directory = "..."`` (the four are its sub-directories) or ``outbox = "..."`` plus an optional
``inbox = "..."``; ``processing`` and ``archive`` then default to siblings of the inbox. Without
an inbox the endpoint only receives. ``poll_interval`` (s), ``min_age`` (s), ``fsync`` (bool),
``concurrency`` (inbox files ingested at once).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gateway.errors import ConfigError


@dataclass(frozen=True)
class MailboxConfig:
    """Where an endpoint's mailbox lives and how it is watched."""

    gln: str
    directory: Path | None = None
    inbox_dir: Path | None = None
    outbox_dir: Path | None = None
    processing_dir: Path | None = None
    archive_dir: Path | None = None
    poll_interval: float = 0.5
    min_age: float = 0.0  # seconds an inbox file must be unchanged (senders that cannot rename)
    fsync: bool = True
    concurrency: int = 8  # inbox files ingested at once (1 = strictly in file order)

    def __post_init__(self) -> None:
        if self.directory is None and self.outbox_dir is None:
            raise ConfigError(f"endpoint {self.gln}: edi_mailbox needs 'directory' or 'outbox'")

    def _path(self, explicit: Path | None, name: str) -> Path:
        if explicit is not None:
            return explicit
        if self.directory is not None:
            return self.directory / name
        base = self.inbox_dir.parent if self.inbox_dir is not None else self.outbox_dir.parent
        return base / name

    @property
    def has_inbox(self) -> bool:
        return self.directory is not None or self.inbox_dir is not None

    @property
    def inbox(self) -> Path:
        return self._path(self.inbox_dir, "inbox")

    @property
    def processing(self) -> Path:
        return self._path(self.processing_dir, "processing")

    @property
    def archive(self) -> Path:
        return self._path(self.archive_dir, "archive")

    @property
    def outbox(self) -> Path:
        return self._path(self.outbox_dir, "outbox")

    @classmethod
    def from_options(cls, gln: str, options: Mapping[str, Any]) -> MailboxConfig:
        """Build from an endpoint's channel options; a clear ConfigError names what is wrong."""
        def path(key: str) -> Path | None:
            value = options.get(key)
            return Path(value).expanduser() if value else None

        if not (options.get("directory") or options.get("outbox")):
            raise ConfigError(f"endpoint {gln}: edi_mailbox channel needs 'directory' or 'outbox'")
        try:
            poll = float(options.get("poll_interval", 0.5))
            min_age = float(options.get("min_age", 0.0))
            concurrency = int(options.get("concurrency", 8))
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"endpoint {gln}: edi_mailbox option is not a number: {exc}") from exc
        if poll <= 0 or min_age < 0 or concurrency < 1:
            raise ConfigError(f"endpoint {gln}: poll_interval must be > 0, min_age >= 0 "
                              "and concurrency >= 1")
        return cls(
            gln=gln,
            directory=path("directory"),
            inbox_dir=path("inbox"),
            outbox_dir=path("outbox"),
            processing_dir=path("processing"),
            archive_dir=path("archive"),
            poll_interval=poll,
            min_age=min_age,
            fsync=bool(options.get("fsync", True)),
            concurrency=concurrency,
        )

    @classmethod
    def from_endpoint(cls, endpoint: Any) -> MailboxConfig:
        """Build from a registry endpoint (its ``gln`` and channel options)."""
        return cls.from_options(endpoint.gln, endpoint_options(endpoint))


def endpoint_options(endpoint: Any) -> Mapping[str, Any]:
    """The channel options of a registry endpoint (``gateway.registry.ChannelSpec.options``)."""
    options = getattr(getattr(endpoint, "channel", None), "options", None)
    return options if isinstance(options, Mapping) else {}
