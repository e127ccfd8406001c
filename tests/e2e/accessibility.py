"""axe-core (bundled by axe-playwright-python) run on a page open in Playwright."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import axe_playwright_python
from playwright.sync_api import BrowserContext, Page

#: The impacts that fail a test.
BLOCKING = frozenset({"serious", "critical"})
AXE_SOURCE = (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text("utf-8")
#: Only violations get every node listed; passes and the rest are summarised (faster).
AXE_OPTIONS = json.dumps({"resultTypes": ["violations"]})


def preload_axe(context: BrowserContext) -> None:
    """Load axe into every page ``context`` opens from now on. Chromium then compiles the
    500 kB script once per renderer instead of once per page checked."""
    context.add_init_script(script=AXE_SOURCE)


def serious_violations(page: Page) -> list[str]:
    """axe's serious and critical violations on ``page``, one line each (rule, impact, where)."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE_SOURCE)
    results: dict[str, Any] = page.evaluate(f"axe.run(document, {AXE_OPTIONS})")
    found = []
    for violation in results.get("violations", []):
        if violation.get("impact") not in BLOCKING:
            continue
        targets = [
            " ".join(str(part) for part in node.get("target", []))
            for node in violation.get("nodes", [])[:3]
        ]
        found.append(f"{violation['id']} ({violation['impact']}): {', '.join(targets)}")
    return found


def assert_accessible(page: Page) -> None:
    """Fail with axe's findings when the page has a serious or critical violation."""
    found = serious_violations(page)
    assert not found, f"{page.url}\n" + "\n".join(found)
