"""One list of every MEDBRO_* variable (gateway/settings.py), true to the code and the README."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from gateway.settings import OTHER_VARIABLES, known_variables

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(("variable", "module"), sorted(OTHER_VARIABLES.items()))
def test_each_variable_read_elsewhere_is_read_where_the_list_says(variable, module):
    source = (ROOT / module).read_text(encoding="utf-8")
    if variable in source:
        return
    # A pydantic settings class: the prefix in its model_config, the field in its body.
    prefix = re.search(r'env_prefix="(MEDBRO_[A-Z_]+)"', source)
    assert prefix and variable.startswith(prefix.group(1)), (variable, module)
    field = variable.removeprefix(prefix.group(1)).lower()
    assert re.search(rf"^\s+{field}: ", source, re.M), (variable, module)


def test_the_adapters_settings_classes_are_all_listed():
    from adapters.hospital.config import HospitalSettings
    from adapters.vans.config import VansSettings

    for cls in (HospitalSettings, VansSettings):
        prefix = cls.model_config["env_prefix"]
        for name in cls.model_fields:
            assert prefix + name.upper() in known_variables(), (cls.__name__, name)


def test_the_readme_settings_table_lists_every_variable():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    listed = set(re.findall(r"`(MEDBRO_[A-Z0-9_]+)`", readme))
    assert known_variables() - listed == set()
