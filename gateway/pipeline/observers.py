"""The pipeline's calls into the SLA clocks (gateway.sla.hooks), in one place.

Called inside the store transaction of the step they describe, so an SLA record and the state
it reflects commit together (the hooks are no-ops for letters that are not epikriser).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from gateway.sla import hooks


def letter_received(session: Session, *, message_id: str, letter: Any, at: datetime) -> None:
    if letter is not None:
        hooks.letter_received(session, message_id=message_id, letter=letter, at=at)


def letter_delivered(session: Session, *, message_id: str, at: datetime) -> None:
    hooks.letter_delivered(session, message_id=message_id, at=at)


def letter_acknowledged(session: Session, *, message_id: str, at: datetime) -> None:
    hooks.letter_acknowledged(session, message_id=message_id, at=at)


def letters_received(session: Session, letters: list[tuple[str, Any]], *, at: datetime) -> None:
    """``letter_received`` for many (message id, letter) pairs stored in one transaction."""
    hooks.letters_received(
        session, [(mid, letter) for mid, letter in letters if letter is not None], at=at)


def letters_delivered(session: Session, message_ids: list[str], *, at: datetime) -> None:
    """``letter_delivered`` for many messages delivered and recorded in one transaction."""
    hooks.letters_delivered(session, message_ids, at=at)
