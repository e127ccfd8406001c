"""The "Done when" of the plugin contract v2 (#18) that the other architecture tests do not
pin: the cycle check sees imports inside functions, mypy covers every plugin and example, the
example gateway's end-to-end test uses only the public surface, and the core names no plugin."""

from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path

import facturo
from tests.architecture.imports import find_cycle, import_graph

REPO = Path(__file__).resolve().parents[2]
CORE = Path(facturo.__file__).resolve().parent
#: Core modules that describe the bundled distribution (the demo's data, the test defaults),
#: where naming the bundled plugins is their job; nothing the running engine decides on.
NAMES_PLUGINS_BY_DESIGN = {"demo.py", "demo_history.py", "testing.py"}


def _package(root: Path, files: dict[str, str]) -> Path:
    package = root / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("", encoding="utf-8")
    for name, source in files.items():
        (package / name).write_text(source, encoding="utf-8")
    return package


def test_the_cycle_check_sees_an_import_inside_a_function(tmp_path: Path) -> None:
    package = _package(
        tmp_path,
        {
            "a.py": "from pkg import b\n",
            "b.py": "def later() -> None:\n    from pkg.a import x\n",
        },
    )
    assert find_cycle(import_graph(package)) == ["pkg.a", "pkg.b", "pkg.a"]


def test_the_cycle_check_ignores_imports_for_type_checking_only(tmp_path: Path) -> None:
    package = _package(
        tmp_path,
        {
            "a.py": "from pkg import b\n",
            "b.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg import a\n",
        },
    )
    assert find_cycle(import_graph(package)) is None


def _plugin_packages() -> list[str]:
    found = [*REPO.glob("plugins/*/facturo_*"), *REPO.glob("examples/*/facturo_*")]
    return sorted(str(p.relative_to(REPO)) for p in found if (p / "__init__.py").is_file())


def test_mypy_checks_the_core_every_bundled_plugin_and_every_example() -> None:
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["mypy"]
    assert config["strict"] is True
    packages = _plugin_packages()
    assert len(packages) >= 10  # seven bundled plugins and three examples
    assert set(config["files"]) == {"core/facturo", *packages}


def _facturo_imports(path: Path) -> set[str]:
    modules: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module)
        elif isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
    return {m for m in modules if m == "facturo" or m.startswith(("facturo.", "facturo_"))}


def test_the_example_gateway_end_to_end_test_uses_only_the_public_surface() -> None:
    tests = REPO / "examples" / "facturo-examplepay" / "tests"
    source = (tests / "test_examplepay.py").read_text(encoding="utf-8")
    assert "def test_order_paid_in_the_sandbox_is_invoiced_and_provisioned(" in source
    for path in sorted(tests.glob("*.py")):
        # facturo.testing holds the integrators' test helpers (a server, a customer, a drain);
        # the plugin's own modules are the plugin's business.
        imported = _facturo_imports(path)
        core = {m for m in imported if m == "facturo" or m.startswith("facturo.")}
        others = imported - core
        assert core <= {"facturo.plugin", "facturo.testing"}, path.name
        assert all(m.startswith("facturo_examplepay") for m in others), path.name


def _bundled_names() -> set[str]:
    return {p.name.removeprefix("facturo_") for p in REPO.glob("plugins/*/facturo_*")}


def _docstrings(tree: ast.AST) -> set[int]:
    found: set[int] = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            if isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def test_the_core_names_no_bundled_plugin() -> None:
    names = _bundled_names()
    assert {"transfer", "ruralvia", "paypal"} <= names
    named: list[str] = []
    for path in sorted(CORE.rglob("*.py")):
        if "versions" in path.parts or path.name in NAMES_PLUGINS_BY_DESIGN:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skip = _docstrings(tree)
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and id(node) not in skip
                and node.value.strip() in names
            ):
                named.append(f"{path.relative_to(CORE)}:{node.lineno} {node.value!r}")
    assert not named


def test_no_core_template_names_a_bundled_gateway() -> None:
    gateways = {"transfer/", "ruralvia", "paypal", "/payments/transfer"}
    named = [
        f"{path.relative_to(CORE)}: {word}"
        for path in sorted((CORE / "templates").rglob("*.html"))
        for word in gateways
        if word in path.read_text(encoding="utf-8")
    ]
    assert not named


def test_no_plugin_keeps_a_settings_cache_of_its_own() -> None:
    cache = re.compile(r"^_?\w*(CACHE|_cache)\w*\s*[:=]", re.MULTILINE)
    kept = [
        str(path.relative_to(REPO))
        for package in _plugin_packages()
        for path in sorted((REPO / package).rglob("*.py"))
        if cache.search(path.read_text(encoding="utf-8"))
    ]
    assert not kept  # ctx.settings_for serves settings checked and built once by the core
