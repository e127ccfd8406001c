"""axe-core (bundled by axe-playwright-python) run on a page open in Playwright."""

from __future__ import annotations

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page

#: The impacts that fail a test.
BLOCKING = frozenset({"serious", "critical"})
_AXE = Axe()


def serious_violations(page: Page) -> list[str]:
    """axe's serious and critical violations on ``page``, one line each (rule, impact, where)."""
    results = _AXE.run(page)
    found = []
    for violation in results.response.get("violations", []):
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
