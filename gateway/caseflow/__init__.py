"""The rehabilitation-team case flow: state machine, deadlines, store, service, API and CLI.

Core domain logic, so it lives in ``gateway/`` and not ``adapters/`` (docs/caseflow.md): it
talks to no outside system itself; documents leave through the pipeline via an ``Outbox`` port.
"""

from gateway.caseflow.deadlines import (
    DEFAULT_POLICY,
    WITHIN_LEAD_POLICY,
    CaseFacts,
    Deadline,
    DeadlineRules,
    DeadlineStatus,
    RegionPolicy,
    evaluate,
    recommend_postponement,
)
from gateway.caseflow.demo import demo_case
from gateway.caseflow.outbox import HubOutbox, MemoryOutbox, Outbox, OutboxError, OutgoingDocument
from gateway.caseflow.service import CaseNotFound, CaseService
from gateway.caseflow.states import (
    TRANSITIONS,
    CaseEvent,
    CaseState,
    IllegalTransition,
    next_state,
)

__all__ = [
    "CaseNotFound",
    "CaseService",
    "HubOutbox",
    "MemoryOutbox",
    "Outbox",
    "OutboxError",
    "OutgoingDocument",
    "DEFAULT_POLICY",
    "TRANSITIONS",
    "WITHIN_LEAD_POLICY",
    "CaseEvent",
    "CaseFacts",
    "CaseState",
    "Deadline",
    "DeadlineRules",
    "DeadlineStatus",
    "IllegalTransition",
    "RegionPolicy",
    "evaluate",
    "next_state",
    "demo_case",
    "recommend_postponement",
]
