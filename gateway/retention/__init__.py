"""Retention: message bodies (raw bytes) are pruned after a period per message class, never
their metadata, states or audit; a legal hold on a message or a patient exempts it.

``policy`` is the pure rule (which body may go, and why not), ``tables`` the legal holds and
the record of pruned bodies, ``holds`` and ``prune`` the store-backed parts, ``cli`` the
``medbro prune`` and ``medbro hold`` commands. docs/operations.md, "Retention".
"""
