"""The alert rules pass ``promtool check rules`` and their unit tests (``promtool test rules``
on deploy/prometheus/medbro-rules.test.yml), and DischargeLetterParked names exactly the
discharge-letter types the SLA counts. Without promtool: skipped, but under CI=true a failure
(.ci/run installs Debian's ``prometheus`` package, which ships it)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from gateway.sla.hooks import EPIKRISE_TYPES
from tests.conftest import IN_CI

RULES_DIR = Path(__file__).resolve().parents[1] / "deploy" / "prometheus"
RULES = RULES_DIR / "medbro-rules.yml"
RULE_TESTS = RULES_DIR / "medbro-rules.test.yml"


@pytest.fixture(scope="module")
def promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        if IN_CI:
            pytest.fail("promtool is not installed and CI=true (apt-get install prometheus)",
                        pytrace=False)
        pytest.skip("promtool is not installed (apt-get install prometheus)")
    return found


def _run(promtool: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([promtool, *args], cwd=RULES_DIR, capture_output=True, text=True,
                          timeout=120)


def test_promtool_checks_the_rules(promtool):
    result = _run(promtool, "check", "rules", RULES.name)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_promtool_unit_tests_of_the_rules_pass(promtool):
    result = _run(promtool, "test", "rules", RULE_TESTS.name)
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_unit_tests_can_fail(promtool, tmp_path):
    """The unit tests catch a wrong rule: DischargeLetterParked summed over instances would
    say 2 for the one parked letter two processes report."""
    (tmp_path / RULES.name).write_text(RULES.read_text(encoding="utf-8").replace(
        "max by (type, receiver)", "sum by (type, receiver)"), encoding="utf-8")
    (tmp_path / RULE_TESTS.name).write_text(RULE_TESTS.read_text(encoding="utf-8"),
                                            encoding="utf-8")
    result = subprocess.run([promtool, "test", "rules", RULE_TESTS.name], cwd=tmp_path,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert "DischargeLetterParked" in result.stdout + result.stderr


def _rules() -> dict[str, dict]:
    document = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    return {r["alert"]: r for g in document["groups"] for r in g["rules"]}


def test_discharge_letter_parked_matches_exactly_the_epikrise_types():
    expr = _rules()["DischargeLetterParked"]["expr"]
    pattern = re.search(r'medbro_messages_parked\{type=~"([^"]+)"\}', expr)
    assert pattern is not None, expr
    matched = {f"DIS{n:02d}" for n in range(100) if re.fullmatch(pattern.group(1), f"DIS{n:02d}")}
    assert matched == set(EPIKRISE_TYPES)


def test_every_alert_the_issue_names_has_a_unit_test():
    tested = set(re.findall(r"alertname: (\w+)", RULE_TESTS.read_text(encoding="utf-8")))
    assert {"DischargeLetterParked", "MessagesParked", "EndpointDeliveriesFailing",
            "DeliveryLatencyHigh", "DischargeLettersAtRisk"} <= tested
    assert tested <= set(_rules())
