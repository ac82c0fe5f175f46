"""MedCom EDIFACT codec (sans-IO): bytes -> ``Interchange`` of pydifact segments -> bytes.

``parse(data)`` validates everything (envelope, letter grammar) and maps each message to the
canonical model; ``encode(interchange)`` writes it back in the declared charset. See
docs/edifact.md for what is validated and the error codes.
"""

from gateway.edifact.encoder import encode, encode_segments
from gateway.edifact.errors import EdifactError
from gateway.edifact.interchange import Interchange, Message
from gateway.edifact.reader import (
    EnvelopeInfo,
    MessageInfo,
    parse,
    parse_envelope,
    read_envelope_leniently,
)
from gateway.edifact.tokenizer import BinaryObject, Tokenizer, tokenize

__all__ = [
    "BinaryObject",
    "EdifactError",
    "EnvelopeInfo",
    "Interchange",
    "Message",
    "MessageInfo",
    "Tokenizer",
    "encode",
    "encode_segments",
    "parse",
    "parse_envelope",
    "read_envelope_leniently",
    "tokenize",
]
