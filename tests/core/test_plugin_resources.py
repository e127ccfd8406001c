"""Plugin resources by convention: a package's templates/, locale/, migrations/ and static/
folders are found without hooks; a plugin that still implements the hooks keeps working, and
its hooks override the convention."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import pytest

from facturo.context import Context
from facturo.plugin_resources import (
    convention_dir,
    resource_dirs,
    resource_dirs_by_plugin,
    static_dirs,
    static_url,
)
from facturo.plugins import new_manager
from facturo.testing import AppClient
from facturo.web.app import create_app

PO = """msgid ""
msgstr ""
"Content-Type: text/plain; charset=UTF-8\\n"
"Language: es\\n"

msgid "{msgid}"
msgstr "{msgstr}"
"""

HOOKS = """from pathlib import Path

from facturo.plugin import hookimpl

ELSEWHERE = Path(__file__).resolve().parent / "elsewhere"


@hookimpl
def template_dirs() -> list[Path]:
    return [ELSEWHERE / "templates"]


@hookimpl
def locale_dirs() -> list[Path]:
    return [ELSEWHERE / "locale"]


@hookimpl
def db_migrations() -> list[Path]:
    return [ELSEWHERE / "migrations"]
"""


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _resources(base: Path, name: str, word: str) -> None:
    """templates/<name>/page.html, locale/es/…/<name>.po and migrations/ under ``base``."""
    _write(base / "templates" / name / "page.html", f"{word}: {{{{ _('Hello {name}') }}}}")
    _write(
        base / "locale" / "es" / "LC_MESSAGES" / f"{name}.po",
        PO.format(msgid=f"Hello {name}", msgstr=f"Hola {word}"),
    )
    (base / "migrations").mkdir(parents=True, exist_ok=True)


@pytest.fixture
def make_package(tmp_path: Path) -> Iterator[Callable[[str, str], ModuleType]]:
    """``make_package(name, init_source)``: an importable package in a temporary folder."""
    made: list[str] = []
    sys.path.insert(0, str(tmp_path))

    def make(name: str, source: str) -> ModuleType:
        _write(tmp_path / name / "__init__.py", source)
        made.append(name)
        importlib.invalidate_caches()
        return importlib.import_module(name)

    yield make
    sys.path.remove(str(tmp_path))
    for name in made:
        sys.modules.pop(name, None)


def test_a_plugin_with_only_folders_is_found_by_convention(
    make_package: Callable[[str, str], ModuleType],
    make_context: Callable[..., Context],
) -> None:
    module = make_package("conv_folders", '"""Folders only, no resource hook."""\n')
    base = Path(module.__file__ or "").parent
    _resources(base, "conv_folders", "carpetas")
    _write(base / "static" / "app.js", "console.log('conv');\n")
    manager = new_manager()
    manager.register(module, name="conv_folders")
    assert resource_dirs(manager, "templates") == [base / "templates"]
    assert resource_dirs(manager, "locale") == [base / "locale"]
    assert resource_dirs(manager, "migrations") == [base / "migrations"]
    assert static_dirs(manager) == [("conv_folders", base / "static")]
    # Through a running installation: the template renders with the plugin's catalog.
    (base / "migrations").rmdir()  # no schema of its own for the test database to apply
    ctx = make_context(extra=[("conv_folders", module)])
    page = ctx.templates.get_template("conv_folders/page.html")
    translations = ctx.translations("es")
    assert page.render(_=translations.gettext) == "carpetas: Hola carpetas"
    assert ctx.migration_dirs() == []
    with AppClient(create_app(ctx)) as client:
        served = client.get(static_url("conv_folders", "app.js"))
        missing = client.get(static_url("conv_folders", "nothing.js"))
        core = client.get("/static/plugins/unknown/app.js")
    assert served.status_code == 200 and "console.log('conv')" in served.text
    assert missing.status_code == 404 and core.status_code == 404


def test_a_plugin_that_implements_the_hooks_keeps_working_and_overrides_the_folders(
    make_package: Callable[[str, str], ModuleType],
    make_context: Callable[..., Context],
) -> None:
    module = make_package("conv_hooks", HOOKS)
    base = Path(module.__file__ or "").parent
    _resources(base, "conv_hooks", "convenio")  # present, but the hooks say where to look
    _resources(base / "elsewhere", "conv_hooks", "ganchos")
    manager = new_manager()
    manager.register(module, name="conv_hooks")
    elsewhere = base / "elsewhere"
    assert resource_dirs(manager, "templates") == [elsewhere / "templates"]
    assert resource_dirs(manager, "locale") == [elsewhere / "locale"]
    assert resource_dirs_by_plugin(manager, "migrations") == [
        ("conv_hooks", [elsewhere / "migrations"])
    ]
    (elsewhere / "migrations").rmdir()
    (base / "migrations").rmdir()
    ctx = make_context(extra=[("conv_hooks", module)])
    page = ctx.templates.get_template("conv_hooks/page.html")
    assert page.render(_=ctx.translations("es").gettext) == "ganchos: Hola ganchos"


def test_objects_and_single_modules_have_no_convention_folders(tmp_path: Path) -> None:
    class Plugin:
        pass

    assert convention_dir(Plugin(), "templates") is None
    assert convention_dir(sys.modules[__name__], "templates") is None  # a module, no package
    with pytest.raises(ValueError, match="unknown resource kind"):
        convention_dir(Plugin(), "assets")


def test_the_bundled_plugins_declare_no_resource_hook_but_their_folders_are_found() -> None:
    from facturo.plugins import load_plugins

    manager = load_plugins(["transfer", "tickets"])
    for hook in ("template_dirs", "locale_dirs", "db_migrations"):
        assert getattr(manager.hook, hook).get_hookimpls() == []
    names = [name for name, _folders in resource_dirs_by_plugin(manager, "migrations")]
    assert sorted(names) == ["tickets", "transfer"]
    assert all(folder.name == "templates" for folder in resource_dirs(manager, "templates"))
