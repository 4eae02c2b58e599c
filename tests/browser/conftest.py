"""Browser tests: Debian's chromium, driven by Playwright (sync API), against pytest-django's
live server.

Only Debian's chromium is used (never a browser downloaded by ``playwright install``). Without it
the tests are skipped, unless ``YIMATONG_REQUIRE_BROWSER=1`` (CI), where that is an error.

Playwright's sync API keeps an asyncio event loop running in the test thread, which makes
Django refuse ORM calls from that thread; the tests call the ORM to build data and to check
what was saved, hence ``DJANGO_ALLOW_ASYNC_UNSAFE`` below.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Callable, Generator
from pathlib import Path
from typing import Any

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

import pytest
from django.conf import settings
from django.test import Client

from tests.conftest import Park
from yimatong.accounts.models import User

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
CHROMIUM_MISSING = "Debian chromium not installed: apt-get install chromium fonts-wqy-microhei"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
# Generous for a loaded CI machine running ``-n auto``; nothing waits this long when all is well.
TIMEOUT_MS = 15_000


def _unavailable(reason: str) -> None:
    if os.environ.get("YIMATONG_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{reason} (YIMATONG_REQUIRE_BROWSER=1 requires the browser tests to run)", pytrace=False)
    pytest.skip(reason)


def _require_chromium() -> None:
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        _unavailable(CHROMIUM_MISSING)


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Skip (or fail) before any fixture runs: no live server or database for nothing."""
    _require_chromium()


@pytest.fixture(scope="module")
def browser() -> Generator[Any]:
    """One headless chromium per test module (and per xdist worker).

    Module scope rather than session scope: Playwright's event loop counts as "running" in
    this thread until Playwright stops, and the tests that run after this module should not
    see it.
    """
    _require_chromium()
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError:
        _unavailable("Playwright for Python is not installed: pip install -r requirements/dev.txt")
    expect.set_options(timeout=TIMEOUT_MS)
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Generator[None, Any, Any]:
    """Keep each phase's report on the test item, so ``page`` can tell that the test failed."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture
def context(browser: Any) -> Generator[Any]:
    """A fresh browser profile (no cookies) per test. The browser asks for English
    (Accept-Language: en-US), as an office PC with an English Windows would."""
    ctx = browser.new_context(
        locale="en-US", timezone_id=settings.TIME_ZONE, viewport={"width": 1280, "height": 900}
    )
    ctx.set_default_timeout(TIMEOUT_MS)
    try:
        yield ctx
    finally:
        ctx.close()


# Every page reports what its Content-Security-Policy refused: chromium logs it on the console
# and fires securitypolicyviolation, which this script (run before the page's own) logs too.
REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (e) => {
  console.error(`Content Security Policy violation: ${e.violatedDirective} blocked ${e.blockedURI || "inline"} ` +
    `at ${e.sourceFile}:${e.lineNumber} on ${document.location.pathname}: ${e.sample}`);
});
"""


@pytest.fixture
def csp_violations() -> list[str]:
    """What the Content-Security-Policy refused on the test's pages (the ``page`` fixture fails
    the test when anything is left here at its end)."""
    return []


@pytest.fixture
def page(context: Any, request: pytest.FixtureRequest, csp_violations: list[str]) -> Generator[Any]:
    """A page; if the test fails, its last state is saved to var/screenshots/failed-<test>.png.
    A test that passes while the Content-Security-Policy refused something still fails."""
    tab = context.new_page()
    tab.add_init_script(REPORT_CSP_VIOLATIONS)
    tab.on(
        "console",
        lambda message: (
            csp_violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    yield tab
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^\w.-]+", "_", request.node.name)
        with contextlib.suppress(Exception):  # a diagnostic must not hide the real failure
            tab.screenshot(path=str(SCREENSHOTS / f"failed-{name}.png"), full_page=True)
    elif csp_violations:
        pytest.fail("Content-Security-Policy violations:\n" + "\n".join(csp_violations), pytrace=False)


@pytest.fixture
def live_park(transactional_db: None, live_server: Any, park: Park) -> Park:
    """The suite's park (tests/conftest.py), committed so the live server's threads see it."""
    return park


@pytest.fixture
def sign_in(context: Any, live_server: Any) -> Callable[[User], None]:
    """``sign_in(user)``: give the browser a session for ``user`` without going through the
    login form (that form has its own test)."""

    def sign_in_as(user: User) -> None:
        client = Client()
        client.force_login(user)
        session = client.cookies[settings.SESSION_COOKIE_NAME].value
        context.add_cookies(
            [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}]
        )

    return sign_in_as
