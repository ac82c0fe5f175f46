"""The ESDH channel: journalise every letter delivered to a municipality on the right case.

``deliver`` decodes the interchange, turns each letter or receipt into a ``JournalEntry``
(mapping.py), and for each one: returns the existing document when its external key is already
in the ESDH (a redelivery), else finds the case and creates the document with the original
message, an HTML and a PDF rendering. The ESDH document ids become the delivery's
``external_ref``, which the pipeline records in its store.

Outcomes: ESDH down (after the tenacity retries) -> ``TransientDeliveryError`` (the pipeline
redelivers later); no single case, a refusal by the ESDH, or a payload that cannot be read ->
``PermanentDeliveryError`` (parked: an operator task). Nothing is dropped silently.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from adapters.esdh.client import EsdhClient, EsdhRefused, EsdhUnavailable
from adapters.esdh.mapping import (
    CaseNotFound,
    JournalEntry,
    choose_case,
    letter_entry,
    receipt_entry,
)
from gateway.channels import (
    Delivery,
    DeliveryResult,
    PermanentDeliveryError,
    TransientDeliveryError,
)
from gateway.errors import RemoteMessageError
from gateway.logging import get_logger
from gateway.model import Letter, Receipt

log = get_logger(__name__)

Decode = Callable[[Delivery], list[Letter | Receipt]]
Sleep = Callable[[float], Awaitable[None]]


class CaseNotFoundError(PermanentDeliveryError):
    """The letter names no case medbro can file it on: an operator must choose the case."""


def decode(delivery: Delivery) -> list[Letter | Receipt]:
    """The letters and receipts in the delivered payload (EDIFACT or OIOXML)."""
    if delivery.format in ("oioxml", "xml"):
        from gateway.oioxml.reader import read

        return [read(delivery.payload)[1]]
    from gateway.edifact import parse

    return [m.letter for m in parse(delivery.payload).messages if m.letter is not None]


def _media_type(delivery: Delivery) -> str:
    return "application/xml" if delivery.format in ("oioxml", "xml") else "application/edifact"


class EsdhChannel:
    """Journalises deliveries in one municipality's ESDH through an ``EsdhClient``."""

    kind = "esdh"

    def __init__(
        self,
        client: EsdhClient,
        *,
        case_kinds: Mapping[str, str] | None = None,
        attempts: int = 4,
        wait_max: float = 10.0,
        sleep: Sleep | None = None,
        decoder: Decode = decode,
    ) -> None:
        self.client = client
        self._kinds = dict(case_kinds or {})
        self._decode = decoder
        retry_kwargs: dict[str, Any] = dict(
            stop=stop_after_attempt(attempts),
            wait=wait_exponential(multiplier=0.2, max=wait_max),
            retry=retry_if_exception_type(EsdhUnavailable),
            reraise=True,
        )
        if sleep is not None:
            retry_kwargs["sleep"] = sleep
        self._retry_kwargs = retry_kwargs

    async def aclose(self) -> None:
        """Close the client's connections (the worker keeps one channel per endpoint)."""
        close = getattr(self.client, "aclose", None)
        if close is not None:
            await close()

    async def _retrying(self, call: Callable[[], Awaitable[Any]]) -> Any:
        async for attempt in AsyncRetrying(**self._retry_kwargs):
            with attempt:
                return await call()
        raise AssertionError("unreachable: tenacity reraises the last error")  # pragma: no cover

    def entries(self, delivery: Delivery) -> list[JournalEntry]:
        """What ``delivery`` becomes in the ESDH (pure apart from decoding)."""
        try:
            items = self._decode(delivery)
        except RemoteMessageError as exc:
            raise PermanentDeliveryError(f"ESDH: the payload cannot be read: {exc}") from exc
        if not items:
            raise PermanentDeliveryError("ESDH: the payload holds no letter to journalise")
        out = []
        for item in items:
            if isinstance(item, Receipt):
                out.append(receipt_entry(item, original=delivery.payload,
                                         sender_gln=delivery.sender_gln,
                                         control_ref=delivery.control_ref))
                continue
            try:
                out.append(letter_entry(item, original=delivery.payload,
                                        original_type=_media_type(delivery),
                                        sender_gln=delivery.sender_gln,
                                        control_ref=delivery.control_ref, kinds=self._kinds))
            except CaseNotFound as exc:
                raise CaseNotFoundError(f"ESDH case not found: {exc.reason}") from exc
        return out

    async def deliver(self, endpoint: object, delivery: Delivery) -> DeliveryResult:
        ids = []
        for entry in self.entries(delivery):
            try:
                ids.append(await self._journalise(entry))
            except EsdhUnavailable as exc:
                raise TransientDeliveryError(f"ESDH unavailable: {exc}") from exc
            except EsdhRefused as exc:
                raise PermanentDeliveryError(f"ESDH refused the document: {exc}") from exc
            except CaseNotFound as exc:
                log.warning("esdh_case_not_found", message_id=delivery.message_id,
                            external_key=entry.external_key, reason=exc.reason)
                raise CaseNotFoundError(f"ESDH case not found for {entry.external_key}: "
                                        f"{exc.reason}") from exc
        return DeliveryResult(external_ref=",".join(ids))

    async def _journalise(self, entry: JournalEntry) -> str:
        existing = await self._retrying(
            lambda: self.client.find_document(external_key=entry.external_key)
        )
        if existing is not None:
            log.info("esdh_document_already_journalised", document_id=existing.id,
                     external_key=entry.external_key)
            return existing.id
        case_id = await self._case_for(entry)
        document_id, created = await self._retrying(
            lambda: self.client.create_document(case_id, entry)
        )
        log.info("esdh_document_journalised", document_id=document_id, case_id=case_id,
                 external_key=entry.external_key, created=created)
        return document_id

    async def _case_for(self, entry: JournalEntry) -> str:
        if entry.original_of:  # a receipt: the case of the letter it answers
            original = await self._retrying(
                lambda: self.client.find_document(medcom_ref=entry.original_of)
            )
            if original is None:
                raise CaseNotFound(f"no journalised document for the receipted letter "
                                   f"{entry.original_of}")
            return original.case_id
        cases = await self._retrying(lambda: self.client.find_cases(entry.cpr))
        return choose_case(cases, reference=entry.case_reference, kind=entry.case_kind).id
