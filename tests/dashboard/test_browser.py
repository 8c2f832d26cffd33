"""The dashboard in a real browser (Debian's chromium via Playwright) against a real server.

One batch is uploaded through the page and shared by the tests that read it: upload with the
column preview and the progress bar, charts whose numbers are the API's breakdown, a click on a
topic bar that opens the matching comments with their evidence highlighted, a filter that
redraws every chart, exports of the filtered view, and the language switch. Screenshots of each
page are written to the screenshot folder (and to docs/screenshots with
VICX_UPDATE_SCREENSHOTS=1) for people to look at.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.dashboard.conftest import publish_screenshot
from tests.service.conftest import Service

pytestmark = pytest.mark.slow

TIMEOUT_MS = 120_000
DESKTOP = {"width": 1280, "height": 860}
PHONE = {"width": 390, "height": 844}


def chart_option(page: Page, chart: str) -> dict[str, Any]:
    """The option ECharts is drawing, read from the live chart instance."""
    option: dict[str, Any] = page.evaluate(
        """(id) => {
            const chart = echarts.getInstanceByDom(document.getElementById(id));
            const option = chart.getOption();
            return {series: option.series.map(s => ({id: s.id, data: s.data})),
                    yAxis: (option.yAxis || []).map(a => ({data: a.data}))};
        }""",
        f"chart-{chart}",
    )
    return option


def series_values(option: dict[str, Any], series_id: str) -> list[float]:
    series = next(s for s in option["series"] if s["id"] == series_id)
    return [d["value"] if isinstance(d, dict) else d for d in series["data"]]


def sign_in(context: BrowserContext, base_url: str, key: str) -> Page:
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(f"{base_url}/")
    expect(page).to_have_url(f"{base_url}/sign-in?next=%2F")
    page.fill("#api-key", key)
    page.click("form[action='/sign-in'] button[type=submit]")
    expect(page.locator("h1")).to_have_text("Các lô dữ liệu")
    return page


def shoot(page: Page, folder: Path, name: str, *, publish: bool = False, full: bool = True) -> None:
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=full)
    if publish:
        publish_screenshot(path)


@pytest.fixture(scope="module")
def context(browser: Browser) -> Iterator[BrowserContext]:
    opened = browser.new_context(viewport=DESKTOP, accept_downloads=True, locale="vi-VN")
    yield opened
    opened.close()


@pytest.fixture(scope="module")
def uploaded(
    context: BrowserContext, dashboard: Service, survey_csv: Path, screenshot_dir: Path
) -> dict[str, Any]:
    """Upload the survey through the page and wait for the progress bar to finish."""
    assert dashboard.api_key is not None
    page = sign_in(context, dashboard.base_url, dashboard.api_key)
    shoot(page, screenshot_dir, "01-batches-empty")
    page.set_input_files("#upload-file", str(survey_csv))
    # The preview reads the file's head and guesses the columns.
    expect(page.locator("#text-column")).to_have_value("comment")
    expect(page.locator("#score-column")).to_have_value("nps")
    expect(page.locator("#date-column")).to_have_value("date")
    expect(page.locator(".preview th.is-text")).to_have_text("comment")
    page.fill("#batch-name", "Khảo sát khách hàng Q3")
    shoot(page, screenshot_dir, "02-upload-preview")
    page.click("#upload-form button[type=submit]")
    panel = page.locator(".progress-panel")
    expect(panel).to_be_visible()
    expect(panel.get_by_role("progressbar")).to_have_attribute("aria-valuemin", "0")
    expect(page.locator(".progress-panel[data-status=done]")).to_be_visible(timeout=TIMEOUT_MS)
    expect(panel.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "100")
    # The list refreshed itself: the new batch is done, with its sentiment sparkline.
    row = page.locator("#batches tbody tr").first
    expect(row).to_have_attribute("data-status", "done")
    expect(row.locator(".spark")).to_be_visible()
    shoot(page, screenshot_dir, "03-batches-done")
    batch_id = (row.get_attribute("id") or "").removeprefix("batch-")
    page.close()
    return {"id": batch_id}


@pytest.fixture
def page(context: BrowserContext) -> Iterator[Page]:
    opened = context.new_page()
    opened.set_default_timeout(TIMEOUT_MS)
    yield opened
    opened.close()


def open_overview(page: Page, base_url: str, batch_id: str, query: str = "") -> None:
    page.goto(f"{base_url}/batches/{batch_id}{query}")
    for chart in ("sentiment", "topics", "drivers", "trend"):
        expect(page.locator(f"#chart-{chart}")).to_have_attribute("data-rendered", "true")


def test_charts_draw_the_api_breakdown(
    page: Page,
    dashboard: Service,
    api: httpx.Client,
    uploaded: dict[str, Any],
    screenshot_dir: Path,
) -> None:
    batch_id = uploaded["id"]
    breakdown = api.get(f"/v1/batches/{batch_id}/breakdown").raise_for_status().json()
    open_overview(page, dashboard.base_url, batch_id)
    # README's picture: the headline numbers and the first charts, at a laptop's size.
    page.set_viewport_size({"width": 1280, "height": 1180})
    page.wait_for_timeout(300)  # the charts redraw on resize
    shoot(page, screenshot_dir, "overview", publish=True, full=False)
    page.set_viewport_size(DESKTOP)
    shoot(page, screenshot_dir, "04-overview-full")

    topics = chart_option(page, "topics")
    for polarity in ("positive", "neutral", "negative"):
        assert series_values(topics, polarity) == [
            row["polarity"][polarity] for row in breakdown["topics"]
        ]
    sentiment = chart_option(page, "sentiment")
    drawn = dict(
        zip(("negative", "neutral", "positive"), series_values(sentiment, "sentiment"), strict=True)
    )
    assert drawn == breakdown["sentiment"]
    # Driver impact: the costliest topic first, values as the API computed them.
    impact = {row["topic"]: row["impact"] for row in breakdown["score"]["driver_impact"]}
    drawn_impact = series_values(chart_option(page, "drivers"), "impact")
    assert drawn_impact == sorted(drawn_impact)
    assert sorted(drawn_impact) == sorted(
        value
        for row in breakdown["score"]["driver_impact"]
        if row["mentions"] > 0
        for value in [impact[row["topic"]]]
    )
    nps = breakdown["score"]["summary"]["nps"]
    expect(page.locator("[data-kpi=nps] .kpi-value")).to_have_text(f"{nps:+.0f}".replace("-", "−"))
    expect(page.locator("[data-kpi=comments] .kpi-value")).to_have_text(str(breakdown["rows"]))
    # The page's JSON twin is the API's breakdown.
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    twin = httpx.get(f"{dashboard.base_url}/batches/{batch_id}.json", cookies=cookies)
    assert twin.json() == breakdown


def test_clicking_a_topic_bar_opens_its_comments_highlighted(
    page: Page,
    dashboard: Service,
    api: httpx.Client,
    uploaded: dict[str, Any],
    screenshot_dir: Path,
) -> None:
    batch_id = uploaded["id"]
    breakdown = api.get(f"/v1/batches/{batch_id}/breakdown").raise_for_status().json()
    process = next(row for row in breakdown["topics"] if row["topic"] == "process")
    expected = process["polarity"]["negative"]
    assert expected > 0
    open_overview(page, dashboard.base_url, batch_id)
    # A real mouse click on the canvas, at the middle of the process/negative bar.
    index = [row["topic"] for row in breakdown["topics"]].index("process")
    page.locator("#chart-topics").scroll_into_view_if_needed()
    point = page.evaluate(
        """([index, value]) => {
            const el = document.getElementById('chart-topics');
            const chart = echarts.getInstanceByDom(el);
            const [x, y] = chart.convertToPixel({seriesId: 'negative'}, [value / 2, index]);
            const box = el.getBoundingClientRect();
            return {x: box.left + x, y: box.top + y};
        }""",
        [index, expected],
    )
    page.mouse.click(point["x"], point["y"])
    page.wait_for_url("**/comments?*topic=process*")
    assert "polarity=negative" in page.url
    expect(page.locator("#comments-count")).to_contain_text(str(expected))
    items = page.locator(".comment")
    expect(items.first).to_be_visible()
    api_page = (
        api.get(
            f"/v1/batches/{batch_id}/comments",
            params={"topic": "process", "polarity": "negative"},
        )
        .raise_for_status()
        .json()
    )
    assert api_page["total"] == expected
    assert items.count() == min(expected, 20)
    for index in range(items.count()):
        badge = items.nth(index).locator("[data-badge=topic][data-topic=process]")
        expect(badge).to_have_attribute("data-polarity", "negative")
    assert page.locator(".comment mark.ev").count() > 0
    first = api_page["items"][0]
    expect(items.first).to_have_attribute("data-row", str(first["row_no"]))
    if first["highlights"]:
        span = first["highlights"][0]
        expect(items.first.locator(f"mark[data-topic={span['topic']}]").first).to_have_text(
            span["text"]
        )
    # Sorting by detractor probability puts the likeliest detractor first.
    page.select_option("#sort", "detractor")
    page.wait_for_url("**sort=detractor**")
    by_risk = (
        api.get(
            f"/v1/batches/{batch_id}/comments",
            params={"topic": "process", "polarity": "negative", "sort": "detractor"},
        )
        .raise_for_status()
        .json()
    )
    expect(page.locator(".comment").first).to_have_attribute(
        "data-row", str(by_risk["items"][0]["row_no"])
    )
    shoot(page, screenshot_dir, "drilldown", publish=True, full=False)
    # Search narrows the list to comments containing the words (accents optional).
    page.fill("#q", "cho")
    page.wait_for_url("**q=cho**")
    searched = (
        api.get(
            f"/v1/batches/{batch_id}/comments",
            params={"topic": "process", "polarity": "negative", "sort": "detractor", "q": "cho"},
        )
        .raise_for_status()
        .json()
    )
    expect(page.locator("#comments-count")).to_contain_text(str(searched["total"]))


def test_a_filter_redraws_every_chart_and_exports_the_filtered_view(
    tmp_path: Path,
    page: Page,
    dashboard: Service,
    api: httpx.Client,
    uploaded: dict[str, Any],
    screenshot_dir: Path,
) -> None:
    batch_id = uploaded["id"]
    open_overview(page, dashboard.base_url, batch_id)
    page.get_by_label("branch").select_option("branch:Quận 1")
    page.wait_for_url("**filter=branch*")
    filtered = (
        api.get(f"/v1/batches/{batch_id}/breakdown", params={"filter": "branch:Quận 1"})
        .raise_for_status()
        .json()
    )
    assert 0 < filtered["rows"] < filtered["rows_total"]
    expect(page.locator("[data-kpi=comments] .kpi-value")).to_have_text(str(filtered["rows"]))
    for chart in ("sentiment", "topics", "drivers", "trend"):
        expect(page.locator(f"#chart-{chart}")).to_have_attribute("data-rendered", "true")
    topics = chart_option(page, "topics")
    assert series_values(topics, "negative") == [
        row["polarity"]["negative"] for row in filtered["topics"]
    ]
    trend_total = sum(
        sum(series_values(chart_option(page, "trend"), key))
        for key in ("positive", "neutral", "negative")
    )
    assert trend_total == sum(filtered["sentiment"].values())
    shoot(page, screenshot_dir, "05-overview-filtered")

    with page.expect_download() as csv_download:
        page.click("#overview-body a:has-text('Xuất CSV')")
    content = Path(csv_download.value.path()).read_bytes()
    assert content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))
    assert len(rows) == filtered["rows"]
    assert {row["branch"] for row in rows} == {"Quận 1"}

    with page.expect_download() as xlsx_download:
        page.click("#overview-body a:has-text('Xuất XLSX')")
    workbook_path = tmp_path / "export.xlsx"
    xlsx_download.value.save_as(workbook_path)
    workbook = load_workbook(workbook_path, read_only=True)
    sheet_rows = list(workbook.worksheets[0].iter_rows(values_only=True))
    workbook.close()
    assert len(sheet_rows) == filtered["rows"] + 1  # header + the filtered rows

    with page.expect_download() as png_download:
        page.click("button[data-png=chart-topics]")
    assert png_download.value.suggested_filename.endswith("-topics.png")
    assert Path(png_download.value.path()).read_bytes().startswith(b"\x89PNG")


def test_english_labels_are_remembered_and_pages_fit_a_phone(
    browser: Browser, dashboard: Service, uploaded: dict[str, Any], screenshot_dir: Path
) -> None:
    assert dashboard.api_key is not None
    phone = browser.new_context(viewport=PHONE, device_scale_factor=1, is_mobile=True)
    try:
        page = sign_in(phone, dashboard.base_url, dashboard.api_key)
        page.goto(f"{dashboard.base_url}/batches/{uploaded['id']}?lang=en")
        expect(page.locator("html")).to_have_attribute("lang", "en")
        expect(page.locator("#chart-topics-title")).to_have_text("7P by sentiment")
        page.goto(f"{dashboard.base_url}/")
        expect(page.locator("h1")).to_have_text("Batches")  # the cookie remembered English
        page.goto(f"{dashboard.base_url}/batches/{uploaded['id']}")
        expect(page.locator("#chart-topics")).to_have_attribute("data-rendered", "true")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"]  # nothing forces sideways scrolling on a phone
        shoot(page, screenshot_dir, "06-overview-phone")
        page.goto(f"{dashboard.base_url}/batches/{uploaded['id']}/comments?topic=price")
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        shoot(page, screenshot_dir, "07-comments-phone")
    finally:
        phone.close()


def test_upload_errors_show_the_api_message(
    page: Page, dashboard: Service, survey_csv: Path, uploaded: dict[str, Any]
) -> None:
    page.goto(f"{dashboard.base_url}/")
    page.set_input_files("#upload-file", str(survey_csv))
    expect(page.locator("#score-column")).to_have_value("nps")
    page.select_option("#score-column", "branch")  # branch names are not scores
    page.click("#upload-form button[type=submit]")
    alert = page.locator("#upload-error [role=alert]")
    expect(alert).to_be_visible()
    expect(alert).to_contain_text("E106_score_out_of_range")
    expect(alert).to_contain_text("'branch' holds no numeric scores")
    # The form keeps the chosen file and columns, ready to fix and resend.
    expect(page.locator("#text-column")).to_have_value("comment")
