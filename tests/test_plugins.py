"""Every plugin named in pyproject.toml is installed, loads, and is the kind of object its group
promises; the CLI lists every command and the API mounts every router.

A plugin that fails here would otherwise surface only when a user runs that command, an endpoint
of that channel kind gets its first letter, or an operator wonders why a route answers 404.
"""

from __future__ import annotations

import inspect
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import click
import httpx
import pytest
from fastapi import APIRouter

from gateway import plugins
from gateway.api.app import create_app
from gateway.channels import load_channel
from gateway.errors import ConfigError
from gateway.registry import Registry
from gateway.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
DECLARED = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))[
    "project"]["entry-points"]
GROUPS = {"medbro.commands", "medbro.channels", "medbro.routers", "medbro.envelopes"}
PLUGINS = [(group, name) for group in sorted(DECLARED) for name in sorted(DECLARED[group])]

# What each channel kind needs to be built (the registry insists on these options).
CHANNEL_OPTIONS = {
    "edi_mailbox": {"directory": "{tmp}/mailbox"},
    "http": {"url": "http://127.0.0.1:9/inbox"},
    "esdh": {"url": "http://127.0.0.1:9"},
    "vans": {"url": "http://127.0.0.1:9/vans"},
}
API_PATHS = ("/v1/messages", "/v1/messages/{message_id}", "/v1/discharges", "/v1/sla/report",
             "/v1/sla/worklist", "/v1/cases", "/v1/hospital/letters", "/healthz", "/readyz")


def test_pyproject_declares_exactly_the_known_groups_and_they_are_installed() -> None:
    assert set(DECLARED) == GROUPS
    for group, names in DECLARED.items():
        installed = {name: ep.value for name, ep in plugins.available(group).items()}
        # a difference means the install is stale: run `pip install -e .` (make install)
        assert installed == names, group


@pytest.mark.parametrize(("group", "name"), PLUGINS, ids=[f"{g}:{n}" for g, n in PLUGINS])
def test_every_plugin_loads_as_its_kind(group: str, name: str) -> None:
    plugin = plugins.load(group, name)
    if group == "medbro.commands":
        assert isinstance(plugin, click.Command) and plugin.name == name
    elif group == "medbro.routers":
        assert isinstance(plugin, APIRouter) and plugin.routes
    elif group == "medbro.channels":
        assert callable(plugin)
        assert list(inspect.signature(plugin).parameters)[:2] == ["endpoint", "settings"]
    else:
        assert callable(plugin.accepts) and inspect.iscoroutinefunction(plugin.handle)
        assert plugin.accepts(b"UNA:+.? 'UNB+UNOC:3+1:14+2:14+260101:1200+K1'") is False


@pytest.mark.parametrize("kind", sorted(DECLARED["medbro.channels"]))
def test_every_channel_kind_builds_a_channel_from_the_registry(kind: str, tmp_path) -> None:
    options = {k: v.format(tmp=tmp_path) for k, v in CHANNEL_OPTIONS[kind].items()}
    registry = Registry.from_dict({"endpoints": [{
        "gln": "5790000128686", "name": "GP", "kind": "gp", "accepts": [{"type": "DIS01"}],
        "channel": {"kind": kind, **options}}]})
    channel = load_channel(registry.endpoints[0], Settings.load())
    assert inspect.iscoroutinefunction(channel.deliver)


@pytest.mark.parametrize("kind", ["http", "esdh", "vans"])
def test_channel_kinds_with_a_url_need_it_at_load_time(kind: str) -> None:
    data = {"endpoints": [{"gln": "5790000128686", "name": "GP", "kind": "gp",
                           "channel": {"kind": kind}}]}
    with pytest.raises(ConfigError) as error:
        Registry.from_dict(data, source="partners.toml")
    assert str(error.value) == (
        f"partners.toml: endpoints[0] (5790000128686).channel: kind {kind!r} needs url")


def test_cli_help_lists_every_command_and_none_is_unavailable() -> None:
    run = subprocess.run([sys.executable, "-m", "gateway.cli", "--help"],
                         capture_output=True, text=True, timeout=120, check=True)
    commands = run.stdout.split("Commands:", 1)[1]
    listed = set(re.findall(r"^  (\S+)", commands, flags=re.MULTILINE))  # not wrapped lines
    assert listed == set(DECLARED["medbro.commands"])
    assert "(unavailable" not in run.stdout


class _IdleHub:
    """Enough of a hub for building the app: nothing is started or called."""

    registry = Registry()


async def test_the_app_mounts_every_router() -> None:
    app = create_app(_IdleHub(), manage_hub=False)
    assert set(app.state.routers) == set(DECLARED["medbro.routers"])
    assert app.state.envelopes == tuple(sorted(DECLARED["medbro.envelopes"]))
    schema_paths = set(app.openapi()["paths"])
    assert set(API_PATHS) <= schema_paths, sorted(set(API_PATHS) - schema_paths)
    # /metrics is left out of the schema on purpose (Prometheus, not API clients): ask it.
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://medbro.test") as client:
        response = await client.get("/metrics")
    assert response.status_code == 200 and "medbro_" in response.text


def test_schemas_are_found_in_the_tree_and_as_installed_package_data(tmp_path, monkeypatch):
    from gateway import schemas

    assert schemas.schema_path("vans", "vansenvelope-1.0.4.xsd").parent == (
        ROOT / "schemas" / "vans")
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))[
        "tool"]["setuptools"]
    assert "schemas*" in setuptools["packages"]["find"]["include"]
    assert "*.xsd" in setuptools["package-data"]["*"]
    # an installed wheel: no source tree, the XSDs in the data package ``schemas``
    site = tmp_path / "site-packages"
    (site / "schemas" / "lae").mkdir(parents=True)
    (site / "schemas" / "lae" / "lae261.xsd").write_text("<schema/>")
    monkeypatch.setattr(schemas, "REPO_SCHEMAS", tmp_path / "no-checkout")
    monkeypatch.syspath_prepend(str(site))
    assert schemas.schema_path("lae", "lae261.xsd") == site / "schemas" / "lae" / "lae261.xsd"
    assert schemas.schema_dir("lae") == site / "schemas" / "lae"
    with pytest.raises(ConfigError, match=r"vans/nothing\.xsd not found \(looked in .*no-checkout"):
        schemas.schema_path("vans", "nothing.xsd")
