"""The EDI mailbox as a medbro channel: deliver = write the interchange into the outbox.

The payload is written byte for byte (the receiver gets exactly what the sender signed off), as
``<senderGLN>_<controlref>.edi``. Delivering the same interchange again (a redelivery after a
worker crash, a broker redelivery) finds the file already there and reports success without
writing: that, plus the store's state, is what keeps a receiver from seeing a letter twice.
"""

from __future__ import annotations

import asyncio
import errno
from typing import Any

from adapters.edi_mailbox.mapping import MailboxNameError, outbox_name
from adapters.edi_mailbox.watcher import Ingest, MailboxWatcher
from gateway.channels import (
    Delivery,
    DeliveryResult,
    PermanentDeliveryError,
    TransientDeliveryError,
)
from gateway.envelopes import EnvelopeIntake, envelope_intake
from gateway.logging import get_logger

log = get_logger(__name__)

# Errors an operator must fix (wrong path, permissions): retrying will not help by itself, but
# they are still transient for the pipeline, which retries with back-off and then parks, so
# a fixed mount picks the backlog up. Only a name we cannot build is permanent.
_PERMANENT_ERRNOS = {errno.ENAMETOOLONG}


class EdiMailboxChannel:
    """One endpoint's mailbox; ``client`` is a MailboxClient or its memory twin."""

    kind = "edi_mailbox"

    def __init__(self, client: Any, *, gln: str, poll_interval: float = 0.5,
                 settings: Any = None) -> None:
        self.client = client
        self.gln = gln
        self.poll_interval = poll_interval
        # The gateway's settings, for envelope plugins' intakes (gateway/envelopes.py); None:
        # .xml envelopes are not unwrapped (they reach the hub raw and are refused there, stored).
        self.settings = settings
        self._dirs_ready = False
        self._intakes: list[EnvelopeIntake] = []

    async def deliver(self, endpoint: Any, delivery: Delivery) -> DeliveryResult:
        try:
            name = outbox_name(delivery.sender_gln, delivery.control_ref)
        except MailboxNameError as exc:
            raise PermanentDeliveryError(f"cannot name the outbox file: {exc}") from exc
        if delivery.format == "oioxml":  # an XML letter (converted, or routed by envelope)
            name = name.removesuffix(".edi") + ".xml"
        try:
            created = await asyncio.to_thread(self._publish, name, delivery.payload)
        except OSError as exc:
            if exc.errno in _PERMANENT_ERRNOS:
                raise PermanentDeliveryError(f"outbox write of {name} failed: {exc}") from exc
            raise TransientDeliveryError(f"outbox write of {name} failed: {exc}") from exc
        log.info(
            "mailbox_file_written" if created else "mailbox_file_already_present",
            endpoint=self.gln,
            file=name,
            message_id=delivery.message_id,
        )
        return DeliveryResult(external_ref=name)

    def _publish(self, name: str, payload: bytes) -> bool:
        if not self._dirs_ready:
            self.client.ensure_dirs()
            self._dirs_ready = True
        return self.client.publish(name, payload)

    def watcher(self, ingest: Ingest) -> MailboxWatcher:
        """The inbound side of this mailbox, feeding ``ingest`` (``Hub.ingest``).

        Files in an endpoint's inbox are taken as sent by that endpoint: the hub refuses an
        interchange whose UNB sender is not the mailbox owner's GLN. Envelopes beside the
        ``.edi`` files (``.xml`` VANSEnvelopes) go through the envelope plugins' intake
        (gateway/envelopes.py): for VANS reliable mode, the payload to the hub once, and the
        receipt the plugin owes written to this mailbox's outbox (the sender's) under the name
        the plugin gives it.
        """
        return MailboxWatcher(
            self.client,
            self.envelope_intake(ingest),
            gln=self.gln,
            authenticated_glns=frozenset({self.gln}),
            poll_interval=self.poll_interval,
            concurrency=self.client.config.concurrency,
        )

    def envelope_intake(self, ingest: Ingest) -> Ingest:
        """``ingest`` that also takes the installed envelope plugins' envelopes."""
        if self.settings is None:
            return ingest

        async def write_receipt(name: str, receipt: bytes) -> None:
            await asyncio.to_thread(self._publish, name, receipt)
            log.info("mailbox_envelope_receipt_written", endpoint=self.gln, file=name)

        intake = envelope_intake(ingest, self.settings, received_via="edi_mailbox",
                                 on_receipt=write_receipt)
        self._intakes.append(intake)
        return intake

    def close(self) -> None:
        while self._intakes:
            self._intakes.pop().close()

    @property
    def has_inbox(self) -> bool:
        return bool(self.client.config.has_inbox)

    async def watch(self, ingest: Ingest, stop: asyncio.Event) -> None:
        """Run the inbound watcher until ``stop`` is set (returns at once without an inbox)."""
        if self.has_inbox:
            try:
                await self.watcher(ingest).run(stop)
            finally:
                self.close()
