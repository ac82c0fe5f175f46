"""Settings from MEDBRO_* variables; bad values name the variable."""

from __future__ import annotations

import pytest

from gateway.errors import ConfigError
from gateway.settings import Settings


def test_defaults(monkeypatch):
    for name in ("DATABASE_URL", "BROKER_URL", "CONFIG", "BROKER_PREFIX"):
        monkeypatch.delenv(f"MEDBRO_{name}", raising=False)
    s = Settings.load()
    assert s.database_url == "sqlite:///./var/medbro.db"
    assert s.uses_memory_broker and s.broker_prefix == "medbro"
    assert (s.receipt_timeout_seconds, s.max_resends) == (1800.0, 2)


def test_environment_is_read(monkeypatch, tmp_path):
    cfg = tmp_path / "p.toml"
    cfg.write_text("")
    monkeypatch.setenv("MEDBRO_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672/")
    monkeypatch.setenv("MEDBRO_CONFIG", str(cfg))
    monkeypatch.setenv("MEDBRO_RETRY_DELAYS_SECONDS", "[30, 5]")
    s = Settings.load()
    assert not s.uses_memory_broker and s.config == cfg
    assert s.retry_delays_seconds == (5.0, 30.0)


@pytest.mark.parametrize(("variable", "value", "problem"), [
    ("MEDBRO_BROKER_URL", "redis://localhost", "must start with memory://"),
    ("MEDBRO_DATABASE_URL", "mysql://x/y", "unsupported database 'mysql'"),
    ("MEDBRO_DATABASE_URL", "::nonsense::", "not a database URL"),
    ("MEDBRO_CONFIG", "/nonexistent/partners.toml", "does not exist"),
    ("MEDBRO_RECEIPT_TIMEOUT_SECONDS", "0", "greater than 0"),
    ("MEDBRO_MAX_RESENDS", "many", "valid integer"),
    ("MEDBRO_BROKER_PREFIX", "a b", "without spaces"),
])
def test_bad_setting_names_the_variable(monkeypatch, variable, value, problem):
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as err:
        Settings.load()
    assert variable in str(err.value) and problem in str(err.value)
