"""Debian's headless Chromium, one instance for the whole run.

A pytest plugin loaded by tests/conftest.py, not a conftest of one folder: a
test outside tests/browser/ (the two-version badge in tests/cluster/) needs the
same browser, and importing the fixture there would make a second session
fixture, whose second Playwright start fails inside the first one's event loop.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = Path(os.environ.get("KDOCS_CHROMIUM", "/usr/bin/chromium"))
# Flags for a closed network: no background connections, no first-run work.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(
        permissions=["clipboard-read", "clipboard-write"], viewport={"width": 1280, "height": 900}
    )
    tab = context.new_page()
    yield tab
    context.close()
