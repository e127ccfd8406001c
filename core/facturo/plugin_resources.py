"""Plugin resources by convention: a plugin package's ``templates/``, ``locale/``,
``migrations/`` and ``static/`` folders are found without any hook.

For each registered plugin, in hook call order (the last loaded first, as pluggy calls
contribution hooks, so an override answers where its hook used to), the folder of a kind comes from the plugin's
override hook when it implements one (``template_dirs``, ``locale_dirs``, ``db_migrations``:
its answer replaces the convention for that plugin), else from the folder of that name beside
the package's ``__init__.py`` when it exists. The built-in defaults are part of the core and
have no resources of their own. ``static/`` has no hook: it is served at
``/static/plugins/<name>/``.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Any

import pluggy

from facturo.plugins import BUILTIN_PLUGINS

#: Resource kind → the hook that overrides the convention folder of that kind.
OVERRIDE_HOOKS = {
    "templates": "template_dirs",
    "locale": "locale_dirs",
    "migrations": "db_migrations",
}
#: The convention folders, by kind.
FOLDERS = ("templates", "locale", "migrations", "static")
#: Where a plugin's ``static/`` folder is served.
STATIC_PREFIX = "/static/plugins"


def package_dir(plugin: object) -> Path | None:
    """The folder of a plugin registered as a package (a module with ``__path__``), or None
    for anything else (a single module, an object registered by a test)."""
    if not isinstance(plugin, ModuleType) or not hasattr(plugin, "__path__"):
        return None
    origin = getattr(plugin, "__file__", None)
    if origin:
        return Path(origin).resolve().parent
    paths = list(getattr(plugin, "__path__", []))
    return Path(paths[0]).resolve() if paths else None


def convention_dir(plugin: object, kind: str) -> Path | None:
    """The plugin's ``<kind>/`` folder when it exists, else None."""
    if kind not in FOLDERS:
        raise ValueError(f"unknown resource kind {kind!r}; expected one of {', '.join(FOLDERS)}")
    base = package_dir(plugin)
    if base is None:
        return None
    folder = base / kind
    return folder if folder.is_dir() else None


def _override(
    plugin: object, manager: pluggy.PluginManager, hook: str, ctx: Any
) -> list[Path] | None:
    """The folders ``plugin``'s own implementation of ``hook`` gives (None when it has none)."""
    caller = getattr(manager.hook, hook)
    answered = False
    folders: list[Path] = []
    for impl in reversed(caller.get_hookimpls()):
        if impl.plugin is plugin:
            answered = True
            result = impl.function(*[{"ctx": ctx}[name] for name in impl.argnames])
            folders.extend(Path(p) for p in result or [])
    return folders if answered else None


def resource_dirs_by_plugin(
    manager: pluggy.PluginManager, kind: str, ctx: Any = None
) -> list[tuple[str, list[Path]]]:
    """(plugin name, folders of ``kind``) per plugin in hook call order: the override hook's
    answer for a plugin that implements it, else its convention folder; plugins with none
    left out."""
    hook = OVERRIDE_HOOKS[kind]
    found: list[tuple[str, list[Path]]] = []
    for name, plugin in reversed(manager.list_name_plugin()):
        if not name or name in BUILTIN_PLUGINS:
            continue
        folders = _override(plugin, manager, hook, ctx)
        if folders is None:
            folder = convention_dir(plugin, kind)
            folders = [folder] if folder is not None else []
        if folders:
            found.append((name, folders))
    return found


def resource_dirs(manager: pluggy.PluginManager, kind: str, ctx: Any = None) -> list[Path]:
    """Every plugin's folders of ``kind`` (``templates``, ``locale``, ``migrations``), in
    hook call order, each once."""
    folders = [f for _name, found in resource_dirs_by_plugin(manager, kind, ctx) for f in found]
    return list(dict.fromkeys(folders))


def static_dirs(manager: pluggy.PluginManager) -> list[tuple[str, Path]]:
    """(plugin name, ``static/`` folder) of every plugin that has one."""
    found: list[tuple[str, Path]] = []
    for name, plugin in manager.list_name_plugin():
        if not name or name in BUILTIN_PLUGINS:
            continue
        folder = convention_dir(plugin, "static")
        if folder is not None:
            found.append((name, folder))
    return found


def static_url(plugin: str, path: str) -> str:
    """The URL of file ``path`` in plugin ``plugin``'s ``static/`` folder."""
    return f"{STATIC_PREFIX}/{plugin}/{path.lstrip('/')}"
