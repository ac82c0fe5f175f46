"""SLA settings: targets, goals, extra closed days, working hours and the at-risk margin.

Read once from the environment (``MEDBRO_SLA_*``) at the edge (CLI, API, worker) and passed
down as a value; the logic never reads the environment itself.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time

from gateway.errors import ConfigError
from gateway.sla.calendar import WorkdayCalendar


@dataclass(frozen=True)
class SlaConfig:
    """The defaults are the region's: 95 % within 3 workdays, a goal for within 1 workday.

    ``at_risk_working_hours``: a letter not yet delivered is *at risk* this many working hours
    before a deadline; working hours run ``work_start``-``work_end`` on workdays.
    """

    calendar: WorkdayCalendar = field(default_factory=WorkdayCalendar)
    goal_pct: Mapping[int, float] = field(default_factory=lambda: {1: 80.0, 3: 95.0})
    at_risk_working_hours: float = 4.0
    work_start: time = time(8, 0)
    work_end: time = time(16, 0)

    @property
    def targets(self) -> tuple[int, ...]:
        return tuple(sorted(self.goal_pct))

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> SlaConfig:
        """Build from ``MEDBRO_SLA_EXTRA_CLOSED_DAYS`` (comma list of MM-DD / YYYY-MM-DD),
        ``MEDBRO_SLA_GOAL_1``/``_GOAL_3`` (percent), ``MEDBRO_SLA_AT_RISK_HOURS`` and
        ``MEDBRO_SLA_WORKING_HOURS`` (``08:00-16:00``)."""
        env = os.environ if environ is None else environ
        try:
            calendar = WorkdayCalendar.from_spec(
                env.get("MEDBRO_SLA_EXTRA_CLOSED_DAYS", "").split(",")
            )
            goals = {
                1: float(env.get("MEDBRO_SLA_GOAL_1", "80")),
                3: float(env.get("MEDBRO_SLA_GOAL_3", "95")),
            }
            at_risk = float(env.get("MEDBRO_SLA_AT_RISK_HOURS", "4"))
            start_s, _, end_s = env.get("MEDBRO_SLA_WORKING_HOURS", "08:00-16:00").partition("-")
            start, end = time.fromisoformat(start_s), time.fromisoformat(end_s)
        except ValueError as exc:
            raise ConfigError(f"bad MEDBRO_SLA_* setting: {exc}") from exc
        if end <= start:
            raise ConfigError(f"MEDBRO_SLA_WORKING_HOURS: end {end} is not after start {start}")
        return cls(calendar, goals, at_risk, start, end)


DEFAULT_CONFIG = SlaConfig()
