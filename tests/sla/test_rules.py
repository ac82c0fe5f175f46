"""The Prometheus rules file parses and only names metrics that medbro exports."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from gateway import metrics

RULES = Path(__file__).resolve().parents[2] / "deploy" / "prometheus" / "medbro-rules.yml"


def exported_names() -> set[str]:
    names = set()
    for collector in list(metrics.REGISTRY._collector_to_names):  # noqa: SLF001
        for family in collector.describe():
            names.add(family.name)
            names.update(
                f"{family.name}{suffix}" for suffix in ("_total", "_bucket", "_count", "_sum")
            )
    return names


def test_rules_name_only_exported_metrics() -> None:
    document = yaml.safe_load(RULES.read_text())
    rules = [rule for group in document["groups"] for rule in group["rules"]]
    assert len(rules) >= 5
    known = exported_names()
    for rule in rules:
        assert rule["alert"] and rule["labels"]["severity"] in ("page", "ticket")
        assert rule["annotations"]["summary"]
        used = set(re.findall(r"\bmedbro_[a-z_]+", rule["expr"]))
        assert used, rule["alert"]
        assert used <= known, (rule["alert"], used - known)
