"""HTTP push adapter: delivers an interchange by POSTing it to the receiver's URL.

``channel`` is the plugin entry point (``medbro.channels: http``).
"""

from __future__ import annotations

from typing import Any

from adapters.http_push.client import HttpPushChannel
from adapters.http_push.config import HttpPushConfig
from adapters.http_push.mapping import Outcome, classify, request_headers

__all__ = ["HttpPushChannel", "HttpPushConfig", "Outcome", "channel", "classify",
           "request_headers"]


def channel(endpoint: Any, settings: Any = None) -> HttpPushChannel:
    """Plugin factory: the HTTP push channel of a registry endpoint."""
    return HttpPushChannel(HttpPushConfig.from_options(endpoint.gln, endpoint.channel.options))
