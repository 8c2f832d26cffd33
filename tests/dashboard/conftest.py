"""Fixtures for the dashboard tests: a real `vicx serve`, a real survey file, a real browser.

The browser is Debian's chromium (``/usr/bin/chromium``) driven by Python Playwright through
``executable_path``; Playwright never downloads a browser here. Without chromium the browser
tests skip with the reason.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest

from tests.conftest import REPO
from tests.service.conftest import Service, service_env

CHROMIUM = Path(os.environ.get("VICX_CHROMIUM", "/usr/bin/chromium"))
#: Screenshots land here (a test artifact); README's copies live in docs/screenshots and are
#: refreshed by running the browser tests with VICX_UPDATE_SCREENSHOTS=1.
SCREENSHOTS_ENV = "VICX_SCREENSHOT_DIR"
README_SCREENSHOTS = REPO / "docs" / "screenshots"

BRANCHES = ("Quận 1", "Quận 3", "Thủ Đức", "Cầu Giấy", "Hải Châu")
CHANNELS = ("Tại cửa hàng", "App", "Giao hàng")
INDUSTRIES = ("restaurant", "cafe", "retail", "ecommerce", "fashion", "hotel")


def write_survey(path: Path) -> int:
    """A survey export as a CX team would upload it: the team-written gold comments of six
    consumer industries with their NPS, spread over branches, channels and four months."""
    comments = [
        json.loads(line)
        for name in ("gold_a.jsonl", "gold_b.jsonl")
        for line in (REPO / "data" / "gold" / name).read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    chosen = [c for c in comments if c["industry"] in INDUSTRIES]
    start = date(2026, 7, 1)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "branch", "channel", "date", "nps", "comment"])
        for index, comment in enumerate(chosen):
            writer.writerow(
                [
                    index + 1,
                    BRANCHES[(index * 7) % len(BRANCHES)],
                    CHANNELS[(index * 5) % len(CHANNELS)],
                    (start + timedelta(days=(index * 13) % 120)).isoformat(),
                    comment["nps"],
                    comment["text"],
                ]
            )
    return len(chosen)


@pytest.fixture(scope="session")
def survey_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("survey") / "khao_sat_q3.csv"
    write_survey(path)
    return path


@pytest.fixture(scope="session")
def dashboard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """One server for the dashboard tests, with a key of its own."""
    data_dir = tmp_path_factory.mktemp("dashboard") / "data"
    data_dir.mkdir(parents=True)
    running = Service(data_dir=data_dir, env=service_env(data_dir))
    running.api_key = running.create_key("dashboard-tests")
    running.start()
    yield running
    running.stop()


@pytest.fixture
def api(dashboard: Service) -> Iterator[httpx.Client]:
    with dashboard.client() as client:
        yield client


@pytest.fixture(scope="session")
def screenshot_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    chosen = os.environ.get(SCREENSHOTS_ENV)
    folder = Path(chosen) if chosen else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def publish_screenshot(source: Path) -> None:
    """Copy a screenshot to docs/screenshots when asked to refresh README's images."""
    if os.environ.get("VICX_UPDATE_SCREENSHOTS") == "1":
        README_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, README_SCREENSHOTS / source.name)


# Module scope, not session: Playwright's sync API keeps an asyncio loop running in the main
# thread while it is open, which breaks later tests that call asyncio.run().
@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not CHROMIUM.is_file():
        pytest.skip(
            f"no chromium at {CHROMIUM}: `apt-get install -y chromium` (the browser tests drive "
            "Debian's chromium; Playwright never downloads one)"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield launched
        launched.close()
