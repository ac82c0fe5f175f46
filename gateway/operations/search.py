"""``GET /v1/messages``: the filter, its validation, the query and keyset paging.

Newest first on (created_at, id): the cursor is the last row's pair, so a page never skips or
repeats rows while new messages arrive, and every page is an index range scan
(gateway/operations/tables.py SEARCH_INDEXES; bench/search_bench.py shows the plans on a
million rows). Visibility is part of the query: an organisation sees what its GLNs sent or
received; region and operator organisations see everything.

``patient`` (a full CPR) is an index lookup too: ingest writes each message's patient key (the
SHA-256 of the normalised CPR behind a domain prefix, gateway/store/patient_key.py), and the
search compares keys, so two patients born the same day are told apart and the store holds no
readable CPR. Messages stored before the key existed were keyed by the migration from their
stored bytes; a message whose body retention had already pruned has no key and is not found by
patient (it could not be confirmed before either).
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from gateway.store.patient_key import normalise, patient_key
from gateway.store.states import MessageState
from gateway.store.tables import MessageRow

MAX_LIMIT = 500
DEFAULT_LIMIT = 50


class FilterError(ValueError):
    """A filter value that cannot be used; ``field`` names the query parameter."""

    def __init__(self, field: str, problem: str) -> None:
        self.field = field
        super().__init__(f"{field}: {problem}")


@dataclass(frozen=True)
class Filter:
    state: str | None = None
    type: str | None = None
    sender: str | None = None
    receiver: str | None = None
    endpoint: str | None = None
    letter_id: str | None = None
    unb_ref: str | None = None
    patient: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    @classmethod
    def parse(cls, values: dict[str, Any]) -> Filter:
        """From query parameters or a bulk action's ``filter`` object; raises FilterError."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise FilterError(unknown[0], f"not a filter (filters: {', '.join(sorted(known))})")
        out: dict[str, Any] = {}
        for name, value in values.items():
            if value is None or value == "":
                continue
            if name in ("since", "until"):
                out[name] = _instant(name, value)
            elif not isinstance(value, str):
                raise FilterError(name, "must be a string")
            else:
                out[name] = value.strip()
        if "state" in out and out["state"] not in {s.value for s in MessageState}:
            raise FilterError("state", f"{out['state']!r} is not one of "
                              f"{', '.join(s.value for s in MessageState)}")
        if "type" in out:
            out["type"] = out["type"].upper()
        if "patient" in out:
            digits = normalise(out["patient"])
            if digits is None:
                raise FilterError("patient", "must be a CPR number (DDMMYY-SSSS or 10 digits)")
            out["patient"] = digits
        return cls(**out)

    def as_dict(self) -> dict[str, Any]:
        return {k: (v.isoformat() if isinstance(v, datetime) else v)
                for k, v in asdict(self).items() if v is not None}


def _instant(name: str, value: Any) -> datetime:
    if isinstance(value, datetime):
        parsed = value
    else:
        try:
            parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            raise FilterError(name, f"{value!r} is not an ISO 8601 time") from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def encode_cursor(created_at: datetime, message_id: str) -> str:
    raw = json.dumps([created_at.isoformat(), message_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        at, message_id = json.loads(raw)
        return datetime.fromisoformat(at), str(message_id)
    except (binascii.Error, ValueError, TypeError) as exc:
        raise FilterError("cursor", "not a cursor this API gave out") from exc


def conditions(flt: Filter, *, glns: frozenset[str] | None,
               endpoint_gln: str | None = None) -> list[Any]:
    """The WHERE clauses of ``flt`` for a caller who sees ``glns`` (None: everything)."""
    m = MessageRow
    where: list[Any] = []
    if glns is not None:
        if not glns:
            return [sa.false()]
        where.append(sa.or_(m.sender_gln.in_(sorted(glns)), m.receiver_gln.in_(sorted(glns))))
    if flt.state:
        where.append(m.state == flt.state)
    if flt.type:
        where.append(m.type == flt.type)
    if flt.sender:
        where.append(m.sender_gln == flt.sender)
    if flt.receiver:
        where.append(m.receiver_gln == flt.receiver)
    if flt.endpoint:
        where.append(m.receiver_gln == (endpoint_gln or flt.endpoint))
    if flt.letter_id:
        where.append(m.letter_id == flt.letter_id)
    if flt.unb_ref:
        where.append(m.control_ref == flt.unb_ref)
    if flt.since:
        where.append(m.created_at >= flt.since)
    if flt.until:
        where.append(m.created_at < flt.until)
    if flt.patient:
        where.append(m.patient_key == patient_key(flt.patient))
    return where


def select_ids(flt: Filter, *, glns: frozenset[str] | None,
               endpoint_gln: str | None = None) -> sa.Select[Any]:
    """Every matching message's id, newest first (bulk actions walk this)."""
    return (sa.select(MessageRow.id, MessageRow.created_at)
            .where(*conditions(flt, glns=glns, endpoint_gln=endpoint_gln))
            .order_by(MessageRow.created_at.desc(), MessageRow.id.desc()))


ITEM_COLUMNS = (MessageRow.id, MessageRow.state, MessageRow.type, MessageRow.sender_gln,
                MessageRow.receiver_gln, MessageRow.letter_id, MessageRow.created_at,
                MessageRow.updated_at)


def page_query(flt: Filter, *, glns: frozenset[str] | None, limit: int,
               cursor: str | None = None, endpoint_gln: str | None = None) -> sa.Select[Any]:
    """The one statement of a page: ``limit + 1`` rows, newest first, after ``cursor``."""
    if not 1 <= limit <= MAX_LIMIT:
        raise FilterError("limit", f"must be between 1 and {MAX_LIMIT}")
    where = conditions(flt, glns=glns, endpoint_gln=endpoint_gln)
    if cursor:
        at, last_id = decode_cursor(cursor)
        where.append(sa.tuple_(MessageRow.created_at, MessageRow.id) < sa.tuple_(
            sa.literal(at, MessageRow.created_at.type), sa.literal(last_id)))
    return (sa.select(*ITEM_COLUMNS).where(*where)
            .order_by(MessageRow.created_at.desc(), MessageRow.id.desc()).limit(limit + 1))


def search(session: Session, flt: Filter, *, glns: frozenset[str] | None, limit: int,
           cursor: str | None = None, endpoint_gln: str | None = None) -> dict[str, Any]:
    """One page: ``{"items": [...], "next": cursor or None}``."""
    items = session.execute(page_query(flt, glns=glns, limit=limit, cursor=cursor,
                                       endpoint_gln=endpoint_gln)).all()
    more = len(items) > limit
    items = items[:limit]
    return {
        "items": [item(r) for r in items],
        "next": encode_cursor(items[-1].created_at, items[-1].id) if more and items else None,
    }


def item(row: Any) -> dict[str, Any]:
    return {"id": row.id, "state": row.state, "type": row.type, "sender": row.sender_gln,
            "receiver": row.receiver_gln, "letter_id": row.letter_id,
            "received_at": row.created_at.isoformat(), "updated_at": row.updated_at.isoformat()}

