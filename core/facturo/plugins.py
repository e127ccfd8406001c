"""Plugin discovery (stevedore, entry point group ``facturo.plugins``) and the PluginManager."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Iterable
from importlib import metadata
from types import ModuleType
from typing import Any

import pluggy
from stevedore import ExtensionManager, NamedExtensionManager

from facturo import hookspecs

ENTRY_POINT_GROUP = "facturo.plugins"
BUILTIN_PLUGINS = ("facturo.builtin.pdf", "facturo.builtin.mailer")


class PluginError(Exception):
    """A plugin cannot be loaded; the message names it and lists what is installed."""


def installed_plugins() -> dict[str, metadata.EntryPoint]:
    """Every entry point of the ``facturo.plugins`` group, by name.

    Reading entry points parses every installed distribution's metadata (tens of
    milliseconds), so the answer is kept until a folder on ``sys.path`` changes: installing
    or removing a distribution adds or removes an entry in its folder."""
    return dict(_entry_points(_path_fingerprint()))


@functools.lru_cache(maxsize=1)
def _entry_points(_fingerprint: tuple[tuple[str, int], ...]) -> dict[str, metadata.EntryPoint]:
    return {ep.name: ep for ep in metadata.entry_points(group=ENTRY_POINT_GROUP)}


def _path_fingerprint() -> tuple[tuple[str, int], ...]:
    """Each folder on ``sys.path`` with its modification time."""
    stamps = []
    for folder in sys.path:
        try:
            stamps.append((folder, os.stat(folder or ".").st_mtime_ns))
        except OSError:
            continue
    return tuple(stamps)


def plugin_version(name: str) -> str:
    """The version of the distribution that provides plugin ``name`` ('' when unknown)."""
    entry_point = installed_plugins().get(name)
    if entry_point is None or entry_point.dist is None:
        return ""
    return entry_point.dist.version


def _installed_list() -> str:
    names = sorted(installed_plugins())
    return ", ".join(names) if names else "none"


def new_manager() -> pluggy.PluginManager:
    """A PluginManager with every hook spec and the built-in defaults (registered trylast)."""
    manager = pluggy.PluginManager(hookspecs.PROJECT)
    manager.add_hookspecs(hookspecs)
    for module_name in BUILTIN_PLUGINS:
        module = __import__(module_name, fromlist=["_"])
        manager.register(module, name=module_name)
    return manager


def load_plugins(
    enabled: Iterable[str], extra: Iterable[tuple[str, ModuleType | object]] = ()
) -> pluggy.PluginManager:
    """Load the named plugins into a new manager; raise PluginError naming the culprit.

    ``extra`` registers further (name, plugin object) pairs, for tests and embedding.
    """
    names = list(dict.fromkeys(enabled))
    manager = new_manager()
    installed = installed_plugins()
    missing = [name for name in names if name not in installed]
    if missing:
        raise PluginError(
            f"plugin {missing[0]!r} is enabled but not installed; installed plugins: "
            f"{_installed_list()}"
        )
    failures: list[tuple[str, BaseException]] = []

    def on_failure(_manager: Any, entry_point: Any, exc: BaseException) -> None:
        failures.append((entry_point.name, exc))

    if names:
        # stevedore keeps a per-process cache of each group's entry points; start-up must see
        # what is installed now (the same view installed_plugins() has).
        ExtensionManager.ENTRY_POINT_CACHE.pop(ENTRY_POINT_GROUP, None)
        extensions = NamedExtensionManager(
            ENTRY_POINT_GROUP,
            names=names,
            invoke_on_load=False,
            on_load_failure_callback=on_failure,
            name_order=True,
        )
        if failures:
            name, exc = failures[0]
            raise PluginError(
                f"plugin {name!r} failed to import: {type(exc).__name__}: {exc}; "
                f"installed plugins: {_installed_list()}"
            )
        for extension in extensions:
            _register(manager, extension.name, extension.plugin)
    for name, plugin in extra:
        _register(manager, name, plugin)
    return manager


def _register(manager: pluggy.PluginManager, name: str, plugin: object) -> None:
    try:
        manager.register(plugin, name=name)
        manager.check_pending()
    except pluggy.PluginValidationError as exc:
        manager.unregister(name=name)
        raise PluginError(
            f"plugin {name!r} is invalid: {exc}; installed plugins: {_installed_list()}"
        ) from exc


def call_owner(
    manager: pluggy.PluginManager, hook_name: str, owner: str | None, **kwargs: Any
) -> Any:
    """Call hook ``hook_name`` on the plugin registered as ``owner`` only (owner dispatch: a
    product's provisioner, a payment's gateway) and return its first non-None answer; None
    when no such plugin implements it. Each implementation gets the arguments it declares."""
    if not owner:
        return None
    plugin = manager.get_plugin(owner)
    caller = getattr(manager.hook, hook_name, None)
    if plugin is None or caller is None:
        return None
    # Identity, not a set: plugin objects need not be hashable.
    for impl in reversed(caller.get_hookimpls()):
        if impl.plugin is plugin and not (impl.hookwrapper or impl.wrapper):
            result = impl.function(*[kwargs[name] for name in impl.argnames])
            if result is not None:
                return result
    return None


def implementers(manager: pluggy.PluginManager, hook_name: str) -> list[str]:
    """The registered names of the plugins that implement ``hook_name``, sorted."""
    caller = getattr(manager.hook, hook_name, None)
    if caller is None:
        return []
    names = {manager.get_name(impl.plugin) for impl in caller.get_hookimpls()}
    return sorted(name for name in names if name)


def hooks_of(manager: pluggy.PluginManager, name: str) -> list[str]:
    """The names of the hooks plugin ``name`` implements, sorted."""
    plugin = manager.get_plugin(name)
    if plugin is None:
        return []
    callers = manager.get_hookcallers(plugin) or []
    return sorted(caller.name for caller in callers)


def registered_names(manager: pluggy.PluginManager) -> list[str]:
    """Names of the registered plugins other than the built-in defaults, in load order."""
    return [
        name
        for name, _plugin in manager.list_name_plugin()
        if name is not None and name not in BUILTIN_PLUGINS
    ]


def contributions_by_plugin(
    manager: pluggy.PluginManager, hook_name: str, **kwargs: Any
) -> list[tuple[str, Any]]:
    """Call contribution hook ``hook_name`` on each plugin separately: (plugin name, result)
    pairs in pluggy's call order, so a problem in a result can name its plugin."""
    caller = getattr(manager.hook, hook_name)
    results: list[tuple[str, Any]] = []
    for impl in reversed(caller.get_hookimpls()):
        result = impl.function(*[kwargs[name] for name in impl.argnames])
        if result is not None:
            results.append((impl.plugin_name, result))
    return results
