"""In-memory twin of an HTTP receiver, plugged in through ``httpx.MockTransport``.

``FakeReceiver`` records every push and answers with scripted statuses; it deduplicates on
``Idempotency-Key`` the way a well-behaved receiver should, so tests can count what the receiver
would have shown its users.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx

from adapters.http_push.client import HttpPushChannel
from adapters.http_push.config import HttpPushConfig


@dataclass
class FakeReceiver:
    statuses: list[int] = field(default_factory=list)  # answered in order, then 201
    requests: list[httpx.Request] = field(default_factory=list)
    accepted: dict[str, bytes] = field(default_factory=dict)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        status = self.statuses.pop(0) if self.statuses else 201
        if 200 <= status < 300:
            key = request.headers["Idempotency-Key"]
            self.accepted.setdefault(key, request.content)
            return httpx.Response(status, headers={"Location": f"/documents/{key}"})
        return httpx.Response(status, text="refused")

    def channel(self, gln: str = "5790000000001", url: str = "http://receiver.test/in"):
        config = HttpPushConfig(gln=gln, url=url)
        return HttpPushChannel(config, transport=httpx.MockTransport(self.handle))
