"""The one error hierarchy of medbro.

Errors say who is at fault (h11's split of local and remote protocol errors):

* ``RemoteMessageError``: the sender's message is wrong. It carries a ``receipt_hint``, the
  MedCom refusal code (SYN, VER, LOK, MID, NC) to answer with, as h11 carries a status hint.
* ``LocalUsageError``: medbro itself was called wrongly (a bug or a bad call of our API).
* ``ConfigError``: bad settings or partner configuration; also a ``ValueError``.
"""

from __future__ import annotations


class MedbroError(Exception):
    """Root of every error medbro raises on purpose."""


class RemoteMessageError(MedbroError):
    """The message we received is wrong; the sender must be told with a receipt."""

    receipt_hint: str = "SYN"


class LocalUsageError(MedbroError):
    """medbro's own code or API was used wrongly."""


class ConfigError(MedbroError, ValueError):
    """Settings or partner configuration that medbro cannot start with."""
