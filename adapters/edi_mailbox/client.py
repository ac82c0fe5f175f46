"""File IO of an EDI mailbox: atomic claim of inbound files, atomic idempotent outbound writes.

Guarantees and how they are kept:

* **Outbound is atomic and idempotent.** The interchange is written to a temporary file in the
  outbox directory itself (same filesystem), flushed and fsync'ed, then published under its
  final name with ``os.link`` (fails if the name exists: no clobbering, even when two workers
  redeliver at once) and the directory is fsync'ed. A reader never sees a partial file, and a
  second delivery of the same interchange finds the name taken and writes nothing. Filesystems
  without hard links fall back to ``os.replace`` (same bytes, so overwriting is harmless).
* **Inbound is claimed atomically.** ``os.rename`` into ``processing/`` succeeds for exactly one
  claimer; a loser gets ``None``. The caller stores the bytes and only then archives; a crash in
  between leaves the file in ``processing/``.
* **A claim is owned while it is processed.** The claimer holds an exclusive ``flock`` on the
  file (taken before the rename, kept until the archive). The kernel drops it when the process
  dies, so ``adopt`` can tell a crashed claimer's leftover (lock free: take it over, at once)
  from a file another live watcher on the same mailbox is storing right now (locked: leave it).
"""

from __future__ import annotations

import fcntl
import os
import secrets
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from adapters.edi_mailbox.config import MailboxConfig
from adapters.edi_mailbox.mapping import claimed_name, is_complete, temp_name


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _open_locked(path: Path) -> int | None:
    """A descriptor of ``path`` holding an exclusive flock, or None (gone or locked by another)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class MailboxClient:
    """One endpoint's mailbox directories on a local or mounted filesystem."""

    def __init__(
        self,
        config: MailboxConfig,
        *,
        clock: Callable[[], datetime] = _utcnow,
        token: Callable[[], str] = lambda: secrets.token_hex(4),
    ) -> None:
        self.config = config
        self._clock = clock
        self._token = token
        self._held: dict[str, int] = {}  # claimed name -> descriptor holding its flock

    def ensure_dirs(self) -> None:
        paths = [self.config.outbox]
        if self.config.has_inbox:
            paths += [self.config.inbox, self.config.processing, self.config.archive]
        for path in paths:
            path.mkdir(parents=True, exist_ok=True)

    # -- outbound ------------------------------------------------------------------------------
    def publish(self, name: str, payload: bytes) -> bool:
        """Write ``payload`` as ``outbox/name`` atomically; False when it was already there."""
        return self._write_atomically(self.config.outbox, name, payload)

    def outbox_names(self) -> list[str]:
        return sorted(n for n in os.listdir(self.config.outbox) if is_complete(n))

    def read_outbox(self, name: str) -> bytes:
        return (self.config.outbox / name).read_bytes()

    # -- inbound -------------------------------------------------------------------------------
    def drop(self, name: str, payload: bytes) -> bool:
        """The partner's side: put an interchange into the inbox with temp + rename."""
        return self._write_atomically(self.config.inbox, name, payload)

    def ready(self) -> list[str]:
        """Complete inbox files, oldest first (those younger than ``min_age`` wait)."""
        entries = []
        horizon = time.time() - self.config.min_age
        with os.scandir(self.config.inbox) as it:
            for entry in it:
                if not is_complete(entry.name) or not entry.is_file():
                    continue
                try:
                    mtime = entry.stat().st_mtime
                except FileNotFoundError:  # claimed by another watcher meanwhile
                    continue
                if self.config.min_age and mtime > horizon:
                    continue
                entries.append((mtime, entry.name))
        return [name for _, name in sorted(entries)]

    def claim(self, name: str) -> str | None:
        """Lock and move ``inbox/name`` into ``processing/``; its claimed name, or None if taken."""
        fd = _open_locked(self.config.inbox / name)
        if fd is None:
            return None
        claimed = claimed_name(name, self._clock(), self._token())
        try:
            os.rename(self.config.inbox / name, self.config.processing / claimed)
        except FileNotFoundError:  # another watcher claimed and finished it meanwhile
            os.close(fd)
            return None
        self._held[claimed] = fd
        if self.config.fsync:
            _fsync_dir(self.config.processing)
        return claimed

    def claimed(self) -> list[str]:
        """Every file in ``processing/`` (ours, other watchers', crashed ones), oldest first."""
        return sorted(n for n in os.listdir(self.config.processing) if not n.startswith("."))

    def adopt(self, claimed: str) -> bool:
        """Own a file in ``processing/``: True when it is ours or its claimer is gone."""
        if claimed in self._held:
            return True
        path = self.config.processing / claimed
        fd = _open_locked(path)
        if fd is None:
            return False  # a live watcher is storing it
        if not path.exists():  # its owner archived it between our open and our lock
            os.close(fd)
            return False
        self._held[claimed] = fd
        return True

    def read_claimed(self, claimed: str) -> bytes:
        return (self.config.processing / claimed).read_bytes()

    def archive(self, claimed: str) -> None:
        """Move a stored file from ``processing/`` to ``archive/`` (only after the store commit),
        then let go of its lock."""
        os.replace(self.config.processing / claimed, self.config.archive / claimed)
        if self.config.fsync:
            _fsync_dir(self.config.archive)
        fd = self._held.pop(claimed, None)
        if fd is not None:
            os.close(fd)

    def close(self) -> None:
        """Let go of every claim still held (failed stores): another watcher may adopt them."""
        for fd in self._held.values():
            os.close(fd)
        self._held.clear()

    def archived(self) -> list[str]:
        return sorted(os.listdir(self.config.archive))

    # -- shared --------------------------------------------------------------------------------
    def _write_atomically(self, directory: Path, name: str, payload: bytes) -> bool:
        final = directory / name
        if final.exists():
            return False
        tmp = directory / temp_name(name, self._token())
        with open(tmp, "wb") as fh:
            fh.write(payload)
            fh.flush()
            if self.config.fsync:
                os.fsync(fh.fileno())
        try:
            os.link(tmp, final)
            created = True
        except FileExistsError:
            created = False
        except OSError:  # no hard links on this filesystem: replace (same identity, same bytes)
            created = not final.exists()
            os.replace(tmp, final)
        finally:
            tmp.unlink(missing_ok=True)
        if self.config.fsync:
            _fsync_dir(directory)
        return created
