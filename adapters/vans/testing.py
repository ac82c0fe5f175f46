"""In-memory twin of the duplicate memory, with the same contract as ``SqlSeenStore``."""

from __future__ import annotations

from datetime import datetime

from adapters.vans.reliable import SeenEnvelope


class MemorySeenStore:
    """``SeenStore`` in a dict; the contract suite in tests/adapters/vans runs on both."""

    def __init__(self) -> None:
        self.rows: dict[str, SeenEnvelope] = {}

    def by_envelope(self, envelope_id: str) -> SeenEnvelope | None:
        return self.rows.get(envelope_id)

    def by_message(self, sender_id: str, message_id: str) -> SeenEnvelope | None:
        matches = [
            row
            for row in self.rows.values()
            if row.sender_id == sender_id and row.message_id == message_id
        ]
        return min(matches, key=lambda r: (r.seen_at, r.envelope_id), default=None)

    def remember(self, seen: SeenEnvelope) -> bool:
        if seen.envelope_id in self.rows:
            return False
        self.rows[seen.envelope_id] = seen
        return True

    def forget_before(self, cutoff: datetime) -> int:
        old = [key for key, row in self.rows.items() if row.seen_at < cutoff]
        for key in old:
            del self.rows[key]
        return len(old)
