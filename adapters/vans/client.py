"""The durable duplicate memory of reliable mode: one adapter-owned SQL table.

Adapters may not add tables to the gateway's migrations (gateway/migrations keeps core areas
only), so this table lives on its own ``MetaData`` and is created by the adapter on the engine it
is given (``SqlSeenStore.create(url)`` runs ``create_all``: one table, no migrations needed
while its shape is this simple). It can share the gateway's database or use its own file.

The envelope id is the primary key, so two workers remembering twins of one envelope at the
same time cannot both win: the loser gets ``False`` and replays the winner's receipt.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from adapters.vans.reliable import SeenEnvelope
from gateway.db import NAMING_CONVENTION, create_engine

metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)

seen_envelopes = sa.Table(
    "vans_seen_envelopes",
    metadata,
    sa.Column("envelope_id", sa.String(36), primary_key=True),
    sa.Column("sender_id", sa.String(18), nullable=False),
    sa.Column("message_id", sa.String(36), nullable=False),
    sa.Column("seen_at", sa.DateTime, nullable=False),
    sa.Column("receipt", sa.LargeBinary, nullable=False, default=b""),
    sa.Index("ix_vans_seen_envelopes_message", "sender_id", "message_id"),
)


def _utc_naive(value: datetime) -> datetime:
    """Stored as naive UTC, so SQLite and PostgreSQL compare the same way."""
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value


class SqlSeenStore:
    """``SeenStore`` on SQLAlchemy (SQLite or PostgreSQL)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def create(cls, url: str) -> SqlSeenStore:
        """A store on ``url``, with its table created when missing."""
        engine = create_engine(url)
        metadata.create_all(engine)
        return cls(engine)

    def by_envelope(self, envelope_id: str) -> SeenEnvelope | None:
        query = sa.select(seen_envelopes).where(seen_envelopes.c.envelope_id == envelope_id)
        return self._one(query)

    def by_message(self, sender_id: str, message_id: str) -> SeenEnvelope | None:
        """The FIRST envelope that carried the message (its receipt is the one to replay)."""
        query = (
            sa.select(seen_envelopes)
            .where(seen_envelopes.c.sender_id == sender_id)
            .where(seen_envelopes.c.message_id == message_id)
            .order_by(seen_envelopes.c.seen_at, seen_envelopes.c.envelope_id)
            .limit(1)
        )
        return self._one(query)

    def remember(self, seen: SeenEnvelope) -> bool:
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    seen_envelopes.insert().values(
                        envelope_id=seen.envelope_id,
                        sender_id=seen.sender_id,
                        message_id=seen.message_id,
                        seen_at=_utc_naive(seen.seen_at),
                        receipt=seen.receipt,
                    )
                )
        except IntegrityError:
            return False
        return True

    def forget_before(self, cutoff: datetime) -> int:
        """Drop envelopes seen before ``cutoff`` (MedCom: keep them longer than the sender's
        resend timeout; medbro's default retention is 7 days, see config.py)."""
        with self.engine.begin() as conn:
            result = conn.execute(
                seen_envelopes.delete().where(seen_envelopes.c.seen_at < _utc_naive(cutoff))
            )
        return result.rowcount or 0

    def dispose(self) -> None:
        self.engine.dispose()

    def _one(self, query: sa.Select) -> SeenEnvelope | None:
        with self.engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        if row is None:
            return None
        return SeenEnvelope(
            envelope_id=row["envelope_id"],
            sender_id=row["sender_id"],
            message_id=row["message_id"],
            seen_at=row["seen_at"],
            receipt=bytes(row["receipt"] or b""),
        )
