"""Pure naming rules of the EDI mailbox: file names <-> (sender GLN, UNB control ref).

A VANS mailbox is a set of directories, one file per interchange. Everything that decides a name
lives here, without IO, so the rules are tested from tables:

* outbound files are named ``<senderGLN>_<controlref>.edi``. The pair is the interchange's
  identity (MedCom's duplicate key at envelope level), so writing the same interchange twice
  names the same file, which is what makes redelivery idempotent;
* inbound files are taken only when complete: the sender writes ``.name`` or ``name.tmp`` and
  renames it when done (the usual VANS/FTP drop convention), so names starting with ``.`` or
  ending in ``.tmp``/``.part``/``~`` are still being written and are left alone;
* a claimed file gets a unique name (UTC stamp + token + original name) in ``processing/`` and
  keeps it in ``archive/``, so a sender reusing a file name never collides with an older one.

Characters outside ``[A-Za-z0-9.-]`` in a name part are written as ``%XX`` (Latin-1 byte), so
``_`` stays the one separator and no control ref can escape the directory.
"""

from __future__ import annotations

import re
from datetime import datetime

OUTBOX_SUFFIX = ".edi"
INCOMPLETE_SUFFIXES = (".tmp", ".part", "~")
CLAIM_SEPARATOR = "~"

_SAFE = re.compile(r"[A-Za-z0-9.\-]")
_ESCAPE = re.compile(r"%([0-9A-F]{2})")
_OUTBOX_NAME = re.compile(r"^(?P<sender>[^_]+)_(?P<ref>[^_]+)\.edi$")
_CLAIMED = re.compile(r"^\d{8}T\d{6}\d{6}Z-[0-9a-f]{8}~(?P<original>.+)$")


class MailboxNameError(ValueError):
    """A file name that does not follow the mailbox naming rules."""


def _escape(part: str) -> str:
    if not part:
        raise MailboxNameError("an empty sender or control ref cannot name a file")
    out = []
    for char in part:
        if _SAFE.fullmatch(char):
            out.append(char)
        else:
            out.extend(f"%{byte:02X}" for byte in char.encode("latin-1", "backslashreplace"))
    escaped = "".join(out)
    # A leading dot would make the file look incomplete (hidden) to the reader.
    return "%2E" + escaped[1:] if escaped.startswith(".") else escaped


def _unescape(part: str) -> str:
    return _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), part)


def outbox_name(sender_gln: str, control_ref: str) -> str:
    """The outbox file name of an interchange: ``<senderGLN>_<controlref>.edi``."""
    return f"{_escape(sender_gln)}_{_escape(control_ref)}{OUTBOX_SUFFIX}"


def parse_outbox_name(name: str) -> tuple[str, str]:
    """(sender GLN, control ref) of an outbox file name; the inverse of ``outbox_name``."""
    match = _OUTBOX_NAME.match(name)
    if not match:
        raise MailboxNameError(f"{name!r} is not <senderGLN>_<controlref>{OUTBOX_SUFFIX}")
    return _unescape(match["sender"]), _unescape(match["ref"])


def temp_name(final_name: str, token: str) -> str:
    """The temporary name an outbound file is written under before it is published."""
    return f".{final_name}.{token}.tmp"


def is_complete(name: str) -> bool:
    """True when an inbox file is finished: not hidden and not a temporary/partial name."""
    return bool(name) and not name.startswith(".") and not name.endswith(INCOMPLETE_SUFFIXES)


def claimed_name(original: str, claimed_at: datetime, token: str) -> str:
    """The unique name of a claimed inbox file (``processing/`` and then ``archive/``)."""
    if len(token) != 8 or not all(c in "0123456789abcdef" for c in token):
        raise MailboxNameError(f"claim token {token!r} must be 8 lower-case hex digits")
    return f"{claimed_at:%Y%m%dT%H%M%S%f}Z-{token}{CLAIM_SEPARATOR}{original}"


def original_name(claimed: str) -> str:
    """The name the sender gave a claimed file."""
    match = _CLAIMED.match(claimed)
    if not match:
        raise MailboxNameError(f"{claimed!r} is not a claimed mailbox file name")
    return match["original"]
