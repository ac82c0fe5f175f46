"""The skeleton holds together: the CLI lists its plugin commands, logs never show a CPR."""

from __future__ import annotations

import structlog
from click.testing import CliRunner

from gateway.cli import main
from gateway.logging import MaskCPR, mask_cpr


def test_cli_lists_plugin_commands() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    for name in ("parse", "render", "receipt", "sla", "worker", "demo"):
        assert name in result.output


def test_mask_cpr_keeps_glns_and_masks_cpr() -> None:
    assert mask_cpr("patient 0108584947 at 5790000120420") == "patient 010858-**** at 5790000120420"
    assert mask_cpr("cpr 010858-4947") == "cpr 010858-****"


def test_cpr_never_reaches_a_log_event() -> None:
    with structlog.testing.capture_logs(processors=[MaskCPR()]) as logs:
        structlog.get_logger().info(
            "letter_received", cpr="0108584947", nested={"a": ["1502824933"]})
    assert logs[0]["cpr"] == "010858-****"
    assert logs[0]["nested"] == {"a": ["150282-****"]}
