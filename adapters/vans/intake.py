"""The VANS plugin's ``intake`` (gateway/envelopes.py): envelopes in an intake built around
``Hub.ingest``, such as the EDI mailbox's ``.xml`` files beside its ``.edi`` files.

Reliable mode on the durable store of ``VansSettings`` (default: the gateway's database), the
payload to the hub once, and the Positive/NegativeMessage receipt handed to ``on_receipt`` as
``<receipt's sender>_<receipt's envelope id>.xml``.
"""

from __future__ import annotations

from typing import Any

from adapters.vans.client import SqlSeenStore
from adapters.vans.config import VansSettings
from adapters.vans.ingest import VansIngest, envelope_aware, receipt_file_name
from adapters.vans.reliable import Received
from gateway.envelopes import Ingest, OnReceipt


class VansIntake:
    def __init__(self, ingest: Ingest, vans: VansIngest, on_receipt: OnReceipt) -> None:
        async def write_receipt(received: Received) -> None:
            await on_receipt(receipt_file_name(received), received.receipt)

        self._vans = vans
        self._wrapped = envelope_aware(ingest, vans, on_receipt=write_receipt)

    async def __call__(self, data: bytes, *, received_via: str, source: str = "",
                       authenticated_glns: frozenset[str] | None = None) -> Any:
        return await self._wrapped(data, received_via=received_via, source=source,
                                   authenticated_glns=authenticated_glns)

    def close(self) -> None:
        self._vans.close()


def intake(ingest: Ingest, settings: Any, *, received_via: str,
           on_receipt: OnReceipt) -> VansIntake | None:
    """None without a database to remember envelopes in (envelopes then reach the hub raw and
    are refused there, stored)."""
    database_url = getattr(settings, "database_url", None)
    if not database_url:
        return None
    url = VansSettings().resolved_database_url(database_url)
    vans = VansIngest(ingest, SqlSeenStore.create(url), received_via=received_via)
    return VansIntake(ingest, vans, on_receipt)
