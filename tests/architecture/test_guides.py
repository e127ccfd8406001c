"""The guides' code is the example plugins' code: every code block in docs/writing-a-*.md is
preceded by ``<!-- code: PATH#REGION -->`` and equals that region of the file (dedented), and
every region of the examples is shown somewhere. Regenerate the blocks with
``python tests/architecture/test_guides.py``."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
GUIDES = sorted((REPO / "docs").glob("writing-a-*.md"))
BLOCK = re.compile(r"(?:<!-- code: (?P<ref>\S+) -->\n)?```(?P<lang>\w*)\n(?P<code>.*?)```", re.S)
REGION = re.compile(
    r"^[ \t]*# region: (?P<name>[\w-]+)\n(?P<body>.*?)^[ \t]*# endregion", re.M | re.S
)


def regions(path: Path) -> dict[str, str]:
    """Every ``# region: NAME`` … ``# endregion`` of ``path``, dedented."""
    text = path.read_text(encoding="utf-8")
    return {m["name"]: textwrap.dedent(m["body"]).rstrip() + "\n" for m in REGION.finditer(text)}


def region(ref: str) -> str:
    path, _, name = ref.partition("#")
    found = regions(REPO / path)
    assert name in found, f"{ref}: no such region"
    return found[name]


def regenerate(text: str) -> str:
    """``text`` with every referenced block replaced by its region's current code."""

    def replace(match: re.Match[str]) -> str:
        if not match["ref"]:
            return match[0]
        return f"<!-- code: {match['ref']} -->\n```{match['lang']}\n{region(match['ref'])}```"

    return BLOCK.sub(replace, text)


def test_there_are_two_guides_linked_from_the_readme() -> None:
    names = [guide.name for guide in GUIDES]
    assert names == ["writing-a-gateway.md", "writing-a-provisioner.md"]
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for name in names:
        assert f"(docs/{name})" in readme


def test_every_code_block_is_a_region_of_an_example() -> None:
    for guide in GUIDES:
        for match in BLOCK.finditer(guide.read_text(encoding="utf-8")):
            assert match["ref"], f"{guide.name}: a code block without <!-- code: ... -->"
            assert match["code"] == region(match["ref"]), (
                f"{guide.name}: the block for {match['ref']} differs from the example; "
                "run python tests/architecture/test_guides.py"
            )


def test_every_region_of_the_examples_is_in_a_guide() -> None:
    shown = {m["ref"] for g in GUIDES for m in BLOCK.finditer(g.read_text()) if m["ref"]}
    for path in sorted((REPO / "examples").rglob("*")):
        if path.suffix in (".py", ".toml") and not {"__pycache__", "build"} & set(path.parts):
            for name in regions(path):
                ref = f"{path.relative_to(REPO)}#{name}"
                assert ref in shown, f"{ref} is not shown in any guide"


if __name__ == "__main__":
    for guide in GUIDES:
        guide.write_text(regenerate(guide.read_text(encoding="utf-8")), encoding="utf-8")
