from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def python_blocks(text: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", text, flags=re.DOTALL)


def test_readme_has_exactly_one_runnable_example() -> None:
    blocks = python_blocks(README.read_text(encoding="utf-8"))
    assert len(blocks) == 1
    assert "verify_lease(" in blocks[0]


def test_readme_worked_example_runs() -> None:
    example = python_blocks(README.read_text(encoding="utf-8"))[0]
    namespace: dict[str, object] = {}
    exec(compile(example, str(README), "exec"), namespace)
    # The example ends having checked an expired lease; make sure it got that far.
    assert namespace["late"].code == "LEASE_EXPIRED"  # type: ignore[attr-defined]
