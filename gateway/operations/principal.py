"""Who is asking: a person (console session or personal token) or an organisation's API key,
with the role that decides what they may do and the GLNs whose traffic they may see."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from gateway.operations.roles import OVERVIEW_KINDS, Permission, Role, allows, key_role


@dataclass(frozen=True)
class Principal:
    actor: str  # person:anne, token:anne, key:Region Hovedstaden (the audit's "who")
    role: Role | None
    organisations: tuple[str, ...]
    glns: frozenset[str] | None  # None: sees every message (region or operator organisation)
    remote: str = ""  # the audit's "from where"
    csrf_token: str | None = None  # set for a console session: unsafe methods must echo it
    hospitals: frozenset[str] | None = frozenset()  # SLA tasks of these; None: all
    key: bool = False  # an organisation's machine key (roles.KEY_GRANTS), not a person

    def can(self, permission: Permission) -> bool:
        return allows(self.role, permission, key=self.key)

    def sees(self, *glns: str | None) -> bool:
        """May see a message between these parties (sender, receiver)."""
        return self.glns is None or any(g in self.glns for g in glns if g)


def visibility(organisations: Iterable[Any]) -> frozenset[str] | None:
    """The GLNs these registry organisations see; None when one of them sees everything."""
    glns: set[str] = set()
    for org in organisations:
        if getattr(org, "kind", None) in OVERVIEW_KINDS:
            return None
        glns |= set(org.glns)
    return frozenset(glns)


def for_person(person: Any, registry: Any, *, via: str, remote: str,
               csrf_token: str | None = None) -> Principal:
    """``via``: ``person`` (console session) or ``token`` (personal API token)."""
    known = {org.name: org for org in registry.organisations}
    orgs = [known[name] for name in person.organisations if name in known]
    return Principal(f"{via}:{person.name}", person.role, tuple(person.organisations),
                     visibility(orgs), remote, csrf_token, hospital_visibility(orgs))


def for_key(org: Any, *, remote: str) -> Principal:
    return Principal(f"key:{org.name}", key_role(org.kind), (org.name,), visibility([org]),
                     remote, hospitals=hospital_visibility([org]), key=True)


def hospital_visibility(organisations: Iterable[Any]) -> frozenset[str] | None:
    """The SKS hospital codes whose SLA tasks these organisations see; None: all."""
    out: set[str] = set()
    for org in organisations:
        if getattr(org, "kind", None) in OVERVIEW_KINDS:
            return None
        out |= set(getattr(org, "hospitals", ()) or ())
    return frozenset(out)


def system(actor: str = "system:cli") -> Principal:
    """The command line run on the server by whoever holds its database settings."""
    return Principal(actor, Role.ADMIN, (), None, "local", hospitals=None)
