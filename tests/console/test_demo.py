"""``medbro demo`` leaves a console login behind: its person logs in and sees the demo's data."""

from __future__ import annotations

import re
from pathlib import Path

import httpx

from gateway.api.app import create_app
from gateway.console.demo import DEMO_PERSON
from gateway.demo import demo_settings, run_demo
from gateway.pipeline.hub import Hub


async def test_the_demo_person_logs_in_and_sees_the_parked_letter(tmp_path: Path) -> None:
    root = tmp_path / "demo"
    assert await run_demo(root, letters_per_gp=1) == 0
    hub = Hub.from_settings(demo_settings(root))
    await hub.start()
    try:
        transport = httpx.ASGITransport(app=create_app(hub, manage_hub=False))
        async with httpx.AsyncClient(transport=transport, base_url="http://demo") as http:
            form = await http.get("/console/login")
            token = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)
            answer = await http.post("/console/login", data={
                "csrf": token, "name": DEMO_PERSON[0], "password": DEMO_PERSON[1]})
            assert answer.status_code == 303
            page = await http.get("/console/messages", params={"state": "parked"})
            assert page.text.count('class="badge parked"') == 1  # the letter to the unknown GP
            assert 'href="/console/persons"' in page.text  # the demo person is an admin
    finally:
        await hub.stop()
