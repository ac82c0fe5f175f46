"""Structured logging: one structlog processor chain, configured once.

JSON when not on a terminal (production), console rendering on a terminal. CPR numbers are
masked by ``MaskCPR`` in every event, whatever key or nesting they hide in: a full CPR number
never reaches a log line. Records of the standard ``logging`` module (uvicorn's access and
error lines, libraries) go through the same chain (``configure`` installs a
``ProcessorFormatter`` on the root logger), so they are JSON and masked too; an access line
becomes an ``http_access`` event with ``client``, ``method``, ``path``, ``status``.
"""

from __future__ import annotations

import logging
import re
import sys
from datetime import date
from typing import Any, TextIO

import structlog

# DDMMYY-XXXX or DDMMYYXXXX standing alone: not inside a longer run of letters or digits, so
# GLNs (13 digits), UUIDs (hex groups of 8-4-4-4-12) and other ids are never touched.
_CPR = re.compile(r"(?<![A-Za-z0-9])(\d\d)(\d\d)(\d\d)-?(\d)\d{3}(?![A-Za-z0-9])")


def cpr_century(yy: int, seventh: int) -> int:
    """The century of a CPR birth year from its 7th digit (CPR-kontoret's table)."""
    if seventh <= 3:
        return 1900
    if seventh in (4, 9):
        return 2000 if yy <= 36 else 1900
    return 2000 if yy <= 57 else 1800


def _is_cpr(match: re.Match[str]) -> bool:
    dd, mm, yy, seventh = (int(g) for g in match.groups())
    try:
        date(cpr_century(yy, seventh) + yy, mm, dd)
    except ValueError:
        return False
    return True


def mask_cpr(text: str) -> str:
    """Replace the serial part of every CPR number: ``0108584947`` -> ``010858-****``.

    A CPR number is DDMMYY-XXXX or ten digits, with a valid birth date, not part of a longer
    token; anything else (ids, GLNs, UUIDs, timestamps with no such date) is left alone.
    """
    return _CPR.sub(lambda m: f"{m[1]}{m[2]}{m[3]}-****" if _is_cpr(m) else m[0], text)


class MaskCPR:
    """Processor: mask CPR numbers in every string value of the event dict, recursively."""

    def __call__(self, logger: Any, method_name: str, event_dict: dict[str, Any]) -> dict[str, Any]:
        return {k: self._mask(v) for k, v in event_dict.items()}

    def _mask(self, value: Any) -> Any:
        if isinstance(value, str):
            return mask_cpr(value)
        if isinstance(value, dict):
            return {k: self._mask(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return type(value)(self._mask(v) for v in value)
        return value


def stdlib_fields(logger: Any, method_name: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    """Processor for ``logging`` records: the logger's name, and an access line's parts."""
    record = event_dict.get("_record")
    args = event_dict.pop("positional_args", ())
    if record is None:
        return event_dict
    event_dict.setdefault("logger", record.name)
    if record.name == "uvicorn.access" and isinstance(args, tuple) and len(args) == 5:
        client, method, path, http_version, status = args
        event_dict.update(event="http_access", client=client, method=method, path=path,
                          http_version=http_version, status=status)
    return event_dict


_HANDLER_NAME = "medbro-structlog"


def configure(*, json: bool | None = None, level: int = logging.INFO,
              stream: TextIO | None = None) -> None:
    """Configure structlog and the ``logging`` root once per process (again replaces it);
    ``json=None`` picks JSON unless the stream (stderr) is a tty."""
    out = stream if stream is not None else sys.stderr
    if json is None:
        json = not out.isatty()
    renderer: Any = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer()
    )
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    final: list[Any] = [structlog.processors.format_exc_info, MaskCPR(), renderer]
    structlog.configure(
        processors=[*shared, *final],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(file=out),
        cache_logger_on_first_use=False,
    )
    handler = logging.StreamHandler(out)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*shared, stdlib_fields],
        pass_foreign_args=True,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *final],
    ))
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        root.removeHandler(old)
    root.addHandler(handler)
    # Libraries speak from WARNING; the server's own lines (access, startup) at ``level``,
    # through the root's handler whatever logging configuration uvicorn was given before.
    root.setLevel(max(level, logging.WARNING))
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        server = logging.getLogger(name)
        server.handlers.clear()
        server.propagate, server.disabled = True, False
        server.setLevel(level if name == "uvicorn" else logging.NOTSET)


def get_logger(name: str | None = None) -> Any:
    return structlog.get_logger(name)
