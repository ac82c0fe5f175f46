"""Discharge-letter SLA: Danish workday clocks, the region's report, worklist and escalation.

Pure parts (calendar, deadlines, report, scheduling) take ``now`` and the calendar as
arguments; the store-backed parts (tables, hooks, store_report, worklist, alerts) take a
SQLAlchemy session. See docs/sla.md.
"""

from gateway.sla.calendar import DEFAULT_CALENDAR, WorkdayCalendar
from gateway.sla.config import DEFAULT_CONFIG, SlaConfig
from gateway.sla.deadlines import COPENHAGEN, as_local, deadline, is_within, working_hours_before
from gateway.sla.events_file import DischargeRecord, EventsFileError, read_events
from gateway.sla.report import Figures, Report, aggregate, percent

__all__ = [
    "COPENHAGEN",
    "DEFAULT_CALENDAR",
    "DEFAULT_CONFIG",
    "DischargeRecord",
    "EventsFileError",
    "Figures",
    "Report",
    "SlaConfig",
    "WorkdayCalendar",
    "aggregate",
    "as_local",
    "deadline",
    "is_within",
    "percent",
    "read_events",
    "working_hours_before",
]
