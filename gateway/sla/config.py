"""SLA settings: targets, goals, extra closed days, working hours and the at-risk margin.

Read once from the environment (``MEDBRO_SLA_*``) at the edge (CLI, API, worker) and passed
down as a value; the logic never reads the environment itself.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import time
from typing import TypeVar

from gateway.errors import ConfigError
from gateway.sla.calendar import WorkdayCalendar

_T = TypeVar("_T")
DEFAULT_PLAUSIBLE_DAYS = 730  # two years: a region-year report in January still fits


@dataclass(frozen=True)
class SlaConfig:
    """The defaults are the region's: 95 % within 3 workdays, a goal for within 1 workday.

    ``at_risk_working_hours``: a letter not yet delivered is *at risk* this many working hours
    before a deadline; working hours run ``work_start``-``work_end`` on workdays.
    ``plausible_days``: a discharge dated more than this many days before medbro learned of it
    is implausible: kept and delivered, but a warning, not a report row (counting.py).
    """

    calendar: WorkdayCalendar = field(default_factory=WorkdayCalendar)
    goal_pct: Mapping[int, float] = field(default_factory=lambda: {1: 80.0, 3: 95.0})
    at_risk_working_hours: float = 4.0
    work_start: time = time(8, 0)
    work_end: time = time(16, 0)
    plausible_days: int = DEFAULT_PLAUSIBLE_DAYS

    @property
    def targets(self) -> tuple[int, ...]:
        return tuple(sorted(self.goal_pct))

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> SlaConfig:
        """Build from ``MEDBRO_SLA_EXTRA_CLOSED_DAYS`` (comma list of MM-DD / YYYY-MM-DD),
        ``MEDBRO_SLA_GOAL_1``/``_GOAL_3`` (percent), ``MEDBRO_SLA_AT_RISK_HOURS`` and
        ``MEDBRO_SLA_WORKING_HOURS`` (``08:00-16:00``) and ``MEDBRO_SLA_PLAUSIBLE_DAYS``."""
        env = os.environ if environ is None else environ

        def read(name: str, default: str, parse: Callable[[str], _T]) -> _T:
            value = env.get(name, default)
            try:
                return parse(value)
            except ValueError as exc:
                raise ConfigError(f"environment: {name}: {value!r}: {exc}") from None

        calendar = read("MEDBRO_SLA_EXTRA_CLOSED_DAYS", "",
                        lambda v: WorkdayCalendar.from_spec(v.split(",")))
        goals = {1: read("MEDBRO_SLA_GOAL_1", "80", float),
                 3: read("MEDBRO_SLA_GOAL_3", "95", float)}
        at_risk = read("MEDBRO_SLA_AT_RISK_HOURS", "4", float)
        start, end = read("MEDBRO_SLA_WORKING_HOURS", "08:00-16:00", _working_hours)
        plausible = read("MEDBRO_SLA_PLAUSIBLE_DAYS", str(DEFAULT_PLAUSIBLE_DAYS), int)
        if end <= start:
            raise ConfigError(f"MEDBRO_SLA_WORKING_HOURS: end {end} is not after start {start}")
        if plausible < 1:
            raise ConfigError(f"environment: MEDBRO_SLA_PLAUSIBLE_DAYS: {plausible!r}: must be at "
                              "least 1 (days)")
        return cls(calendar, goals, at_risk, start, end, plausible)


def _working_hours(spec: str) -> tuple[time, time]:
    start, _, end = spec.partition("-")
    return time.fromisoformat(start), time.fromisoformat(end)


DEFAULT_CONFIG = SlaConfig()
