"""Message store: ``messages.patient_key``, the searchable key of the letter's patient.

``GET /v1/messages?patient=`` compares keys through an index (ops_0002) instead of reading the
stored bytes (gateway/store/patient_key.py says what the key is). Ingest writes it for every new
message; this revision keys the messages already stored from their interchanges' bytes, a batch
of interchanges at a time. Rows it cannot key keep NULL and are not found by a patient search:
messages without a patient (receipts, rejected or hinted payloads) and letters whose body
retention had already pruned (the CPR is gone with the bytes). It parses only messages whose
summary names a patient, at roughly a thousand letters a second.

Revision ID: store_0003
Revises: store_0002
Create Date: 2026-12-05
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "store_0003"
down_revision = "store_0002"
branch_labels = None
depends_on = None

BATCH = 500
COPY_MARK = "~CC"  # a municipal copy's message ref: <UNH ref>~CC<municipality GLN>

_messages = sa.table("messages", sa.column("id", sa.String), sa.column("interchange_id", sa.String),
                     sa.column("message_ref", sa.String), sa.column("summary", sa.Text),
                     sa.column("patient_key", sa.String))
_interchanges = sa.table("interchanges", sa.column("id", sa.String),
                         sa.column("raw", sa.LargeBinary))


def upgrade() -> None:
    op.add_column("messages", sa.Column("patient_key", sa.String(64), nullable=True))
    backfill(op.get_bind())


def downgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("patient_key")


def backfill(conn: Any) -> int:
    """Key the stored letters that name a patient; returns how many were keyed."""
    m, i = _messages.c, _interchanges.c
    names_patient = sa.cast(m.summary, sa.Text).like('%"patient"%')
    keyed, after = 0, ""
    while True:  # keyset on the primary key: each batch reads on from the last one
        rows = conn.execute(
            sa.select(m.id, m.interchange_id, m.message_ref)
            .where(m.id > after, m.patient_key.is_(None), names_patient)
            .order_by(m.id).limit(BATCH)).all()
        if not rows:
            return keyed
        after = rows[-1][0]
        raws = dict(conn.execute(sa.select(i.id, i.raw).where(
            i.id.in_({r[1] for r in rows}))).all())
        keys = {inter_id: _keys_by_ref(raw or b"") for inter_id, raw in raws.items()}
        updates = []
        for message_id, inter_id, ref in rows:
            key = keys.get(inter_id, {}).get((ref or "").split(COPY_MARK)[0])
            if key is not None:
                updates.append({"b_id": message_id, "key": key})
        if updates:
            conn.execute(_messages.update().where(m.id == sa.bindparam("b_id"))
                         .values(patient_key=sa.bindparam("key")), updates)
            keyed += len(updates)


def _keys_by_ref(raw: bytes) -> dict[str, str]:
    """UNH ref -> patient key of each letter in an interchange (empty when unreadable)."""
    from gateway.edifact import parse
    from gateway.store.patient_key import of_letter

    if not raw:
        return {}
    try:
        interchange = parse(raw)
    except Exception:  # noqa: BLE001 - unreadable bytes name no patient we can key
        return {}
    out = {}
    for message in interchange.messages:
        key = of_letter(getattr(message, "letter", None))
        if key is not None:
            out[message.ref] = key
    return out
