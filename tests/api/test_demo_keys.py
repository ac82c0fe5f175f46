"""The published demo keys are refused unless MEDBRO_ALLOW_DEMO_KEYS allows them."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from apiharness import running_api

from gateway.registry import DEMO_KEY_HASHES, DEMO_KEYS, Registry, hash_api_key, is_demo_key

ROOT = Path(__file__).resolve().parents[2]
PARTNERS = {
    "endpoints": [{"gln": "5790000120420", "name": "H", "kind": "hospital",
                   "channel": {"kind": "local"}}],
    "organisations": [{"name": "Demo", "glns": ["5790000120420"],
                       "api_key_sha256": [hash_api_key("demo-hospital-key"),
                                          hash_api_key("k-real")]}],
}


@pytest.mark.parametrize(
    ("key", "allowed", "found"),
    [
        ("demo-hospital-key", False, None),
        ("demo-hospital-key", True, "Demo"),
        ("k-real", False, "Demo"),
        ("k-real", True, "Demo"),
        ("k-unknown", True, None),
    ],
)
def test_a_demo_key_authenticates_only_when_allowed(key, allowed, found):
    registry = Registry.from_dict(PARTNERS, allow_demo_keys=allowed)
    org = registry.organisation_for_key(key)
    assert (org.name if org else None) == found


def test_the_published_keys_are_the_demo_keys_of_the_shipped_partner_files():
    shipped = set()
    for path in sorted((ROOT / "config").glob("partners*.toml")):
        for org in tomllib.loads(path.read_text(encoding="utf-8")).get("organisations", []):
            shipped |= set(org.get("api_key_sha256", []))
    assert shipped <= DEMO_KEY_HASHES  # every key a shipped file carries is refused by default
    assert all(is_demo_key(k) for k in DEMO_KEYS)


def test_the_example_partner_file_refuses_its_demo_key_by_default():
    example = ROOT / "config" / "partners.example.toml"
    assert Registry.load(example).organisation_for_key("demo-hospital-key") is None
    allowed = Registry.load(example, allow_demo_keys=True)
    assert allowed.organisation_for_key("demo-hospital-key") is not None


async def test_the_api_says_why_a_demo_key_is_refused(tmp_path):
    async with running_api(tmp_path) as api:
        api.hub.registry = Registry.from_dict(PARTNERS)
        answer = await api.post("/v1/messages", b"UNA", key="demo-hospital-key",
                                content_type="application/edifact")
    assert answer.status_code == 401
    assert "MEDBRO_ALLOW_DEMO_KEYS" in answer.json()["detail"]
