"""The core's layout is its architecture: no import cycles, small modules."""

from __future__ import annotations

from pathlib import Path

import facturo
from tests.architecture.imports import find_cycle, import_graph

CORE = Path(facturo.__file__).resolve().parent
MAX_LINES = 500


def test_the_core_has_no_import_cycle() -> None:
    graph = import_graph(CORE)
    assert "facturo.billing.documents" in graph  # the walk really read the package
    assert find_cycle(graph) is None, " → ".join(find_cycle(graph) or [])


def test_no_core_module_is_over_five_hundred_lines() -> None:
    too_long = {
        str(path.relative_to(CORE)): lines
        for path in CORE.rglob("*.py")
        if "versions" not in path.parts
        and (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert not too_long
