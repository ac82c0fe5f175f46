"""The partner registry: loading, validation errors that name the place, API keys."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.errors import ConfigError
from gateway.registry import Registry, hash_api_key
from gateway.routing import Match, RouteRequest

EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "partners.example.toml"


def endpoint(**overrides):
    base = {"gln": "5790000128686", "name": "Lægehuset", "kind": "gp",
            "accepts": [{"type": "DIS01", "versions": ["D0133L"]}],
            "channel": {"kind": "edi_mailbox", "outbox": "var/out"}}
    return base | overrides


def test_the_example_configuration_loads():
    registry = Registry.load(EXAMPLE)
    assert len(registry.endpoints) >= 3
    assert {e.kind for e in registry.endpoints} >= {"hospital", "gp", "municipality"}
    assert any(e.is_local for e in registry.endpoints)


def test_endpoint_lookup_and_routing():
    registry = Registry.from_dict({"endpoints": [endpoint()]})
    ep = registry.endpoint("5790000128686")
    assert ep is not None and ep.channel.kind == "edi_mailbox"
    assert ep.channel.get("outbox") == "var/out" and ep.deliver_as == "edifact"
    assert registry.match(RouteRequest("5790000128686", "MEDDIS", "DIS01", "D0133L")) is Match.FULL
    assert registry.match(RouteRequest("5790000128686", "MEDDIS", "DIS01", "D0134L")) \
        is Match.NOT_ACCEPTED


@pytest.mark.parametrize(("data", "message"), [
    ({"endpoints": [endpoint(gln="57900")]},
     "p.toml: endpoints[0] (57900).gln: '57900' is not a 13-digit GLN"),
    ({"endpoints": [endpoint(kind="pharmacy")]}, "endpoints[0] (5790000128686).kind"),
    ({"endpoints": [endpoint(channel={"kind": "http"})]},
     "endpoints[0] (5790000128686).channel: kind 'http' needs url"),
    ({"endpoints": [endpoint(channel={"outbox": "x"})]}, "needs a 'kind'"),
    ({"endpoints": [endpoint(colour="red")]}, "endpoints[0] (5790000128686).colour: Extra"),
    ({"endpoints": [endpoint(), endpoint()]}, "p.toml: endpoint GLN 5790000128686 is configured"),
    ({"endpoints": [endpoint()], "organisations": [
        {"name": "Region", "glns": ["5790000120420"], "api_key_sha256": []}]},
     "organisations[0] (Region).glns: GLN 5790000120420 is not a configured endpoint"),
    ({"endpoints": [endpoint()], "organisations": [
        {"name": "Region", "glns": ["5790000128686"], "api_key_sha256": ["secret"]}]},
     "organisations[0] (Region).api_key_sha256"),
])
def test_bad_configuration_names_file_endpoint_and_field(data, message):
    with pytest.raises(ConfigError) as err:
        Registry.from_dict(data, source="p.toml")
    assert message in str(err.value)


def test_bad_toml_and_missing_file_are_config_errors(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[[endpoints]\n")
    with pytest.raises(ConfigError, match="bad.toml: not valid TOML"):
        Registry.load(bad)
    with pytest.raises(ConfigError, match="not found"):
        Registry.load(tmp_path / "absent.toml")


def test_api_keys_are_checked_against_their_hashes_only():
    registry = Registry.from_dict({"endpoints": [endpoint()], "organisations": [
        {"name": "Lægehuset", "glns": ["5790000128686"],
         "api_key_sha256": [hash_api_key("k-123")]}]})
    org = registry.organisation_for_key("k-123")
    assert org is not None and org.glns == {"5790000128686"}
    assert registry.organisation_for_key("k-124") is None
    assert "k-123" not in repr(registry.organisations)


def test_deliver_as_is_a_known_format():
    with pytest.raises(ConfigError, match=r"endpoints\[0\] \(5790000128686\)\.deliver_as"):
        Registry.from_dict({"endpoints": [endpoint(deliver_as="pdf")]})
    registry = Registry.from_dict({"endpoints": [endpoint(deliver_as="oioxml")]})
    assert registry.endpoint("5790000128686").deliver_as == "oioxml"
