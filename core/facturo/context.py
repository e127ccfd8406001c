"""The running installation: settings, database, plugins and the clock, passed to every hook."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import pluggy

from facturo.config import ConfigError, Settings
from facturo.contributions import PluginSettings, SettingField
from facturo.db.engine import Database
from facturo.db.types import utcnow
from facturo.i18n import load_translations
from facturo.plugin_resources import resource_dirs
from facturo.secret_values import scrub, secrets_in
from facturo.templating import build_environment
from facturo.typed_settings import build, is_settings_class, schema_of


class Context:
    """Everything a domain function, a hook or a web handler needs from the installation."""

    def __init__(
        self,
        settings: Settings,
        plugins: pluggy.PluginManager,
        database: Database | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.settings = settings
        self.plugins = plugins
        self.hook = plugins.hook
        self.db = database or Database(settings.database_url)
        self.clock = clock
        self.plugin_settings: dict[str, Any] = {}
        #: The checked ``[plugin.<name>]`` values as a dict (what staff see, secrets masked).
        self.plugin_values: dict[str, dict[str, Any]] = {}
        self._templates: Any = None
        self._locale_dirs: tuple[Path, ...] | None = None
        self.validate_plugin_settings()

    # --- time ---------------------------------------------------------------------------

    def now(self) -> datetime:
        """The current instant (UTC, timezone-aware); tests may freeze it."""
        return self.clock()

    def today(self) -> date:
        """Today's business date in the seller's time zone."""
        return self.now().astimezone(self.settings.zone).date()

    # --- plugins ------------------------------------------------------------------------

    def settings_for(self, plugin: str) -> Any:
        """The validated ``[plugin.<name>]`` settings, checked and built once at start-up: an
        instance of the plugin's typed settings class, what a ``PluginSettings`` schema's
        ``build`` made of the values, else a dict of them (the raw table when no schema is
        declared). Plugins read their settings here on every use and keep no cache of their
        own."""
        if plugin in self.plugin_settings:
            return self.plugin_settings[plugin]
        return dict(self.settings.plugin_table(plugin))

    def validate_plugin_settings(self) -> None:
        """Validate every plugin's table against its schema; raise ConfigError on the first
        problem, and for a ``[plugin.<name>]`` table of a loaded plugin that declares no
        schema (its keys, misspelt or not, would pass unchecked)."""
        declared: set[str] = set()
        for answer in self.hook.settings_schema(ctx=self):
            if answer is None:
                continue
            typed = is_settings_class(answer)
            schema = schema_of(answer) if typed else answer
            declared.add(schema.plugin)
            values = validate_table(schema, self.settings.plugin_table(schema.plugin))
            self.plugin_values[schema.plugin] = values
            self.plugin_settings[schema.plugin] = (
                build(answer, values) if typed else _built(schema, values)
            )
        for name, _plugin in self.plugins.list_name_plugin():
            keys = sorted(self.settings.plugin_table(name or ""))
            if name and keys and name not in declared:
                raise ConfigError(
                    f"plugin.{name}",
                    f"has settings ({', '.join(keys)}) but the plugin declares no "
                    "settings_schema, so they would never be checked",
                )

    def migration_dirs(self) -> list[Path]:
        """Every enabled plugin's Alembic versions folder: its ``migrations/`` folder, or what
        its ``db_migrations()`` override gives."""
        return resource_dirs(self.plugins, "migrations", self)

    @property
    def locale_dirs(self) -> tuple[Path, ...]:
        """Every plugin's gettext catalog folders (the core's are always read first): its
        ``locale/`` folder, or what its ``locale_dirs()`` override gives."""
        if self._locale_dirs is None:
            self._locale_dirs = tuple(resource_dirs(self.plugins, "locale", self))
        return self._locale_dirs

    def translations(self, language: str) -> Any:
        """The gettext object for ``language`` over the core and plugin catalogs."""

        return load_translations(language, self.locale_dirs)

    @property
    def templates(self) -> Any:
        """The one Jinja2 environment (core templates plus every plugin's)."""
        if self._templates is None:
            self._templates = build_environment(self)
        return self._templates

    def url(self, path: str) -> str:
        """An absolute URL under the public base URL."""
        return f"{self.settings.base_url}{path}"


def _built(schema: PluginSettings, values: dict[str, Any]) -> Any:
    """The schema's ``build`` applied to ``values`` (``values`` without one); a ValueError
    becomes a ConfigError naming the plugin's table."""
    if schema.build is None:
        return values
    try:
        return schema.build(values)
    except ValueError as exc:
        raise ConfigError(f"plugin.{schema.plugin}", str(exc)) from None


def validate_table(schema: PluginSettings, raw: Mapping[str, Any]) -> dict[str, Any]:
    """Check ``raw`` against ``schema``; return typed values; raise ConfigError naming the key."""
    known = {field.name: field for field in schema.fields}
    for key in raw:
        if key not in known:
            raise ConfigError(f"plugin.{schema.plugin}.{key}", "is not a known setting")
    values: dict[str, Any] = {}
    for field in schema.fields:
        key = f"plugin.{schema.plugin}.{field.name}"
        if field.name not in raw or raw[field.name] in ("", None):
            if field.required:
                raise ConfigError(key, "is missing")
            values[field.name] = field.default
            continue
        hidden = secrets_in(raw[field.name], field.secret_keys, whole=field.secret)
        try:
            value = _coerce(field, raw[field.name], key)
            if field.validate is not None:
                value = field.validate(value)
        except ValueError as exc:
            raise ConfigError(key, scrub(str(exc), hidden)) from None
        except ConfigError as exc:
            raise ConfigError(exc.key, scrub(exc.problem, hidden)) from None
        values[field.name] = value
    return values


def _coerce(field: SettingField, value: Any, key: str) -> Any:
    if field.kind == "int":
        try:
            return int(value)
        except (TypeError, ValueError) as exc:
            raise ConfigError(key, "must be a whole number") from exc
    if field.kind == "bool":
        if isinstance(value, bool):
            return value
        if str(value).lower() in ("1", "true", "yes", "on"):
            return True
        if str(value).lower() in ("0", "false", "no", "off"):
            return False
        raise ConfigError(key, "must be true or false")
    if field.kind == "decimal":
        if isinstance(value, float):
            value = repr(value)
        try:
            return Decimal(str(value))
        except InvalidOperation as exc:
            raise ConfigError(key, "must be a number") from exc
    if field.kind == "list":
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        if not isinstance(value, list):
            raise ConfigError(key, "must be a list")
        return value
    if not isinstance(value, str):
        raise ConfigError(key, "must be a string")
    if field.kind == "choice" and value not in field.choices:
        raise ConfigError(key, f"must be one of {', '.join(field.choices)}")
    return value
