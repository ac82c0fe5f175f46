"""The pipeline's calls into the SLA clocks (gateway.sla.hooks), in one place.

Called inside the store transaction of the step they describe, so an SLA record and the state
it reflects commit together. While the SLA package has no hooks module these are no-ops.
"""

from __future__ import annotations

import importlib
from datetime import datetime
from types import ModuleType
from typing import Any

from sqlalchemy.orm import Session

_UNSET = object()
_hooks: Any = _UNSET


def _module() -> ModuleType | None:
    global _hooks
    if _hooks is _UNSET:
        try:
            _hooks = importlib.import_module("gateway.sla.hooks")
        except ModuleNotFoundError as exc:
            if exc.name not in ("gateway.sla.hooks", "gateway.sla"):
                raise
            _hooks = None
    return _hooks


def letter_received(session: Session, *, message_id: str, letter: Any, at: datetime) -> None:
    hooks = _module()
    if hooks is not None and letter is not None:
        hooks.letter_received(session, message_id=message_id, letter=letter, at=at)


def letter_delivered(session: Session, *, message_id: str, at: datetime) -> None:
    hooks = _module()
    if hooks is not None:
        hooks.letter_delivered(session, message_id=message_id, at=at)


def letter_acknowledged(session: Session, *, message_id: str, at: datetime) -> None:
    hooks = _module()
    if hooks is not None:
        hooks.letter_acknowledged(session, message_id=message_id, at=at)


def letters_received(session: Session, letters: list[tuple[str, Any]], *, at: datetime) -> None:
    """``letter_received`` for many (message id, letter) pairs stored in one transaction."""
    hooks = _module()
    if hooks is None:
        return
    letters = [(mid, letter) for mid, letter in letters if letter is not None]
    if hasattr(hooks, "letters_received"):
        hooks.letters_received(session, letters, at=at)
        return
    for message_id, letter in letters:
        hooks.letter_received(session, message_id=message_id, letter=letter, at=at)


def letters_delivered(session: Session, message_ids: list[str], *, at: datetime) -> None:
    """``letter_delivered`` for many messages delivered and recorded in one transaction."""
    hooks = _module()
    if hooks is None:
        return
    if hasattr(hooks, "letters_delivered"):
        hooks.letters_delivered(session, message_ids, at=at)
        return
    for message_id in message_ids:
        hooks.letter_delivered(session, message_id=message_id, at=at)
