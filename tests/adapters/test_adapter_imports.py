"""Each adapter translates one outside system and imports no other adapter; ``gateway`` (the
core) imports no adapter at all. Shared needs go through the core's ports (channels, envelope
plugins), so an adapter can be removed or replaced alone.

Read from the source's AST (every ``import`` and ``from ... import``, also inside functions),
not by importing, so a lazy import inside a function counts too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ADAPTERS = sorted(p.name for p in (ROOT / "adapters").iterdir()
                  if p.is_dir() and (p / "__init__.py").exists())


def imported_modules(source: str) -> set[str]:
    """The absolute module names a module's source imports (relative imports stay inside)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
            # ``from adapters import vans`` names the adapter in the alias
            if node.module == "adapters":
                names.update(f"adapters.{alias.name}" for alias in node.names)
    return names


def foreign_adapters(package: Path, own: str | None) -> dict[str, set[str]]:
    """File -> the adapters (other than ``own``) it imports."""
    found: dict[str, set[str]] = {}
    for path in sorted(package.rglob("*.py")):
        others = set()
        for module in imported_modules(path.read_text(encoding="utf-8")):
            parts = module.split(".")
            if parts[0] == "adapters" and len(parts) > 1 and parts[1] != own:
                others.add(parts[1])
        if others:
            found[str(path.relative_to(ROOT))] = others
    return found


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("import adapters.vans", {"adapters.vans"}),
        ("from adapters.vans.http import handle", {"adapters.vans.http"}),
        ("from adapters import vans, esdh", {"adapters", "adapters.vans", "adapters.esdh"}),
        ("def f():\n    from adapters.vans import parse\n", {"adapters.vans"}),
        ("from .mapping import detect", set()),
        ("import gateway.envelopes as e", {"gateway.envelopes"}),
    ],
)
def test_the_walk_sees_every_kind_of_import(source: str, expected: set[str]) -> None:
    assert imported_modules(source) == expected


def test_the_adapters_are_found() -> None:
    assert {"edi_mailbox", "esdh", "hospital", "http_push", "vans"} <= set(ADAPTERS)


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_an_adapter_imports_no_other_adapter(adapter: str) -> None:
    assert foreign_adapters(ROOT / "adapters" / adapter, adapter) == {}


def test_the_core_imports_no_adapter() -> None:
    assert foreign_adapters(ROOT / "gateway", None) == {}
