"""Body limits hold while the body streams in: Content-Length or chunked, every route."""

from __future__ import annotations

import pytest
from apiharness import KEY, edifact_letter, running_api

from gateway.api.body_limit import DEFAULT_LIMIT, Budget

MB = 1024 * 1024


class Source:
    """A chunked body (no Content-Length) that records how much of it was read."""

    def __init__(self, total: int, chunk: int = 256 * 1024) -> None:
        self.total, self.chunk, self.sent = total, chunk, 0

    async def __aiter__(self):
        while self.sent < self.total:
            self.sent += self.chunk
            yield b"A" * self.chunk


@pytest.mark.parametrize("path", ["/v1/messages", "/v1/hospital/letters", "/v1/discharges"])
async def test_a_chunked_body_over_the_limit_is_413_before_it_is_all_read(tmp_path, path):
    body = Source(200 * MB)
    async with running_api(tmp_path) as api:
        answer = await api.client.post(path, content=body, headers={
            "X-API-Key": KEY, "Content-Type": "application/edifact"})
    assert answer.status_code == 413, answer.text
    assert "body over" in answer.json()["detail"]
    assert body.sent <= 40 * MB  # stopped near the limit (<= 30 MB), never 200 MB


async def test_a_declared_length_over_the_limit_is_413_unread(tmp_path):
    async with running_api(tmp_path) as api:
        answer = await api.client.post("/v1/messages", content=b"UNA", headers={
            "X-API-Key": KEY, "Content-Type": "application/edifact",
            "Content-Length": str(DEFAULT_LIMIT + 1)})
    assert answer.status_code == 413


async def test_a_body_within_the_limit_goes_through_chunked_too(tmp_path):
    letter = edifact_letter()

    async def chunks():
        for start in range(0, len(letter), 100):
            yield letter[start:start + 100]

    async with running_api(tmp_path) as api:
        answer = await api.client.post("/v1/messages", content=chunks(), headers={
            "X-API-Key": KEY, "Content-Type": "application/edifact"})
    assert answer.status_code == 202, answer.text


def test_a_budget_refuses_the_byte_past_its_limit():
    budget = Budget(10)
    budget.take(4)
    budget.take(6)
    with pytest.raises(Exception) as caught:
        budget.take(1)
    assert caught.value.status_code == 413
