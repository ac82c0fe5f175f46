"""The console in a real browser: Debian's Chromium, driven by Playwright, against uvicorn.

Each test saves a screenshot of the pages it visits (the ``screenshots`` fixture says where;
docs/console.md shows them).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from .conftest import ADMIN, OPERATOR, PASSWORD, VIEWER, parked_letter
from .dataset import CHART, TOTAL, load

pytestmark = pytest.mark.slow


def log_in(page, url: str, who: str = OPERATOR, target: str = "/console/") -> None:
    """Through the login form, by keyboard: type, Tab, type, Enter."""
    page.goto(url + target)
    page.wait_for_url("**/console/login**")
    page.get_by_label("Navn").fill(who)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "/login" not in url and url.endswith(target))


def test_log_in_and_see_the_overview(page, console_url: str, sessions, screenshots: Path) -> None:
    load(sessions)
    page.goto(console_url + "/console/")
    page.screenshot(path=screenshots / "login.png")
    log_in(page, console_url)
    assert page.get_by_role("heading", level=1).inner_text() == "Overblik"
    assert page.locator("#sla-breached").inner_text() == "1"
    page.screenshot(path=screenshots / "overview.png", full_page=True)
    # the menu is reachable by keyboard, and says which page is open
    page.get_by_role("link", name="SLA", exact=True).focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/console/sla")
    assert page.get_by_role("link", name="SLA", exact=True).get_attribute("aria-current") == "page"


def test_sla_chart_and_table_show_the_known_data_set(page, console_url: str, sessions,
                                                     screenshots: Path) -> None:
    load(sessions)
    log_in(page, console_url, target="/console/sla")
    page.wait_for_function("() => window.Chart && Chart.getChart('sla-chart')")
    chart = page.evaluate("""() => {
        const c = Chart.getChart('sla-chart');
        return {labels: c.data.labels, sets: c.data.datasets.map(d => [d.label, d.data])};
    }""")
    assert chart["labels"] == ["mar. 2025", "apr. 2025"]
    sets = dict((label, data) for label, data in chart["sets"])
    assert sets["Inden for 1 arbejdsdag"] == CHART["within_1"]
    assert sets["Inden for 3 arbejdsdage"] == CHART["within_3"]
    assert sets["Mål, 1 arbejdsdag"] == [80, 80] and sets["Mål, 3 arbejdsdage"] == [95, 95]
    total = page.locator("#sla-table tfoot td").all_inner_texts()
    assert total == [str(v) for v in TOTAL[:4]] + list(TOTAL[4:])
    march = page.locator('#sla-table tbody tr[data-month="2025-03"][data-department="1301011"] td')
    assert march.all_inner_texts()[2:] == ["marts 2025", "4", "3", "2", "1", "75,0 %", "50,0 %",
                                           "25,0 %"]
    assert page.locator("#total-d").inner_text() == "57,1 %"
    page.screenshot(path=screenshots / "sla.png", full_page=True)

    # filter by department with the form, by keyboard
    page.get_by_label("Afdeling").select_option("1301022")
    page.get_by_role("button", name="Vis").press("Enter")
    page.wait_for_url("**department=1301022**")
    assert page.locator("#sla-table tfoot td").all_inner_texts()[:4] == ["1", "1", "1", "1"]

    # the CSV export downloads the table
    page.goto(console_url + "/console/sla")
    with page.expect_download() as download:
        page.get_by_role("link", name="Eksportér CSV").click()
    text = Path(download.value.path()).read_text(encoding="utf-8")
    assert text.splitlines()[0].startswith("hospital,department,month,discharges")
    assert text.splitlines()[-1].startswith("total,,,7,6,5,4")


def test_english_and_a_tablet(page, console_url: str, sessions, screenshots: Path) -> None:
    load(sessions)
    log_in(page, console_url, target="/console/sla")
    page.get_by_role("link", name="English").click()
    page.wait_for_url("**lang=en")
    assert page.get_by_role("heading", level=1).inner_text() == "Discharge letters: SLA"
    page.set_viewport_size({"width": 820, "height": 1180})  # a tablet, upright
    page.reload()
    overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page is {overflow}px wider than a tablet"
    page.screenshot(path=screenshots / "sla-tablet-en.png")


def test_cases_and_endpoints_pages(page, console_url: str, screenshots: Path) -> None:
    log_in(page, console_url, target="/console/endpoints")
    assert page.locator("#endpoints tbody tr").count() == 3
    page.screenshot(path=screenshots / "endpoints.png", full_page=True)
    page.goto(console_url + "/console/cases")
    assert page.get_by_role("heading", level=1).inner_text() == "Rehabiliteringsforløb"
    page.screenshot(path=screenshots / "cases.png", full_page=True)


def test_an_operator_finds_reads_and_releases_a_parked_letter(
        page, server, console_url: str, channel, screenshots: Path) -> None:
    """Log in; find the parked letter by the patient's CPR; read its timeline; bring the GP's
    system back, release the letter with a reason and see it delivered."""
    message_id = server.call(parked_letter(server.hub, channel))
    log_in(page, console_url)
    page.get_by_role("link", name="Beskeder", exact=True).click()
    page.get_by_label("Patient (CPR)").fill("120362-9992")
    page.get_by_role("button", name="Søg", exact=True).click()
    results = page.locator("#results tbody tr")
    assert results.count() == 1
    assert "Parkeret" in results.first.inner_text()
    page.screenshot(path=screenshots / "messages.png", full_page=True)
    results.first.get_by_role("link").click()
    page.wait_for_url(f"**/console/messages/{message_id}")
    timeline = page.locator("#timeline").inner_text()
    for step in ("Modtaget", "Routet", "Leveringsforsøg", "does not answer",
                 "Levering opgivet: parkeret", "Operatøropgave oprettet"):
        assert step in timeline, step
    page.screenshot(path=screenshots / "message-parked.png", full_page=True)

    channel.down.clear()  # the GP's system answers again
    page.get_by_label("Hvorfor frigive den?").fill("Lægehuset er oppe igen")
    page.get_by_role("button", name="Frigiv").click()
    page.wait_for_url("**done=release")
    for _ in range(100):  # the worker delivers it; the page shows the new state on reload
        if page.locator("#state").inner_text() == "Leveret":
            break
        page.wait_for_timeout(200)
        page.reload()
    assert page.locator("#state").inner_text() == "Leveret"
    timeline = page.locator("#timeline").inner_text()
    assert "Frigivet af en operatør" in timeline and "person:anne" in timeline
    assert "Lægehuset er oppe igen" in timeline and "Leveret" in timeline
    assert len(channel.delivered["5790000128686"]) == 1
    page.screenshot(path=screenshots / "message-released.png", full_page=True)


def test_a_viewer_sees_no_release_button_and_a_forged_release_is_refused(
        page, server, console_url: str, channel) -> None:
    message_id = server.call(parked_letter(server.hub, channel))
    log_in(page, console_url, VIEWER, target=f"/console/messages/{message_id}")
    assert page.get_by_role("button", name="Frigiv").count() == 0
    assert "Din rolle kan læse, men ikke handle" in page.locator("main").inner_text()
    token = page.locator("body").get_attribute("data-csrf")
    forged = page.request.post(f"{console_url}/console/messages/{message_id}/release",
                               form={"csrf": token, "reason": "forged"})
    assert forged.status == 403
    api = page.request.post(f"{console_url}/v1/messages/{message_id}/release",
                            data={"reason": "forged"}, headers={"X-CSRF-Token": token})
    assert api.status == 403  # the JSON API refuses the same session too
    assert server.hub.message_view(message_id)["state"] == "parked"


def test_cpr_is_masked_until_revealed_and_the_reveal_is_audited(
        page, browser, server, console_url: str, channel, screenshots: Path) -> None:
    message_id = server.call(parked_letter(server.hub, channel))
    log_in(page, console_url, target=f"/console/messages/{message_id}")
    page.get_by_role("link", name="Vis brevet").click()
    page.wait_for_url("**letter=1**")
    assert page.locator("#patient-cpr").inner_text() == "120362-****"
    assert page.locator("#patient-name").inner_text() == "••• •••"
    main = page.locator("main").inner_text()
    assert "1203629992" not in main and "Østergård" not in main
    page.locator("details summary").click()
    assert "120362-****" in page.locator("#raw").inner_text()
    page.screenshot(path=screenshots / "letter-masked.png", full_page=True)
    page.get_by_label("Hvorfor skal du se CPR og navne?").fill("patienten ringede")
    page.get_by_role("button", name="Vis CPR og navne").click()
    assert page.locator("#patient-cpr").inner_text() == "1203629992"
    assert page.locator("#patient-name").inner_text() == "Åse Marie Østergård"

    admin = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    log_in(admin, console_url, ADMIN, target="/console/audit")
    admin.get_by_label("Hvad").fill("message.reveal_patient")
    admin.get_by_role("button", name="Vis").click()
    rows = admin.locator("#audit tbody tr")
    assert rows.count() == 1
    text = rows.first.inner_text()
    assert "person:anne" in text and f"message:{message_id}" in text
    assert "patienten ringede" in text
    admin.screenshot(path=screenshots / "audit.png", full_page=True)
    admin.context.close()


def test_tasks_and_persons_pages(page, server, console_url: str, channel,
                                 screenshots: Path) -> None:
    server.call(parked_letter(server.hub, channel))
    log_in(page, console_url, ADMIN, target="/console/tasks")
    assert page.locator("#tasks tbody tr").count() >= 1
    page.screenshot(path=screenshots / "tasks.png", full_page=True)
    page.goto(console_url + "/console/persons")
    assert page.locator("#persons tbody tr").count() == 4
    page.screenshot(path=screenshots / "persons.png", full_page=True)
    page.goto(console_url + "/console/")
    assert page.locator("#parked").inner_text() == "1"
    page.screenshot(path=screenshots / "overview-parked.png", full_page=True)


PAGES = ("/console/", "/console/messages?search=1&state=parked", "/console/tasks",
         "/console/sla", "/console/cases", "/console/endpoints", "/console/persons",
         "/console/audit")


def test_every_page_labels_its_fields_and_works_by_keyboard(page, server, console_url: str,
                                                            channel) -> None:
    """Each field has a label, each page one h1 and its language, and Tab reaches the menu
    (after the skip link) with a visible focus."""
    message_id = server.call(parked_letter(server.hub, channel))
    log_in(page, console_url, ADMIN)
    for path in (*PAGES, f"/console/messages/{message_id}?letter=1"):
        page.goto(console_url + path)
        unlabelled = page.evaluate("""() => [...document.querySelectorAll(
            'input:not([type=hidden]), select, textarea')]
            .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label'))
            .map(e => e.name || e.id)""")
        assert unlabelled == [], (path, unlabelled)
        assert page.locator("h1").count() == 1, path
        assert page.locator("html").get_attribute("lang") == "da"
    page.goto(console_url + "/console/sla")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"
    page.keyboard.press("Tab")  # the brand link, then the menu
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Overblik"
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"


def test_the_overview_refreshes_itself_without_a_script_error(page, server, console_url: str,
                                                              channel) -> None:
    """htmx (vendored) runs under the page's Content-Security-Policy and swaps the new figures
    in: a letter parked after the page was loaded shows up without a reload."""
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    server.app.state.console_refresh_seconds = 1
    log_in(page, console_url)
    assert page.locator("#parked").inner_text() == "0"
    server.call(parked_letter(server.hub, channel))
    expect(page.locator("#parked")).to_have_text("1", timeout=20000)
    assert page.url.endswith("/console/")  # the same page, not reloaded
    assert problems == []
