"""The plugins page: installed and enabled plugins, their versions and settings (secrets
masked). Admins only."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from facturo.contributions import PluginSettings, SettingField
from facturo.plugins import installed_plugins, plugin_version
from facturo.secret_values import MASK, looks_secret, masked
from facturo.typed_settings import is_settings_class, schema_of
from facturo.web.admin_common import ctx_of
from facturo.web.rendering import render
from facturo.web.sections import roles_required


def plugin_rows(ctx: Any) -> list[dict[str, Any]]:
    """One row per installed or enabled plugin: name, version, enabled, settings (masked)."""
    schemas: dict[str, PluginSettings] = {}
    for answer in ctx.hook.settings_schema(ctx=ctx):
        if answer is not None:
            schema = schema_of(answer) if is_settings_class(answer) else answer
            schemas[schema.plugin] = schema
    names = sorted(set(installed_plugins()) | set(ctx.settings.enabled_plugins))
    rows = []
    for name in names:
        # The checked values, not what settings_for built of them (which may hold parsed keys).
        values: dict[str, Any] = (
            ctx.plugin_values.get(name) or dict(ctx.settings.plugin_table(name))
            if name in ctx.settings.enabled_plugins
            else {}
        )
        fields = {f.name: f for f in schemas[name].fields} if name in schemas else {}
        settings = [
            (key, _shown(fields.get(key), key, value)) for key, value in sorted(values.items())
        ]
        rows.append(
            {
                "name": name,
                "version": plugin_version(name),
                "enabled": name in ctx.settings.enabled_plugins,
                "installed": name in installed_plugins(),
                "settings": settings,
            }
        )
    return rows


def _shown(field: SettingField | None, key: str, value: Any) -> Any:
    """A setting as the page shows it: secrets masked, also inside tables and lists."""
    if value in (None, ""):
        return value
    if (field is not None and field.secret) or looks_secret(key):
        return MASK
    return masked(value, field.secret_keys if field is not None else ())


@roles_required("admin")
def plugin_list(request: Request) -> Response:
    """The plugins page."""
    return render(request, "admin/plugins.html", {"plugins": plugin_rows(ctx_of(request))})


def routes() -> list[Route]:
    return [Route("/plugins", plugin_list)]
