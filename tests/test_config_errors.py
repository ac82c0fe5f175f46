"""Every process states a configuration error in one line naming the file, the entry and the
field, and exits with code 2 (gateway/cli.py): the real ``medbro`` CLI, started with bad files."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from gateway.cli import CONFIG_ERROR_EXIT, config_error_line
from gateway.errors import ConfigError

MEDBRO = [sys.executable, "-c", "from gateway.cli import main; main()"]
GP = 'gln = "5790000128686"\nname = "Lægehuset"\nkind = "gp"\n'

# (file name, partner file text, what the line must name: file, entry, field and the problem)
PARTNER_FILES = [
    ("short-gln.toml", f'[[endpoints]]\n{GP.replace("5790000128686", "579000012868")}'
     'channel = { kind = "local" }\n',
     ["short-gln.toml", "endpoints[0] (579000012868)", ".gln", "13-digit GLN"]),
    ("timeout.toml", f'[[endpoints]]\n{GP}'
     'channel = { kind = "http", url = "http://gp.test/in", timeout = "soon" }\n',
     ["timeout.toml", "endpoints[0] (5790000128686)", "channel", "'timeout' is not a number"]),
    ("kind.toml", f'[[endpoints]]\n{GP}channel = {{ kind = "carrier-pigeon" }}\n',
     ["kind.toml", "endpoints[0] (5790000128686)", "channel", "'carrier-pigeon'"]),
    ("token.toml", f'[[endpoints]]\n{GP}channel = {{ kind = "http", url = "http://gp.test/in", '
     'api_key_env = "MEDBRO_TEST_UNSET_TOKEN" }\n',
     ["token.toml", "endpoints[0] (5790000128686)", "channel", "MEDBRO_TEST_UNSET_TOKEN"]),
    ("org.toml", f'[[endpoints]]\n{GP}channel = {{ kind = "local" }}\n'
     '[[organisations]]\nname = "Lægehuset"\nglns = ["5790000128686"]\nhospitals = ["13"]\n',
     ["org.toml", "organisations[0] (Lægehuset)", ".hospitals", "SKS hospital"]),
    ("syntax.toml", "[[endpoints]\n", ["syntax.toml", "not valid TOML", "line 1"]),
]


def run(command: list[str], tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("MEDBRO_")}
    environ |= {"MEDBRO_DATABASE_URL": f"sqlite:///{tmp_path}/medbro.db", **env}
    return subprocess.run([*MEDBRO, *command], cwd=tmp_path, env=environ, capture_output=True,
                          text=True, timeout=60)


def assert_one_line(result: subprocess.CompletedProcess[str], command: str,
                    names: list[str]) -> None:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == CONFIG_ERROR_EXIT, result.stderr
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"medbro {command}: configuration error: "), lines[0]
    for name in names:
        assert name in lines[0], (name, lines[0])


# Every kind of file with ``medbro api``; two of them with the other processes as well.
PARTNER_CASES = [(["api", "--port", "0"], *case) for case in PARTNER_FILES] + [
    ([process], *case) for process in ("worker", "mailbox-watch")
    for case in PARTNER_FILES if case[0] in ("timeout.toml", "kind.toml")]


@pytest.mark.parametrize(("command", "name", "text", "names"), PARTNER_CASES,
                         ids=[f"{c[0][0]}-{c[1]}" for c in PARTNER_CASES])
def test_a_bad_partner_file_is_one_line_and_exit_2(tmp_path, command, name, text, names):
    (tmp_path / name).write_text(text, encoding="utf-8")
    result = run(command, tmp_path, MEDBRO_CONFIG=name)
    assert_one_line(result, command[0], names)


@pytest.mark.parametrize(("command", "env", "names"), [
    (["api"], {"MEDBRO_PREFETCH": "lots"}, ["environment", "MEDBRO_PREFETCH", "integer"]),
    (["worker"], {"MEDBRO_CONFIG": "absent.toml"},
     ["environment", "MEDBRO_CONFIG", "'absent.toml' does not exist"]),
    (["api"], {"MEDBRO_SLA_GOAL_1": "most"}, ["environment", "MEDBRO_SLA_GOAL_1", "'most'"]),
    (["worker"], {"MEDBRO_SLA_WORKING_HOURS": "8-16"},
     ["environment", "MEDBRO_SLA_WORKING_HOURS", "'8-16'"]),
    (["mailbox-watch"], {"MEDBRO_SLA_EXTRA_CLOSED_DAYS": "12-24,13-45"},
     ["environment", "MEDBRO_SLA_EXTRA_CLOSED_DAYS", "'13-45'"]),
    (["sla", "report"], {"MEDBRO_SLA_AT_RISK_HOURS": "x"}, ["MEDBRO_SLA_AT_RISK_HOURS"]),
    (["worker"], {"MEDBRO_METRICS_PORT": "70000"},
     ["environment", "MEDBRO_METRICS_PORT", "TCP port"]),
    (["mailbox-watch"], {"MEDBRO_METRICS_HOST": "not a host"},
     ["environment", "MEDBRO_METRICS_HOST", "host name or an IP address"]),
], ids=lambda v: v[0] if isinstance(v, list) else None)
def test_a_bad_setting_is_one_line_and_exit_2(tmp_path, command, env, names):
    assert_one_line(run(command, tmp_path, **env), command[0], names)


@pytest.mark.parametrize(("command", "text", "names"), [
    (["api"], 'address_book = { "KOM:101" = "12345" }\n',
     ["caseflow.toml", "address_book.KOM:101", "13-digit GLN"]),
    (["worker"], '[regions.midtjylland]\nscreening_workdays = "soon"\n',
     ["caseflow.toml", "regions.midtjylland.screening_workdays", "'soon'"]),
    (["case", "list"], "[coordinators]\nhovedstaden = { name = \"x\" }\n",
     ["caseflow.toml", "coordinators.hovedstaden", "sor"]),
    (["api"], "journal = \n", ["caseflow.toml", "line 1"]),
], ids=lambda v: v[0] if isinstance(v, list) else None)
def test_a_bad_caseflow_file_is_one_line_and_exit_2(tmp_path, command, text, names):
    (tmp_path / "caseflow.toml").write_text(text, encoding="utf-8")
    result = run(command, tmp_path, MEDBRO_CASEFLOW_CONFIG="caseflow.toml")
    assert_one_line(result, command[0], ["MEDBRO_CASEFLOW_CONFIG", *names])


def test_the_line_is_one_line_whatever_the_message():
    exc = ConfigError("p.toml: endpoints[2] (5790000128686).channel:\n  kind 'x'\n\tunknown")
    assert config_error_line("worker", exc) == (
        "medbro worker: configuration error: "
        "p.toml: endpoints[2] (5790000128686).channel: kind 'x' unknown")
