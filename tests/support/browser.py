"""Headless Debian Chromium through Playwright's sync API (never ``playwright install``).

Fixtures (import them into a suite's ``conftest.py``):

- ``browser``: one Chromium per test package. Package scope on purpose: while Playwright's sync
  API is alive it keeps an asyncio loop marked as running in the test thread, which makes
  Django's ORM raise ``SynchronousOnlyOperation`` and pytest-asyncio fail ("another loop is
  running") in any test that happens to run after it. So the browser, and
  ``DJANGO_ALLOW_ASYNC_UNSAFE`` (needed by the ORM calls of browser tests), live only as long as
  the package that uses them.
- ``page``: a fresh context (cookies) and page per test; its console output, page errors and
  navigations are added to the report if the test fails.

Helpers: :func:`close_context` (bounded), :func:`login`, :func:`wait_until_live`,
:func:`mark_page` / :func:`assert_same_page` (prove that something changed without a navigation or
reload).
"""

from __future__ import annotations

import asyncio
import logging
import os
import uuid
from pathlib import Path

import pytest

from .fixtures import attach_log, require

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    # Web calls: a fake microphone (a tone) instead of a device; a context still needs the
    # microphone permission granted (without it getUserMedia is refused, as a user would).
    "--use-fake-device-for-media-stream",
    # The remote side of a call plays without a click first (an agent has clicked long before).
    "--autoplay-policy=no-user-gesture-required",
]
# Longer than the desktop's 20 s heartbeat: the channel layer is a doorbell that may drop a ring,
# and the page's catch-up on the next heartbeat is the designed recovery, not a failure.
TIMEOUT_MS = 30_000
# A context's close normally takes milliseconds. Twice in a few hundred suite runs (never when the
# test ran alone) Chromium did not answer it and the teardown hung until pytest-timeout failed
# the test; a context left open costs nothing once its test is over, so the wait is bounded.
CLOSE_TIMEOUT_S = 20

log = logging.getLogger(__name__)


@pytest.fixture(scope="package")
def browser():
    require(Path(CHROMIUM).exists(), f"Chromium not found at {CHROMIUM}")
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError:  # pragma: no cover
        require(False, "playwright (Python) is not installed")
    expect.set_options(timeout=TIMEOUT_MS)
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            close_bounded(chromium)
    finally:
        playwright.stop()
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(request, browser):
    context = browser.new_context()
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    console: list[str] = []
    page.on("console", lambda message: console.append(f"console.{message.type}: {message.text}"))
    page.on("pageerror", lambda error: console.append(f"pageerror: {error}"))

    def navigated(frame) -> None:
        if frame == page.main_frame:
            console.append(f"navigated: {frame.url}")

    page.on("framenavigated", navigated)
    attach_log(request, "browser console", lambda: "\n".join(console) or "(nothing)")
    yield page
    close_context(context)


def close_bounded(closable) -> None:
    """Close a Playwright browser or browser context, waiting at most ``CLOSE_TIMEOUT_S`` for
    Chromium (a browser left open is killed with the Playwright driver when it stops)."""
    try:
        closable._sync(asyncio.wait_for(closable._impl_obj.close(reason=None), CLOSE_TIMEOUT_S))
    except TimeoutError:
        log.warning("Chromium did not close %r in %s s; left open", closable, CLOSE_TIMEOUT_S)


close_context = close_bounded


def login(page, base_url: str, username: str, password: str = "password") -> None:
    """Log in through the login form and land on the desktop, its websocket live."""
    page.goto(f"{base_url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{base_url}/")
    wait_until_live(page)


def wait_until_live(page) -> None:
    """The desktop's websocket said hello and got ``ready`` (replay done, streaming live)."""
    from playwright.sync_api import expect

    expect(page.locator("body")).to_have_attribute("data-connection", "live")


def mark_page(page) -> str:
    """Put a marker in the current document; it disappears with any navigation or reload."""
    token = uuid.uuid4().hex
    page.evaluate("token => { window.__marker = token; }", token)
    return token


def assert_same_page(page, token: str) -> None:
    assert page.evaluate("() => window.__marker") == token, "the page navigated or reloaded"
