"""Structured logging: one structlog processor chain, configured once.

JSON when not on a terminal (production), console rendering on a terminal. CPR numbers are
masked by ``MaskCPR`` in every event, whatever key or nesting they hide in: a full CPR number
never reaches a log line.
"""

from __future__ import annotations

import logging
import re
import sys
from typing import Any

import structlog

# DDMMYY-XXXX or DDMMYYXXXX, not part of a longer digit run (GLNs are 13 digits).
_CPR = re.compile(r"(?<!\d)([0-3]\d[01]\d\d\d)-?(\d{4})(?!\d)")


def mask_cpr(text: str) -> str:
    """Replace the serial part of every CPR-looking number: ``0108584947`` -> ``010858-****``."""
    return _CPR.sub(lambda m: f"{m.group(1)}-****", text)


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


def configure(*, json: bool | None = None, level: int = logging.INFO) -> None:
    """Configure structlog once per process; ``json=None`` picks JSON unless stderr is a tty."""
    if json is None:
        json = not sys.stderr.isatty()
    renderer: Any = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer()
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            MaskCPR(),
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )


def get_logger(name: str | None = None) -> Any:
    return structlog.get_logger(name)
