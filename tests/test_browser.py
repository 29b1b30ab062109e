"""The pages of `untoc serve` in a real browser: Debian's headless Chromium driven by Playwright.

What a person sees is asserted after the browser has parsed and laid out the page: the entity page's
title and source paragraphs, following links, the SVG pictures (their marks and links), the Russian
pages, and a saved query run from its HTML form. Screenshots go to the test's tmp_path.

Playwright's own browser downloads are never used (nothing may download at run time): the test drives
/usr/bin/chromium, with the switches that keep it from opening background connections, and skips
when either is missing (.ci/run installs chromium).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_serve import fetch  # noqa: E402

from untoc_kg.serving import Service  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--no-proxy-server"]
WG3_EN = "Third meeting of the Working Group on International Cooperation"
WG3_RU = "Третье совещание Рабочей группы по вопросам международного сотрудничества"
WG4_EN = "Fourth meeting of the Working Group on International Cooperation"

if not (os.path.exists(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
    pytest.skip(f"no Chromium at {CHROMIUM} (.ci/run installs the chromium package)",
                allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api",
                               reason="Playwright for Python is missing (a test extra: pip install -e '.[test]')")


@pytest.fixture(scope="module")
def base(_isolated_cache, run_server):
    with run_server(Service(timeout=10.0)) as url:
        yield url


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    profile = tmp_path_factory.mktemp("chromium-profile")  # a fresh profile: no state between runs
    with sync_api.sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(profile), executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 900})
        context.set_default_timeout(15000)
        yield context
        context.close()
    shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def page(browser, tmp_path):
    tab = browser.new_page()
    errors = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    yield tab
    tab.close()
    assert not errors, errors  # the pages have no scripts; any error is a defect


def shot(page, tmp_path, name: str) -> Path:
    path = tmp_path / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 5000  # something was drawn
    return path


def test_entity_page_and_following_a_link(page, base, tmp_path):
    page.goto(base + "/id/meeting/wg-ic-3")
    assert page.title() == WG3_EN
    assert page.locator("h1").inner_text() == WG3_EN
    sources = page.locator("h2", has_text="Sources").locator("xpath=following-sibling::p[1]")
    assert "para:18" in sources.inner_text()
    assert page.locator("a", has_text="para:18").first.is_visible()
    shot(page, tmp_path, "entity-wg-ic-3")

    page.locator('a[href="/id/place/vienna"]').first.click()
    page.wait_for_url(base + "/id/place/vienna")
    assert page.locator("h1").inner_text() == "Vienna"
    # Vienna's page lists the meeting among what points to it: a way back.
    assert page.locator('a[href="/id/meeting/wg-ic-3"]').count() >= 1
    shot(page, tmp_path, "entity-vienna")

    page.locator("a", has_text="Русский").click()
    page.wait_for_url(base + "/id/place/vienna?lang=ru")
    assert page.locator("h1").inner_text() == "Вена"
    assert page.locator("html").get_attribute("lang") == "ru"
    page.locator('a[href="/id/meeting/wg-ic-3?lang=ru"]').first.click()
    assert page.locator("h1").inner_text() == WG3_RU
    assert page.locator("h2", has_text="Источники").is_visible()
    shot(page, tmp_path, "entity-wg-ic-3-ru")


def test_timeline_picture(page, base, tmp_path):
    page.goto(base + "/timeline")
    svg = page.locator("svg").first
    box = svg.bounding_box()
    assert box and box["width"] > 600 and box["height"] > 200  # laid out, not an empty box
    meetings = {a.get_attribute("href") for a in page.locator('svg a[href^="/id/meeting/"]').all()}
    assert {f"/id/meeting/wg-ic-{n}" for n in range(1, 7)} <= meetings
    titles = page.locator("svg a title").all_text_contents()
    assert any(t.startswith(WG3_EN + " (2010") for t in titles), titles[:5]
    assert page.locator("svg polygon").count() >= 2  # the joint meeting's marks (and the legend's)
    shot(page, tmp_path, "timeline")

    page.locator("a", has_text="Русский").click()
    page.wait_for_url(base + "/timeline?lang=ru")
    assert page.locator("h1").inner_text() == "Хронология сессий и совещаний"
    titles = page.locator("svg a title").all_text_contents()
    assert any(t.startswith(WG3_RU) for t in titles)
    shot(page, tmp_path, "timeline-ru")


def test_lineage_picture_draws_every_edge(page, base, tmp_path):
    _, _, body = fetch(base + "/queries/mandate-lineage?format=json")
    edges = {(b["mandate"]["value"], b["relation"]["value"], b["target"]["value"])
             for b in json.loads(body)["results"]["bindings"]}
    page.goto(base + "/lineage")
    assert page.locator("svg path").count() == len(edges) > 10
    assert page.locator('svg a[href="/id/resolution/cop-6-1"]').count() == 1
    mandate = page.locator('svg a[href="/id/resolution/cop-6-1"] text')
    assert mandate.is_visible() and mandate.bounding_box()["width"] > 20
    shot(page, tmp_path, "lineage")


def test_saved_query_from_its_form(page, base, tmp_path):
    page.goto(base + "/")
    page.locator('a[href="/queries"]').first.click()
    page.wait_for_url(base + "/queries")
    assert page.locator("h1").inner_text() == "Catalogue of saved queries"
    page.locator('a[href="/queries/meetings-in-year"]').first.click()
    assert page.locator("text=Fill in the required parameters").is_visible()
    page.locator("#p-year").fill("2012")
    page.locator("#query-form button[type=submit]").click()
    page.wait_for_url("**/queries/meetings-in-year?year=2012*")
    table = page.locator("table.results")
    assert table.locator("th").first.inner_text() == "event"
    cells = table.locator("tr td:first-child").all_inner_texts()
    assert any(c.startswith(WG4_EN) for c in cells), cells
    assert not any("wg-ic-3" in c for c in cells)  # 2010, not 2012
    shot(page, tmp_path, "query-meetings-in-year")

    page.locator("#p-lang").fill("ru")
    page.locator("#query-form button[type=submit]").click()
    page.wait_for_url("**lang=ru*")
    cells = page.locator("table.results tr td:first-child").all_inner_texts()
    assert any(c.startswith("Четвертое совещание Рабочей группы") for c in cells), cells
    page.locator("table.results a", has_text="Четвертое совещание").first.click()
    assert page.locator("h1").inner_text().startswith("Четвертое совещание Рабочей группы")
    shot(page, tmp_path, "query-result-followed-ru")
