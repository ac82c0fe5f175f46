"""Discharge-letter SLA: Danish workday clocks, the region's report, worklist and escalation.

Pure parts (calendar, deadlines, state, report, scheduling) take ``now`` and the calendar as
arguments; the store-backed parts (tables, hooks, matching, store_report, worklist, alerts,
backlog, importer) take a SQLAlchemy session; api and cli are the edges. See docs/sla.md.
"""

from gateway.sla.calendar import DEFAULT_CALENDAR, WorkdayCalendar
from gateway.sla.config import DEFAULT_CONFIG, SlaConfig
from gateway.sla.deadlines import COPENHAGEN, as_local, deadline, is_within, working_hours_before
from gateway.sla.events_file import DischargeRecord, EventsFileError, read_events
from gateway.sla.report import Figures, Report, aggregate, percent
from gateway.sla.scheduling import (
    AttemptNow,
    DeliverySummary,
    Escalate,
    GiveUp,
    RetryPolicy,
    WaitUntil,
    decide,
    next_retry_at,
    order_backlog,
    priority,
)
from gateway.sla.state import Clock, SlaState, clock_for

__all__ = [
    "COPENHAGEN",
    "DEFAULT_CALENDAR",
    "DEFAULT_CONFIG",
    "AttemptNow",
    "Clock",
    "DeliverySummary",
    "DischargeRecord",
    "Escalate",
    "EventsFileError",
    "Figures",
    "GiveUp",
    "Report",
    "RetryPolicy",
    "SlaConfig",
    "SlaState",
    "WaitUntil",
    "WorkdayCalendar",
    "aggregate",
    "as_local",
    "clock_for",
    "deadline",
    "decide",
    "is_within",
    "next_retry_at",
    "order_backlog",
    "percent",
    "priority",
    "read_events",
    "working_hours_before",
]
