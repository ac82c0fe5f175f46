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
    ({"endpoints": [endpoint(sor="2651610000")]},
     "p.toml: endpoints[0] (5790000128686).sor: '2651610000' is not a SOR code (11 to 18 "
     "digits)"),
    ({"endpoints": [endpoint(sor="26516100001600A")]}, "endpoints[0] (5790000128686).sor: "),
    ({"endpoints": [endpoint(sor="1234567890123456789")]}, "endpoints[0] (5790000128686).sor: "),
    ({"endpoints": [endpoint(departments=[{"sor": "265161000016000", "sks": "2001060"},
                                          {"sor": "x", "sks": "2001060"}])]},
     "endpoints[0] (5790000128686).departments[1].sor: 'x' is not a SOR code"),
    ({"endpoints": [endpoint(departments=[{"sor": "265161000016000", "sks": "2001"}])]},
     "endpoints[0] (5790000128686).departments[0].sks: '2001' is not a 7-character SKS "
     "department code"),
    ({"endpoints": [endpoint(departments=[{"sor": "265161000016000"}])]},
     "endpoints[0] (5790000128686).departments[0].sks: Field required"),
    ({"endpoints": [endpoint(departments=[{"sor": "265161000016000", "sks": "2001060"}]),
                    endpoint(gln="5790000120420", departments=[
                        {"sor": "265161000016000", "sks": "2001061"}])]},
     "p.toml: endpoints[1] (5790000120420).departments[0].sor: SOR 265161000016000 is already "
     "listed at endpoints[0] (5790000128686).departments[0]"),
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


def test_sor_codes_and_departments():
    """An endpoint's SOR code (its FHIR Organization's SOR-ID) and its departments' SOR -> SKS
    codes; an endpoint without ``sor`` is GLN-only."""
    registry = Registry.from_dict({"endpoints": [
        endpoint(sor="265161000016000", departments=[
            {"sor": "265161000016000", "sks": "2001060", "name": "Kirurgi"},
            {"sor": "953741000016009", "sks": "200106A"}]),
        endpoint(gln="5790000120420")]})
    assert registry.sor_of("5790000128686") == "265161000016000"
    assert registry.sor_of("5790000120420") == "" and registry.sor_of("5790000000000") == ""
    assert registry.sor_by_gln == {"5790000128686": "265161000016000"}
    assert registry.sks_by_sor == {"265161000016000": "2001060", "953741000016009": "200106A"}
    assert registry.endpoint("5790000128686").departments[0].name == "Kirurgi"
