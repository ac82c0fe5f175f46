"""HTTP IO of the push channel: one POST per delivery over a shared httpx client."""

from __future__ import annotations

import httpx

from adapters.http_push.config import HttpPushConfig
from adapters.http_push.mapping import Outcome, classify, external_ref, request_headers
from gateway.channels import (
    Delivery,
    DeliveryResult,
    PermanentDeliveryError,
    TransientDeliveryError,
)
from gateway.logging import get_logger

log = get_logger(__name__)


class HttpPushChannel:
    """Delivers by POSTing the interchange to the endpoint's URL.

    ``transport`` is injectable (``httpx.MockTransport`` in tests, see testing.py).
    """

    kind = "http"

    def __init__(
        self, config: HttpPushConfig, *, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self.config = config
        self._transport = transport
        self._client: httpx.AsyncClient | None = None

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self.config.timeout, transport=self._transport)
        return self._client

    async def deliver(self, endpoint: object, delivery: Delivery) -> DeliveryResult:
        headers = request_headers(delivery, self.config.headers)
        if self.config.bearer_token:
            headers["Authorization"] = f"Bearer {self.config.bearer_token}"
        try:
            response = await self._http().post(
                self.config.url, content=delivery.payload, headers=headers
            )
        except httpx.HTTPError as exc:  # connect errors, timeouts, broken connections
            raise TransientDeliveryError(f"POST {self.config.url} failed: {exc!r}") from exc
        outcome = classify(response.status_code)
        detail = f"POST {self.config.url} answered {response.status_code}"
        if outcome is Outcome.TRANSIENT:
            raise TransientDeliveryError(detail)
        if outcome is Outcome.PERMANENT:
            raise PermanentDeliveryError(f"{detail}: {response.text[:200]}")
        log.info("http_push_delivered", endpoint=self.config.gln, message_id=delivery.message_id,
                 status=response.status_code)
        return DeliveryResult(external_ref=external_ref(dict(response.headers),
                                                        delivery.message_id))

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
