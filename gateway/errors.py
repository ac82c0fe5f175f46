"""The one error hierarchy of medbro.

Errors say who is at fault (h11's split of local and remote protocol errors):

* ``RemoteMessageError``: the sender's message is wrong. It carries a ``receipt_hint``, the
  MedCom refusal code (SYN, VER, LOK, MID, NC) to answer with, as h11 carries a status hint.
  The HTTP API answers every one of them as bad input (4xx), never 5xx; the intakes store the
  message first and refuse it with its receipt.
* ``ConversionError``: a ``RemoteMessageError`` for a received message that is readable in its
  own format but cannot be written in the one medbro passes it on in (free text that MedCom's
  FTX rules cannot carry, a code the EDIFACT grammar refuses). ``converting`` is the one place
  that decides this: a writer's ``LocalUsageError`` raised while converting received content is
  the sender's fault.
* ``LocalUsageError``: medbro itself was called wrongly (a bug or a bad call of our API).
* ``ConfigError``: bad settings or partner configuration; also a ``ValueError``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


class MedbroError(Exception):
    """Root of every error medbro raises on purpose."""


class RemoteMessageError(MedbroError):
    """The message we received is wrong; the sender must be told with a receipt."""

    receipt_hint: str = "SYN"


class ConversionError(RemoteMessageError):
    """A received message whose content cannot be written in the format it must go on in."""

    def __init__(self, source: str, target: str, problem: str) -> None:
        self.source, self.target, self.problem = source, target, problem
        super().__init__(f"the {source} message cannot be written as {target}: {problem}")


class LocalUsageError(MedbroError):
    """medbro's own code or API was used wrongly."""


class ConfigError(MedbroError, ValueError):
    """Settings or partner configuration that medbro cannot start with."""


@contextmanager
def converting(source: str, target: str) -> Iterator[None]:
    """Write received content from ``source`` format to ``target``: what the writer refuses
    (``LocalUsageError``, e.g. FreeTextError, "would be refused") becomes ``ConversionError``.

    Use it only around writers fed with received content; medbro's own letters keep their
    ``LocalUsageError`` (a bug of ours).
    """
    try:
        yield
    except RemoteMessageError:
        raise
    except LocalUsageError as exc:
        raise ConversionError(source, target, str(exc)) from exc
