"""Persons: who they are, their role and organisations, their passwords, tokens and sessions.

Passwords are hashed with argon2 (argon2-cffi's ``PasswordHasher`` and its defaults; a hash made
with older parameters is rehashed at the next login). Personal API tokens and session ids are
long random secrets, so their SHA-256 is enough at rest: a stolen database gives neither.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.orm import Session

from gateway.errors import LocalUsageError
from gateway.operations.roles import Role
from gateway.operations.tables import (
    PersonOrganisationRow,
    PersonRow,
    PersonSessionRow,
    PersonTokenRow,
)

TOKEN_PREFIX = "mbt_"  # personal API token: Authorization: Bearer mbt_...
SESSION_TTL = timedelta(hours=8)  # one working shift
MIN_PASSWORD = 10

_hasher = PasswordHasher()
# Verified when the name is unknown, so a wrong name costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash("medbro-no-such-person")


@dataclass(frozen=True)
class Person:
    id: int
    name: str
    role: Role
    organisations: tuple[str, ...]


def sha256(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _person(session: Session, row: PersonRow) -> Person:
    orgs = session.scalars(sa.select(PersonOrganisationRow.organisation)
                           .where(PersonOrganisationRow.person_id == row.id)
                           .order_by(PersonOrganisationRow.organisation))
    return Person(row.id, row.name, Role(row.role), tuple(orgs))


def _row(session: Session, name: str) -> PersonRow:
    row = session.scalars(sa.select(PersonRow).where(PersonRow.name == name)).first()
    if row is None:
        raise LocalUsageError(f"no person named {name!r}")
    return row


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise LocalUsageError(f"a password needs at least {MIN_PASSWORD} characters")


def add(session: Session, name: str, *, role: Role | str, organisations: list[str],
        password: str, now: datetime) -> Person:
    """A new person; the name must be free and at least one organisation given."""
    role = Role(role)
    if not name.strip():
        raise LocalUsageError("a person needs a name")
    if not organisations:
        raise LocalUsageError("a person belongs to at least one organisation (--organisation)")
    check_password(password)
    if session.scalars(sa.select(PersonRow.id).where(PersonRow.name == name)).first():
        raise LocalUsageError(f"a person named {name!r} exists already")
    row = PersonRow(name=name, role=role.value, password_hash=_hasher.hash(password),
                    disabled=False, created_at=now)
    session.add(row)
    session.flush()
    for org in sorted(set(organisations)):
        session.add(PersonOrganisationRow(person_id=row.id, organisation=org))
    session.flush()
    return _person(session, row)


def update(session: Session, name: str, *, role: Role | str | None = None,
           organisations: list[str] | None = None, password: str | None = None,
           disabled: bool | None = None) -> Person:
    row = _row(session, name)
    if role is not None:
        row.role = Role(role).value
    if password is not None:
        check_password(password)
        row.password_hash = _hasher.hash(password)
        _end_sessions(session, row.id)
    if disabled is not None:
        row.disabled = disabled
        if disabled:
            _end_sessions(session, row.id)
    if organisations is not None:
        if not organisations:
            raise LocalUsageError("a person belongs to at least one organisation")
        session.execute(sa.delete(PersonOrganisationRow)
                        .where(PersonOrganisationRow.person_id == row.id))
        for org in sorted(set(organisations)):
            session.add(PersonOrganisationRow(person_id=row.id, organisation=org))
    session.flush()
    return _person(session, row)


def listing(session: Session) -> list[dict[str, object]]:
    rows = session.scalars(sa.select(PersonRow).order_by(PersonRow.name))
    out = []
    for row in rows:
        p = _person(session, row)
        out.append({"name": p.name, "role": p.role.value, "organisations": list(p.organisations),
                    "disabled": row.disabled, "created_at": row.created_at.isoformat()})
    return out


def authenticate(session: Session, name: str, password: str) -> Person | None:
    """The person when ``password`` is theirs and they are not disabled; else None."""
    row = session.scalars(sa.select(PersonRow).where(PersonRow.name == name)).first()
    try:
        _hasher.verify(row.password_hash if row is not None else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    if row is None or row.disabled:
        return None
    if _hasher.check_needs_rehash(row.password_hash):
        row.password_hash = _hasher.hash(password)
    return _person(session, row)


# -- personal API tokens -------------------------------------------------------------------


def issue_token(session: Session, name: str, *, label: str, now: datetime) -> str:
    """A new personal API token for ``name``; shown once, only its SHA-256 is kept."""
    row = _row(session, name)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(PersonTokenRow(person_id=row.id, token_sha256=sha256(token), label=label,
                               created_at=now))
    return token


def revoke_tokens(session: Session, name: str, *, now: datetime) -> int:
    row = _row(session, name)
    result = session.execute(sa.update(PersonTokenRow)
                             .where(PersonTokenRow.person_id == row.id,
                                    PersonTokenRow.revoked_at.is_(None))
                             .values(revoked_at=now))
    return int(result.rowcount or 0)


def person_for_token(session: Session, token: str) -> Person | None:
    if not token.startswith(TOKEN_PREFIX):
        return None
    row = session.scalars(
        sa.select(PersonRow).join(PersonTokenRow, PersonTokenRow.person_id == PersonRow.id)
        .where(PersonTokenRow.token_sha256 == sha256(token),
               PersonTokenRow.revoked_at.is_(None), PersonRow.disabled.is_(False))).first()
    return _person(session, row) if row is not None else None


# -- console sessions ----------------------------------------------------------------------


@dataclass(frozen=True)
class Login:
    session_id: str  # the cookie value
    csrf_token: str
    expires_at: datetime


def open_session(session: Session, person: Person, *, now: datetime, remote: str) -> Login:
    session_id, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    expires = now + SESSION_TTL
    session.execute(sa.delete(PersonSessionRow).where(PersonSessionRow.expires_at < now))
    session.add(PersonSessionRow(id_sha256=sha256(session_id), person_id=person.id,
                                 csrf_token=csrf, created_at=now, expires_at=expires,
                                 remote=remote[:200]))
    return Login(session_id, csrf, expires)


def session_person(session: Session, session_id: str, *,
                   now: datetime) -> tuple[Person, Login] | None:
    found = session.execute(
        sa.select(PersonRow, PersonSessionRow)
        .join(PersonSessionRow, PersonSessionRow.person_id == PersonRow.id)
        .where(PersonSessionRow.id_sha256 == sha256(session_id),
               PersonSessionRow.expires_at > now, PersonRow.disabled.is_(False))).first()
    if found is None:
        return None
    row, s = found
    return _person(session, row), Login(session_id, s.csrf_token, s.expires_at)


def close_session(session: Session, session_id: str) -> None:
    session.execute(sa.delete(PersonSessionRow)
                    .where(PersonSessionRow.id_sha256 == sha256(session_id)))


def _end_sessions(session: Session, person_id: int) -> None:
    session.execute(sa.delete(PersonSessionRow).where(PersonSessionRow.person_id == person_id))
