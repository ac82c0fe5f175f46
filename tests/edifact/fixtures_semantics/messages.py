"""Build messages from sample files or EDIFACT text, and edit their segments, for the tests."""

from __future__ import annotations

from medcom_samples import sample_bytes

from gateway.edifact import parse_envelope
from gateway.edifact.interchange import Message
from gateway.edifact.segment_values import unpack


def sample_message(name: str) -> Message:
    """The first message of a sample, envelope-checked only (no letter validation)."""
    return parse_envelope(sample_bytes(name)).messages[0]


def with_segment(message: Message, index: int, text: str | None) -> Message:
    """A copy of ``message`` with body segment ``index`` replaced by ``text`` ("TAG+el+c:c",
    default separators), or removed when ``text`` is None."""
    segments = list(message.segments)
    if text is None:
        del segments[index]
    else:
        segments[index] = unpack(text)
    return Message(
        message.ref,
        message.family,
        message.version,
        message.type,
        list(message.identifier),
        segments,
    )


def inserted(message: Message, index: int, text: str) -> Message:
    segments = list(message.segments)
    segments.insert(index, unpack(text))
    return Message(
        message.ref,
        message.family,
        message.version,
        message.type,
        list(message.identifier),
        segments,
    )


def index_of(message: Message, text_prefix: str) -> int:
    """The body index of the first segment whose packed text starts with ``text_prefix``."""
    from gateway.edifact.segment_values import pack

    return next(i for i, s in enumerate(message.segments) if pack(s).startswith(text_prefix))
