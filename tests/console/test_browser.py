"""The console in a real browser: Debian's Chromium, driven by Playwright, against uvicorn.

Each test saves a screenshot of the pages it visits (the ``screenshots`` fixture says where;
docs/console.md shows them).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import OPERATOR, PASSWORD
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
