"""The dashboard in a real headless Chromium against a real HTTP server: sign in, read, look."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from dashboard_world import NOW, spring
from playwright.sync_api import Page, sync_playwright

from clarion.api.app import create_app
from clarion.auth.contracts import Workspace
from clarion.core.clock import SimulatedClock
from clarion.instance import Instance

WAIT_S = 20
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "dashboard"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1366, "height": 900}


@pytest.fixture
def clock() -> SimulatedClock:
    return SimulatedClock(NOW)


@pytest.fixture
def chromium() -> str:
    """Debian's Chromium, or a clear failure; CLARION_SKIP_BROWSER=1 skips locally, never in CI."""
    if os.environ.get("CLARION_SKIP_BROWSER") == "1":
        if os.environ.get("CI"):
            pytest.fail(
                "CLARION_SKIP_BROWSER=1 is not allowed in CI: the dashboard is always tested"
            )
        pytest.skip("CLARION_SKIP_BROWSER=1: the real-browser dashboard test was skipped")
    for candidate in ("/usr/bin/chromium", shutil.which("chromium")):
        if candidate and Path(candidate).exists():
            return candidate
    pytest.fail("Chromium was not found at /usr/bin/chromium: run scripts/ensure-chromium.sh")


@pytest.fixture
def server(instance: Instance) -> Iterator[str]:
    """The app served by uvicorn on a free loopback port, in this process."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    config = uvicorn.Config(create_app(instance), host="127.0.0.1", port=port, log_level="warning")
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + WAIT_S
    while not running.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    running.should_exit = True
    thread.join(WAIT_S)


def _watch(page: Page) -> list[str]:
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    return problems


@pytest.mark.parametrize("app_store_url", ["sqlite"], indirect=True)
def test_the_dashboard_in_chromium(
    chromium: str, server: str, instance: Instance, workspace: Workspace, secret_key: str
) -> None:
    spring(instance, workspace.id)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium, args=CHROMIUM_ARGS, headless=True, timeout=WAIT_S * 1000
        )
        try:
            context = browser.new_context(viewport=LAPTOP)
            page = context.new_page()
            page.set_default_timeout(WAIT_S * 1000)
            problems = _watch(page)

            page.goto(f"{server}/dashboard/")
            assert page.url.endswith("/dashboard/login")  # no session: the sign-in form
            page.screenshot(path=str(ARTIFACTS / "login.png"), full_page=True)
            page.fill("input[name=key]", secret_key)
            page.select_option("select[name=role]", "analyst")
            page.click("button[type=submit]")
            page.wait_for_url(f"{server}/dashboard/")
            assert page.locator("text=Spring launch").is_visible()
            assert not any(c["name"] == "clarion_login" for c in context.cookies())
            session = next(c for c in context.cookies() if c["name"] == "clarion_session")
            assert session["httpOnly"] and session["sameSite"] == "Strict"
            assert page.evaluate("document.cookie") == ""  # script cannot read the session
            page.screenshot(path=str(ARTIFACTS / "campaigns.png"), full_page=True)

            page.click("text=Spring launch")
            page.wait_for_url(f"{server}/dashboard/campaigns/spring")
            tiles = page.locator(".tile")
            assert tiles.count() == 4
            for i in range(4):
                assert tiles.nth(i).is_visible()
            charts = page.locator("svg.chart")
            assert charts.count() == 5
            for i in range(5):
                box = charts.nth(i).bounding_box()
                assert box is not None and box["width"] > 200 and box["height"] > 50
            assert page.locator(".verdict").is_visible()
            page.screenshot(path=str(ARTIFACTS / "campaign-laptop.png"), full_page=True)

            page.set_viewport_size(PHONE)
            page.reload()
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= PHONE["width"], "the page scrolls sideways on a phone"
            assert tiles.first.is_visible()
            page.screenshot(path=str(ARTIFACTS / "campaign-phone.png"), full_page=True)

            page.click("text=Sign out")
            page.wait_for_url(f"{server}/dashboard/login")
            assert problems == [], problems
        finally:
            browser.close()
