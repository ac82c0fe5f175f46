"""EDI mailbox adapter (the VANS side): inbox directories in, outbox directories out.

``channel`` is the plugin entry point (``medbro.channels: edi_mailbox``): it builds an endpoint's
``EdiMailboxChannel`` from the registry, whose ``deliver`` writes outbound files and whose
``watch(ingest, stop)`` runs the inbound ``MailboxWatcher``. File conventions: mapping.py.
"""

from __future__ import annotations

from typing import Any

from adapters.edi_mailbox.channel import EdiMailboxChannel
from adapters.edi_mailbox.client import MailboxClient
from adapters.edi_mailbox.config import MailboxConfig
from adapters.edi_mailbox.mapping import (
    MailboxNameError,
    is_complete,
    outbox_name,
    parse_outbox_name,
)
from adapters.edi_mailbox.watcher import MailboxWatcher

__all__ = [
    "EdiMailboxChannel",
    "MailboxClient",
    "MailboxConfig",
    "MailboxNameError",
    "MailboxWatcher",
    "channel",
    "is_complete",
    "outbox_name",
    "parse_outbox_name",
]


def channel(endpoint: Any, settings: Any = None) -> EdiMailboxChannel:
    """Plugin factory: the mailbox channel of a registry endpoint."""
    config = MailboxConfig.from_endpoint(endpoint)
    return EdiMailboxChannel(MailboxClient(config), gln=config.gln,
                             poll_interval=config.poll_interval, settings=settings)
