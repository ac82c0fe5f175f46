"""Partner files written from the dicts tests build registries from (``Registry.from_dict``),
so that a test can change the file a running hub reads on reload. A module with a name of its
own (not ``conftest``) so every test package can import it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def _value(value: Any) -> str:
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_value(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(str(value))  # a JSON string is a TOML basic string


def partners_toml(partners: dict[str, list[dict[str, Any]]]) -> str:
    """``{"endpoints": [...], "organisations": [...]}`` as TOML arrays of tables."""
    out = []
    for table, items in partners.items():
        for item in items:
            out.append(f"[[{table}]]")
            out.extend(f"{k} = {_value(v)}" for k, v in item.items())
            out.append("")
    return "\n".join(out)


def write_partners(path: Path, partners: dict[str, list[dict[str, Any]]]) -> Path:
    path.write_text(partners_toml(partners), encoding="utf-8")
    return path


def with_mailboxes(partners: dict[str, Any], root: Path) -> dict[str, Any]:
    """The same partners, every endpoint delivering into an EDI mailbox outbox under ``root``
    (a channel kind the file check accepts)."""
    endpoints = [{**ep, "channel": {"kind": "edi_mailbox", "outbox": str(root / ep["gln"])}}
                 for ep in partners["endpoints"]]
    return {**partners, "endpoints": endpoints}
