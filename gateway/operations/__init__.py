"""Operations: persons and roles, audited reads, message search, operator actions, tasks,
endpoint health, configuration reload and store-derived metrics (docs/operations.md).

The HTTP routers live in gateway/api/operations*.py; this package holds the rules and the
store work they call, so the CLI and the API make each decision in one place.
"""
