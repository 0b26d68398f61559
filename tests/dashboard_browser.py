"""Drive Superset's dashboards in Debian's headless Chromium (Playwright with the system browser):
log in, open a dashboard, wait until every chart has rendered, read what is on screen, screenshot.

Shared by the browser test and `bench/dashboards.py`. Playwright's own browser download is not
reachable here, so it launches `/usr/bin/chromium` with the flags a closed network needs.
"""

from __future__ import annotations

import time
from pathlib import Path

from playwright.sync_api import Locator, Page, Playwright

CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
CHART = ".dashboard-component-chart-holder"
ERRORS = "[data-test=error-message], .alert-danger, .ant-alert-error"


class DashboardBrowser:
    """One logged-in browser session against one Superset."""

    def __init__(self, playwright: Playwright, chromium: Path, base_url: str, screenshots: Path) -> None:
        self._browser = playwright.chromium.launch(executable_path=str(chromium), args=CHROMIUM_FLAGS)
        self.page: Page = self._browser.new_page(viewport={"width": 1600, "height": 2200})
        self._base = base_url
        self._shots = screenshots
        self._shots.mkdir(parents=True, exist_ok=True)

    def login(self, username: str, password: str) -> None:
        self.page.goto(f"{self._base}/login/")
        self.page.fill("[data-test=username-input]", username)
        self.page.fill("[data-test=password-input]", password)
        self.page.click("[data-test=login-button]")
        self.page.wait_for_url(lambda url: "/login" not in url, timeout=60_000)

    def open(self, slug: str) -> int:
        """Open a dashboard, wait until every chart has rendered, screenshot it; returns the charts."""
        self._load(slug)
        self.page.wait_for_timeout(1500)  # ECharts draws lines with a 1 s animation: screenshot the end state
        self.page.screenshot(path=str(self._shots / f"{slug}.png"), full_page=True)
        return self.page.locator(CHART).count()

    def timed_open(self, slug: str) -> float:
        """Seconds from navigation until every chart has rendered (no screenshot)."""
        start = time.perf_counter()
        self._load(slug)
        return time.perf_counter() - start

    def _load(self, slug: str) -> None:
        self.page.goto(f"{self._base}/superset/dashboard/{slug}/")
        self.page.wait_for_selector(CHART, timeout=120_000)
        self.page.wait_for_load_state("networkidle", timeout=120_000)
        self.page.wait_for_function("document.querySelectorAll('.loading').length === 0", timeout=120_000)

    def errors(self) -> list[str]:
        """The text of every error shown on the page (a failed chart query shows one)."""
        return [text.strip() for text in self.page.locator(ERRORS).all_inner_texts()]

    def chart(self, title: str) -> Locator:
        return self.page.locator(CHART).filter(has_text=title).first

    def big_number(self, title: str) -> str:
        """The number a big-number chart shows, as on screen."""
        return self.chart(title).locator(".header-line").inner_text().strip()

    def table_rows(self, title: str) -> list[list[str]]:
        """The cells of a table chart, row by row, as on screen."""
        rows = self.chart(title).locator("table tbody tr")
        return [[cell.strip() for cell in row.locator("td").all_inner_texts()] for row in rows.all()]

    def close(self) -> None:
        self._browser.close()
