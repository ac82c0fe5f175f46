"""Roles and what each may do: one table, asked by the API and the CLI.

``viewer`` reads; ``operator`` also acts on messages and tasks; ``admin`` also manages persons,
reads the access audit and reloads the configuration. Organisation API keys of kind
``operator`` or ``region`` act as ``operator`` (automation) and may also reload the partner file
(a deploy job rolls it out from git); other organisations' keys may only search their own
messages. Visibility is separate (``Principal.glns``): region and operator
organisations see everything, any other sees what its GLNs sent or received.
"""

from __future__ import annotations

import enum


class Role(enum.StrEnum):
    VIEWER = "viewer"
    OPERATOR = "operator"
    ADMIN = "admin"


class Permission(enum.StrEnum):
    SEARCH = "search"  # list messages, see one (masked)
    READ = "read"  # operations views: tasks, endpoints, operations, reveal (audited)
    ACT = "act"  # release, replay, close, bulk, resolve tasks
    ADMIN = "admin"  # persons, audit
    RELOAD = "reload"  # re-read the partner file (POST /v1/admin/reload)


GRANTS: dict[Role | None, frozenset[Permission]] = {
    None: frozenset({Permission.SEARCH}),  # an ordinary organisation's machine key
    Role.VIEWER: frozenset({Permission.SEARCH, Permission.READ}),
    Role.OPERATOR: frozenset({Permission.SEARCH, Permission.READ, Permission.ACT}),
    Role.ADMIN: frozenset(Permission),
}
# A machine key (``X-API-Key``) by the role of its organisation's kind (``key_role``).
KEY_GRANTS: dict[Role | None, frozenset[Permission]] = {
    None: GRANTS[None],
    Role.OPERATOR: GRANTS[Role.OPERATOR] | {Permission.RELOAD},
}

# Organisations of these kinds see every message; their machine keys act as operators.
OVERVIEW_KINDS = frozenset({"region", "operator"})


def allows(role: Role | str | None, permission: Permission, *, key: bool = False) -> bool:
    """May ``role`` do this; ``key``: the caller is an organisation's machine key."""
    table = KEY_GRANTS if key else GRANTS
    return Permission(permission) in table.get(Role(role) if role is not None else None,
                                               frozenset())


def key_role(organisation_kind: str | None) -> Role | None:
    """The role of an organisation's machine API key."""
    return Role.OPERATOR if organisation_kind in OVERVIEW_KINDS else None
