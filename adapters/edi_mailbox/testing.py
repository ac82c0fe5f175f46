"""In-memory twin of ``MailboxClient``: the same methods and rules, no filesystem.

Unit tests and the contract suite inject it where the real client would go (never patched in).
``fail_next_publish`` simulates a full disk so channel error handling can be tested.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, datetime

from adapters.edi_mailbox.config import MailboxConfig
from adapters.edi_mailbox.mapping import claimed_name, is_complete


class MemoryMailboxClient:
    """A mailbox whose four directories are dicts of name -> bytes."""

    def __init__(
        self,
        config: MailboxConfig,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.config = config
        self._clock = clock
        self._tokens = (f"{n:08x}" for n in itertools.count())
        self.inbox: dict[str, bytes] = {}
        self.processing: dict[str, bytes] = {}
        self.archive_dir: dict[str, bytes] = {}
        self.outbox: dict[str, bytes] = {}
        self.fail_next_publish: OSError | None = None

    def ensure_dirs(self) -> None:
        """Nothing to create in memory."""

    def publish(self, name: str, payload: bytes) -> bool:
        if self.fail_next_publish is not None:
            exc, self.fail_next_publish = self.fail_next_publish, None
            raise exc
        if name in self.outbox:
            return False
        self.outbox[name] = bytes(payload)
        return True

    def outbox_names(self) -> list[str]:
        return sorted(self.outbox)

    def read_outbox(self, name: str) -> bytes:
        return self.outbox[name]

    def drop(self, name: str, payload: bytes) -> bool:
        if name in self.inbox:
            return False
        self.inbox[name] = bytes(payload)
        return True

    def ready(self) -> list[str]:
        return [name for name in self.inbox if is_complete(name)]

    def claim(self, name: str) -> str | None:
        if name not in self.inbox:
            return None
        claimed = claimed_name(name, self._clock(), next(self._tokens))
        self.processing[claimed] = self.inbox.pop(name)
        return claimed

    def claimed(self) -> list[str]:
        return sorted(self.processing)

    def adopt(self, claimed: str) -> bool:
        """One twin is one watcher: whatever sits in processing/ is its own or abandoned."""
        return claimed in self.processing

    def close(self) -> None:
        """Nothing held in memory."""

    def read_claimed(self, claimed: str) -> bytes:
        return self.processing[claimed]

    def archive(self, claimed: str) -> None:
        if claimed not in self.processing and claimed in self.archive_dir:
            return  # already archived by another watcher
        self.archive_dir[claimed] = self.processing.pop(claimed)

    def archived(self) -> list[str]:
        return sorted(self.archive_dir)
