"""Start-up checks for mistakes a plugin would otherwise make silently.

Each check returns the problems it found as sentences naming the plugin; :func:`report` warns
about them (``PluginWarning``) or, with ``[plugins] strict = true``, refuses to start.
"""

from __future__ import annotations

import functools
import inspect
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import pluggy

from facturo import hookspecs
from facturo.plugin_resources import resource_dirs_by_plugin
from facturo.plugins import BUILTIN_PLUGINS, PluginError
from facturo.templating import CORE_TEMPLATES

if TYPE_CHECKING:
    from facturo.context import Context

HOOK_NAMES = frozenset(
    name
    for name in dir(hookspecs)
    if hasattr(getattr(hookspecs, name), f"{hookspecs.PROJECT}_spec")
)


class PluginWarning(UserWarning):
    """A plugin mistake that does not stop start-up unless ``[plugins] strict = true``."""


def unmarked_hooks(manager: pluggy.PluginManager) -> list[str]:
    """Module functions named like a hook but without ``@hookimpl``: pluggy ignores them.
    Only plugin modules are looked at: an object registered as a plugin (a gateway, say) may
    have a method of a hook's name for its own protocol."""
    problems: list[str] = []
    marker = f"{hookspecs.PROJECT}_impl"
    for name, plugin in manager.list_name_plugin():
        if name is None or name in BUILTIN_PLUGINS or not inspect.ismodule(plugin):
            continue
        for hook in sorted(HOOK_NAMES):
            function = getattr(plugin, hook, None)
            if callable(function) and not hasattr(function, marker):
                problems.append(
                    f"plugin {name!r}: {hook}() has no @hookimpl, so it is never called "
                    "(decorate it with facturo.plugin.hookimpl)"
                )
    return problems


def template_clashes(ctx: Context) -> list[str]:
    """Plugin templates that are never used because the core (or an earlier plugin) has a
    template of the same name: the first folder wins."""
    owners = dict.fromkeys(_core_template_names(), "the core")
    problems: list[str] = []
    for plugin, folders in resource_dirs_by_plugin(ctx.plugins, "templates", ctx):
        mine: set[str] = set()
        for folder in map(Path, folders):
            for path in _templates(folder):
                name = _relative(path, folder)
                owner = owners.get(name)
                if owner is not None and name not in mine:
                    problems.append(
                        f"plugin {plugin!r}: template {name!r} is hidden by {owner}'s template "
                        f"of the same name; put it under a folder named after the plugin "
                        f"({plugin}/{Path(name).name})"
                    )
                mine.add(name)
        for name in mine:
            owners.setdefault(name, f"plugin {plugin!r}")
    return problems


@functools.cache
def _core_template_names() -> tuple[str, ...]:
    """The core's template names: package data, read once per process."""
    return tuple(_relative(path, CORE_TEMPLATES) for path in _templates(CORE_TEMPLATES))


def _templates(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.is_dir() else []


def _relative(path: Path, folder: Path) -> str:
    return path.relative_to(folder).as_posix()


def report(problems: list[str], strict: bool) -> None:
    """Warn about each problem, or raise PluginError listing them when ``strict``."""
    if not problems:
        return
    if strict:
        raise PluginError("; ".join(problems) + " ([plugins] strict = true)")
    for problem in problems:
        warnings.warn(problem, PluginWarning, stacklevel=3)


def check_plugins(ctx: Context) -> None:
    """Run every start-up check on the loaded plugins of ``ctx``."""
    report(unmarked_hooks(ctx.plugins) + template_clashes(ctx), ctx.settings.plugins_strict)
