"""``facturo plugin new``: a plugin project generated from the example plugins.

The examples under ``examples/`` are copied and renamed, so a scaffold, the examples and the
guides' code are one code: what the guides explain is what the tests run is what you get.
The first migration's ``depends_on`` is set to the core's newest revision at generation time.
"""

from __future__ import annotations

import keyword
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

__all__ = ["EXAMPLES", "KINDS", "ScaffoldError", "Source", "examples_dir", "new_plugin"]


class ScaffoldError(Exception):
    """The plugin cannot be generated (bad name, target exists, examples missing)."""


@dataclass(frozen=True)
class Source:
    """An example plugin a scaffold is copied from."""

    folder: str
    name: str
    camel: str


KINDS = ("plain", "gateway", "provisioner")
EXAMPLES = {
    "plain": Source("facturo-hello", "hello", "Hello"),
    "gateway": Source("facturo-examplepay", "examplepay", "ExamplePay"),
    "provisioner": Source("facturo-exampleprovisioner", "exampleprovisioner", "ExampleProvisioner"),
}
NAME = re.compile(r"[a-z][a-z0-9_]{1,39}")
SKIPPED = {"__pycache__", ".pytest_cache", "build", "dist"}
DEPENDS_ON = re.compile(r'^depends_on = "[^"]*"$', re.MULTILINE)


def examples_dir() -> Path:
    """The ``examples/`` folder of the source tree this ``facturo`` runs from."""
    folder = Path(__file__).resolve().parents[2] / "examples"
    if not folder.is_dir():
        raise ScaffoldError(f"the example plugins are not installed (looked in {folder})")
    return folder


def check_name(name: str) -> None:
    """Raise ScaffoldError unless ``name`` can name a plugin package (``facturo_<name>``)."""
    if not NAME.fullmatch(name) or keyword.iskeyword(name):
        raise ScaffoldError(
            f"{name!r} is not a valid plugin name: use 2-40 lowercase letters, digits and _, "
            "starting with a letter"
        )
    from facturo.plugins import installed_plugins

    if name in installed_plugins() or name in {s.name for s in EXAMPLES.values()}:
        raise ScaffoldError(f"a plugin named {name!r} already exists")


def _renamer(source: Source, name: str) -> list[tuple[str, str]]:
    camel = "".join(part.capitalize() for part in name.split("_"))
    dashed = name.replace("_", "-")
    return [
        (f"facturo-{source.name}", f"facturo-{dashed}"),
        (f"facturo_{source.name}", f"facturo_{name}"),
        (source.camel, camel),
        (source.name, name),
    ]


def _rename(text: str, pairs: list[tuple[str, str]]) -> str:
    for old, new in pairs:
        text = text.replace(old, new)
    return text


def new_plugin(name: str, kind: str = "plain", directory: Path | None = None) -> Path:
    """Generate ``facturo-<name>`` in ``directory`` (default: the current one) from the
    example of ``kind``; return its path. Raise ScaffoldError on a bad name or an existing
    target."""
    from facturo.db.migrations import core_head

    check_name(name)
    source = EXAMPLES[kind]
    origin = examples_dir() / source.folder
    target = (directory or Path.cwd()) / f"facturo-{name.replace('_', '-')}"
    if target.exists():
        raise ScaffoldError(f"{target} already exists")
    pairs = _renamer(source, name)
    head = core_head()
    for path in sorted(origin.rglob("*")):
        relative = path.relative_to(origin)
        if path.is_dir() or SKIPPED & set(relative.parts) or ".egg-info" in str(relative):
            continue
        destination = target / _rename(str(relative), pairs)
        destination.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix in (".py", ".toml", ".html", ".po", ".md", ".txt", ".typed"):
            text = _rename(path.read_text(encoding="utf-8"), pairs)
            if "migrations" in relative.parts:
                text = DEPENDS_ON.sub(f'depends_on = "{head}"', text)
            destination.write_text(text, encoding="utf-8")
        else:
            shutil.copyfile(path, destination)
    return target
