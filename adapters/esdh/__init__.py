"""Municipal ESDH journalisation: every letter for a municipality filed on the right case.

``channel`` is the plugin entry point (``medbro.channels: esdh``); the REST/JSON contract the
adapter speaks is docs/esdh.md, implemented by ``reference_server.py``.
"""

from __future__ import annotations

from typing import Any

from adapters.esdh.channel import CaseNotFoundError, EsdhChannel, decode
from adapters.esdh.client import (
    EsdhClient,
    EsdhError,
    EsdhRefused,
    EsdhUnavailable,
    RestEsdhClient,
    StoredDocument,
)
from adapters.esdh.config import EsdhConfig
from adapters.esdh.mapping import (
    Attachment,
    Case,
    CaseNotFound,
    JournalEntry,
    choose_case,
    letter_entry,
    receipt_entry,
)
from adapters.esdh.testing import MemoryEsdh

__all__ = [
    "Attachment",
    "Case",
    "CaseNotFound",
    "CaseNotFoundError",
    "EsdhChannel",
    "EsdhClient",
    "EsdhConfig",
    "EsdhError",
    "EsdhRefused",
    "EsdhUnavailable",
    "JournalEntry",
    "MemoryEsdh",
    "RestEsdhClient",
    "StoredDocument",
    "channel",
    "choose_case",
    "decode",
    "letter_entry",
    "receipt_entry",
]


def channel(endpoint: Any, settings: Any = None) -> EsdhChannel:
    """Plugin factory: the ESDH channel of a registry endpoint (``channel.kind = "esdh"``)."""
    config = EsdhConfig.from_options(endpoint.gln, endpoint.channel.options)
    client = RestEsdhClient(config.url, token=config.token, timeout=config.timeout)
    return EsdhChannel(client, case_kinds=config.case_kinds, attempts=config.attempts)
