"""The console's pages over HTTP on the real app and Hub (SQLite and PostgreSQL): log in, the
session and CSRF rules, the SLA figures of a known data set, visibility, CSV, headers."""

from __future__ import annotations

import csv
import io
import json
import re

import httpx
import pytest

from gateway.console.auth import COOKIE

from .conftest import BOTH, KEYS, OPERATOR, OTHER, PASSWORD, VIEWER, log_in
from .dataset import CHART, TABLE, TOTAL, load


def cells(html: str, table_id: str) -> list[list[str]]:
    """The text of each body row of the table ``table_id`` (tags stripped)."""
    table = re.search(rf'<table[^>]*id="{table_id}".*?</table>', html, re.S).group(0)
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", table, re.S)
    return [[re.sub(r"<[^>]+>", "", c).strip()
             for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, re.S)] for row in rows]


@pytest.mark.parametrize("console_db", BOTH, indirect=True)
async def test_pages_need_a_login_and_come_back_after_it(client: httpx.AsyncClient) -> None:
    answer = await client.get("/console/sla?from=2025-01-01")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/console/login?next=/console/sla%3Ffrom%3D2025-01-01"
    await log_in(client)
    assert (await client.get("/console/sla")).status_code == 200


async def test_session_cookie_is_httponly_samesite_and_scoped(client: httpx.AsyncClient) -> None:
    page = await client.get("/console/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    answer = await client.post("/console/login", data={
        "csrf": token, "name": OPERATOR, "password": PASSWORD})
    cookie = next(c for c in answer.headers.get_list("set-cookie") if c.startswith(COOKIE + "="))
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/" in cookie
    assert "Max-Age=28800" in cookie  # the session ends after one shift


@pytest.mark.parametrize("who", [(OPERATOR, "wrong password"), ("nobody", PASSWORD), ("", "")])
async def test_wrong_login_is_refused(client: httpx.AsyncClient, who) -> None:
    page = await client.get("/console/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    answer = await client.post("/console/login", data={
        "csrf": token, "name": who[0], "password": who[1]})
    assert answer.status_code == 401
    assert "Forkert navn eller adgangskode" in answer.text
    assert COOKIE + "=" not in answer.headers.get("set-cookie", "")


async def test_login_without_the_form_token_is_refused(client: httpx.AsyncClient) -> None:
    await client.get("/console/login")  # sets the login cookie, but the form field is missing
    answer = await client.post("/console/login", data={"name": OPERATOR, "password": PASSWORD})
    assert answer.status_code == 403


async def test_an_action_without_the_csrf_token_is_refused(client: httpx.AsyncClient) -> None:
    csrf = await log_in(client)
    assert (await client.post("/console/logout", data={})).status_code == 403
    assert (await client.post("/console/logout", data={"csrf": "forged"})).status_code == 403
    assert (await client.get("/console/")).status_code == 200  # still logged in
    out = await client.post("/console/logout", data={"csrf": csrf})
    assert out.status_code == 303
    assert (await client.get("/console/")).status_code == 303  # the session is gone


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/v1/sla/report",
                                    "/console\\..\\x", ""])
async def test_login_never_redirects_outside_the_console(client, target) -> None:
    page = await client.get("/console/login", params={"next": target})
    token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    answer = await client.post("/console/login", data={
        "csrf": token, "name": OPERATOR, "password": PASSWORD, "next": target})
    assert answer.headers["location"] == "/console/"


@pytest.mark.parametrize("console_db", BOTH, indirect=True)
async def test_sla_page_shows_the_known_data_set(client: httpx.AsyncClient, sessions) -> None:
    load(sessions)
    await log_in(client)
    page = await client.get("/console/sla")
    assert page.status_code == 200
    rows = cells(page.text, "sla-table")
    body = {(r[1], r[2]): tuple(r[3:]) for r in rows[1:-1]}
    assert body == {
        ("1301011", "marts 2025"): tuple(map(str, TABLE[("1301011", "2025-03")][:4]))
        + TABLE[("1301011", "2025-03")][4:],
        ("1301011", "april 2025"): tuple(map(str, TABLE[("1301011", "2025-04")][:4]))
        + TABLE[("1301011", "2025-04")][4:],
        ("1301022", "marts 2025"): tuple(map(str, TABLE[("1301022", "2025-03")][:4]))
        + TABLE[("1301022", "2025-03")][4:],
    }
    assert tuple(rows[-1][1:]) == tuple(map(str, TOTAL[:4])) + TOTAL[4:]
    chart = json.loads(re.search(
        r'<script type="application/json" id="sla-chart-data">(.*?)</script>', page.text,
        re.S).group(1))
    assert {k: chart[k] for k in CHART} == CHART
    assert (chart["goal_1"], chart["goal_3"]) == (80.0, 95.0)
    worklist = cells(page.text, "worklist")[1:]
    assert [(r[1], r[2]) for r in worklist] == [("M4", "010150-****")]
    assert "Overskredet" in worklist[0][-1]
    assert "0101509991" not in page.text  # the worklist masks the CPR


