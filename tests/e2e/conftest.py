"""The browser of the browser suite."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, sync_playwright

from facturo.testing import launch_chromium


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Chromium for the tests of one module (Debian's, see ``launch_chromium``). Not one per
    session: while Playwright's sync API runs, its event loop counts as running in this
    thread, and ``asyncio.run`` (which ``AppClient`` uses) refuses to start."""
    with sync_playwright() as playwright:
        launched = launch_chromium(playwright)
        yield launched
        launched.close()
