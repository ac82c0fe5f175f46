"""The case flow's TOML configuration: address book, coordinators, region rules, journal."""

from __future__ import annotations

import pytest

from gateway.caseflow.config import CaseflowConfig, caseflow_for_hub
from gateway.errors import ConfigError

TOML = """
journal = true

[address_book]
"KOM:101" = "5790000000101"
"YNR:291714" = "5790000291714"

[coordinators]
hovedstaden = { sor = "987654321098", name = "Sundhedskoordinator Region H" }

[regions.midtjylland]
screening_workdays = "within_lead_time"

[regions.syddanmark]
screening_workdays = 4
coordinator_lead_workdays = 8
"""


def test_config_file_is_read(tmp_path) -> None:
    path = tmp_path / "caseflow.toml"
    path.write_text(TOML, encoding="utf-8")
    config = CaseflowConfig.load(path)
    assert config.journal is True
    assert config.address_book == {("KOM", "101"): "5790000000101",
                                   ("YNR", "291714"): "5790000291714"}
    assert config.coordinators == {"hovedstaden": ("987654321098",
                                                   "Sundhedskoordinator Region H")}
    assert config.policies["midtjylland"].normal.screening_workdays is None
    south = config.policies["syddanmark"].normal
    assert (south.screening_workdays, south.coordinator_lead_workdays) == (4, 8)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"address_book": {"KOM101": "5790000000101"}}, "address_book.KOM101"),
        ({"address_book": {"KOM:101": "57900"}}, "13-digit GLN"),
        ({"coordinators": {"hovedstaden": {"name": "x"}}}, "coordinators.hovedstaden"),
    ],
)
def test_bad_config_is_named(data, message) -> None:
    with pytest.raises(ConfigError, match=message):
        CaseflowConfig.from_dict(data)


def test_unconfigured_case_flow_says_how_to_configure(monkeypatch) -> None:
    monkeypatch.delenv("MEDBRO_CASEFLOW_CONFIG", raising=False)
    with pytest.raises(ConfigError, match="MEDBRO_CASEFLOW_CONFIG"):
        caseflow_for_hub(object())
    monkeypatch.setenv("MEDBRO_CASEFLOW_CONFIG", "/nonexistent/caseflow.toml")
    with pytest.raises(ConfigError, match="cannot read"):
        caseflow_for_hub(object())