async def test_department_filter_keeps_its_rows_and_total(client, sessions) -> None:
    load(sessions)
    await log_in(client)
    page = await client.get("/console/sla", params={"department": "1301022"})
    rows = cells(page.text, "sla-table")
    assert [r[1] for r in rows[1:-1]] == ["1301022"]
    assert rows[-1][1:5] == ["1", "1", "1", "1"]


@pytest.mark.parametrize("console_db", BOTH, indirect=True)
async def test_csv_export_is_the_apis_csv(client: httpx.AsyncClient, sessions) -> None:
    load(sessions)
    await log_in(client)
    answer = await client.get("/console/sla/report.csv",
                              params={"from": "2025-03-01", "to": "2025-04-30"})
    assert answer.headers["content-type"].startswith("text/csv")
    api = await client.get("/v1/sla/report", params={"from": "2025-03-01", "to": "2025-04-30",
                                                      "format": "csv"},
                           headers={"X-API-Key": KEYS["Region H"]})
    assert answer.text == api.text
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert rows[-1]["hospital"] == "total" and rows[-1]["discharges"] == "7"


@pytest.mark.parametrize("console_db", BOTH, indirect=True)
async def test_a_hospital_sees_only_its_own_hospitals(client, sessions) -> None:
    load(sessions)
    await log_in(client, OTHER)  # Herlev: hospital 1330, no discharges in the data set
    page = await client.get("/console/sla")
    assert 'id="sla-table"' not in page.text and "<td>M4</td>" not in page.text
    forbidden = await client.get("/console/sla", params={"hospital": "1301"})
    assert forbidden.status_code == 403
    csv_answer = await client.get("/console/sla/report.csv", params={"hospital": "1301"})
    assert csv_answer.status_code == 403


async def test_a_hospital_person_views_their_hospital(client, sessions) -> None:
    load(sessions)
    await log_in(client, VIEWER)
    page = await client.get("/console/sla")
    assert "viggo" in page.text and "(Læser)" in page.text
    assert "<td>M4</td>" in page.text


async def test_english_is_available_and_remembered(client: httpx.AsyncClient) -> None:
    await log_in(client)
    english = await client.get("/console/sla", params={"lang": "en"})
    assert '<html lang="en">' in english.text and "Per month, against the goals" in english.text
    again = await client.get("/console/sla")
    assert '<html lang="en">' in again.text
    danish = await client.get("/console/sla", params={"lang": "da"})
    assert "Regionens tabel" in danish.text


async def test_pages_carry_the_security_headers(client: httpx.AsyncClient) -> None:
    await log_in(client)
    for path in ("/console/", "/console/sla", "/console/cases", "/console/endpoints",
                 "/console/login"):
        answer = await client.get(path)
        assert answer.status_code == 200, path
        assert "script-src 'self'" in answer.headers["content-security-policy"]
        assert answer.headers["cache-control"] == "no-store"
        assert "<script>" not in answer.text  # no inline script (the CSP would block it)


@pytest.mark.parametrize("name", ["../routes.py", "templates/base.html", "vendor/htmx.min.js",
                                  "nothing.js"])
async def test_static_serves_only_its_files(client: httpx.AsyncClient, name: str) -> None:
    assert (await client.get(f"/console/static/{name}")).status_code == 404


async def test_static_serves_the_vendored_libraries(client: httpx.AsyncClient) -> None:
    htmx = await client.get("/console/static/vendor/htmx-2.0.11.min.js")
    chart = await client.get("/console/static/vendor/chart-4.6.1.umd.min.js")
    assert htmx.status_code == chart.status_code == 200
    assert "Chart.js v4.6.1" in chart.text and "htmx" in htmx.text
    assert "MIT" in (await client.get("/console/static/vendor/chart.js.LICENSE.md")).text


async def test_endpoints_page_lists_the_partner_file_without_secrets(client) -> None:
    await log_in(client)
    page = await client.get("/console/endpoints")
    rows = cells(page.text, "endpoints")[1:]
    assert [r[1] for r in rows] == ["5790000120437", "5790000128686", "5790000120420"]
    assert "DIS01 (D0133L)" in rows[1][9]
    assert [r[2] for r in rows] == ["OK", "OK", "OK"]  # health: nothing queued, failing, parked


@pytest.mark.parametrize("console_db", BOTH, indirect=True)
async def test_overview_counts_and_refreshes_itself(client: httpx.AsyncClient, sessions) -> None:
    load(sessions)
    await log_in(client)
    page = await client.get("/console/")
    assert 'hx-trigger="every 30s"' in page.text
    assert re.search(r'id="sla-breached">1<', page.text)  # M4, past both deadlines
    part = await client.get("/console/", headers={"HX-Request": "true"})
    assert "<html" not in part.text and 'id="sla-breached"' in part.text


async def test_cases_page_without_a_case_flow_says_so(client: httpx.AsyncClient) -> None:
    await log_in(client)
    page = await client.get("/console/cases")
    assert page.status_code == 200
    assert "Forløbet er ikke sat op her" in page.text
