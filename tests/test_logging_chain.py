"""Logs through the configured chain (gateway.logging.configure): JSON, CPR masked, ids kept.

Both kinds of log lines are tested as a process writes them: structlog events and records of
the standard ``logging`` module, such as uvicorn's access lines.
"""

from __future__ import annotations

import io
import json
import logging

import pytest
import structlog

from gateway.logging import configure, get_logger, mask_cpr

UUID = "550e8400-e29b-41d4-a716-331782012345"


@pytest.fixture
def log_lines():
    """Configure the real chain into a buffer; the lines written as parsed JSON."""
    buffer = io.StringIO()
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    configure(json=True, stream=buffer)

    def lines() -> list[dict]:
        return [json.loads(line) for line in buffer.getvalue().splitlines()]

    yield lines
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
    root.setLevel(level)
    structlog.reset_defaults()


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("0108584947", "010858-****"),
        ("010858-4947", "010858-****"),
        ("/v1/cases/0108584947", "/v1/cases/010858-****"),
        ("cpr=0108584947&x=1", "cpr=010858-****&x=1"),
        ("2902004947", "290200-****"),  # 29 Feb 2000 (7th digit 4, year 00: the 2000s)
        ("2902014947", "2902014947"),  # 29 Feb 2001 does not exist
        ("3102581234", "3102581234"),  # 31 Feb
        ("0113581234", "0113581234"),  # month 13
        ("5790000120420", "5790000120420"),  # a GLN: 13 digits
        ("01085849471", "01085849471"),  # 11 digits: part of a longer number
        ("K0108584947", "K0108584947"),  # part of a longer token
        ("0108584947ab", "0108584947ab"),
        (UUID, UUID),
        ("e379d133-a7d4-4214-a076-3317820123b5", "e379d133-a7d4-4214-a076-3317820123b5"),
        ("1733329999", "1733329999"),  # a Unix time: no such date
    ],
)
def test_mask_cpr_matches_cpr_shapes_only(text, masked):
    assert mask_cpr(text) == masked


def test_structlog_events_are_json_with_cpr_masked_and_ids_kept(log_lines):
    get_logger("test").info("letter_received", cpr="0108584947", message_id=UUID,
                            nested={"a": ["patient 150282-4933"]})
    [line] = log_lines()
    assert line["event"] == "letter_received" and line["level"] == "info"
    assert line["cpr"] == "010858-****"
    assert line["message_id"] == UUID
    assert line["nested"] == {"a": ["patient 150282-****"]}


def test_an_access_line_is_a_json_event_with_the_cpr_in_its_path_masked(log_lines):
    # exactly what uvicorn's access logger emits for a request
    logging.getLogger("uvicorn.access").info(
        '%s - "%s %s HTTP/%s" %d', "10.0.0.7:51234", "GET", "/v1/cases/0108584947", "1.1", 404)
    [line] = log_lines()
    assert line == {
        "event": "http_access", "level": "info", "logger": "uvicorn.access",
        "client": "10.0.0.7:51234", "method": "GET", "path": "/v1/cases/010858-****",
        "http_version": "1.1", "status": 404, "timestamp": line["timestamp"],
    }
    assert "0108584947" not in json.dumps(line)


def test_other_stdlib_records_are_masked_json_too_and_libraries_speak_from_warning(log_lines):
    logging.getLogger("uvicorn.error").info("Started server process [%d]", 42)
    logging.getLogger("aio_pika").info("chatter")
    try:
        raise ValueError("bad letter for 0108584947")
    except ValueError:
        logging.getLogger("uvicorn.error").exception("Exception in ASGI application")
    started, failed = log_lines()
    assert started["event"] == "Started server process [42]"
    assert failed["level"] == "error"
    assert "bad letter for 010858-****" in failed["exception"]
    assert "0108584947" not in json.dumps(failed)
