"""README.md is the front door: it must keep naming every setting, command, endpoint and doc.

The examples it shows were run by hand; this keeps the lists from going stale as parts grow.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from gateway.api.app import create_app
from gateway.registry import Registry
from gateway.settings import ENV_PREFIX, Settings

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _section(title: str) -> str:
    return README.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]


def test_quick_start_is_the_two_make_commands() -> None:
    quick = _section("Quick start")
    commands = re.findall(r"^make \w+", quick, flags=re.MULTILINE)
    assert commands == ["make demo", "make test"]


def test_every_setting_is_documented() -> None:
    settings = _section("Settings")
    for name in Settings.model_fields:
        assert f"`{ENV_PREFIX}{name.upper()}`" in settings, name


def test_every_command_has_a_row_with_an_example() -> None:
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))[
        "project"]["entry-points"]["medbro.commands"]
    rows = [line for line in _section("Command line").splitlines() if line.startswith("| `")]
    for command in declared:
        row = next((r for r in rows if r.startswith(f"| `{command}")), None)
        assert row is not None, command
        assert f"medbro {command}" in row.rsplit("|", 2)[-2], command  # the example column


def test_every_api_path_is_in_the_table() -> None:
    class IdleHub:
        registry = Registry()

    api = _section("HTTP API")
    for path in create_app(IdleHub(), manage_hub=False).openapi()["paths"]:
        short = path.replace("{message_id}", "{id}").replace("{case_ref}", "{ref}")
        stem = short.rsplit("/", 1)[0] if short.startswith("/v1/cases/{ref}/") else short
        assert stem in api, path
    assert "/metrics" in api


def test_every_doc_is_linked() -> None:
    for doc in sorted((ROOT / "docs").glob("*.md")):
        assert f"](docs/{doc.name})" in README, doc.name
