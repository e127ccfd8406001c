"""Typed plugin settings: ``settings_schema`` may return a dataclass instead of a
:class:`~facturo.contributions.PluginSettings`.

The dataclass names its plugin in a ``plugin: ClassVar[str]`` attribute; each field is a key
of ``[plugin.<name>]``, its type gives the check (``str``, ``int``, ``bool``, ``Decimal``,
``list[str]`` or a ``Literal`` of choices), a field without a default is required, and
``dataclasses.field(metadata={"secret": True, "help": "..."})`` marks a secret or explains
the key. The core checks the table once at start-up, builds the instance, and
``ctx.settings_for(name)`` returns it::

    @dataclass(frozen=True)
    class HelloSettings:
        plugin: ClassVar[str] = "hello"
        greeting: str = "Hola"
        mode: Literal["sandbox", "live"] = "sandbox"
        api_key: str = field(default="", metadata={"secret": True})
"""

from __future__ import annotations

import dataclasses
import typing
from decimal import Decimal
from typing import Any, Literal

from facturo.contributions import PluginSettings, SettingField

KINDS: dict[Any, str] = {str: "str", int: "int", bool: "bool", Decimal: "decimal"}


class SettingsClassError(TypeError):
    """A typed settings class the core cannot read; the message names the class and field."""


def is_settings_class(schema: object) -> bool:
    """True for a dataclass type (a typed schema), False for a PluginSettings instance."""
    return isinstance(schema, type) and dataclasses.is_dataclass(schema)


def schema_of(cls: type) -> PluginSettings:
    """The PluginSettings equivalent of the typed settings class ``cls``."""
    plugin = getattr(cls, "plugin", None)
    if not isinstance(plugin, str) or not plugin:
        raise SettingsClassError(f"{cls.__name__} needs a `plugin: ClassVar[str]` name")
    hints = typing.get_type_hints(cls)
    fields: list[SettingField] = []
    for item in dataclasses.fields(cls):
        required = (
            item.default is dataclasses.MISSING and item.default_factory is dataclasses.MISSING
        )
        default: Any = None
        if item.default is not dataclasses.MISSING:
            default = item.default
        elif item.default_factory is not dataclasses.MISSING:
            default = item.default_factory()
        kind, choices = _kind(cls, item.name, hints[item.name])
        fields.append(
            SettingField(
                item.name,
                kind=kind,
                required=required,
                default=default,
                secret=bool(item.metadata.get("secret", False)),
                choices=choices,
                help=str(item.metadata.get("help", "")),
            )
        )
    return PluginSettings(plugin=plugin, fields=tuple(fields))


def _kind(cls: type, name: str, hint: Any) -> tuple[str, tuple[str, ...]]:
    if hint in KINDS:
        return KINDS[hint], ()
    origin = typing.get_origin(hint)
    if origin is Literal and all(isinstance(a, str) for a in typing.get_args(hint)):
        return "choice", tuple(typing.get_args(hint))
    if origin is list and typing.get_args(hint) in ((str,), ()):
        return "list", ()
    raise SettingsClassError(
        f"{cls.__name__}.{name}: type {hint!r} is not one of str, int, bool, Decimal, "
        "list[str] or a Literal of strings"
    )


def build(cls: type, values: dict[str, Any]) -> Any:
    """An instance of ``cls`` from checked ``values``."""
    return cls(**values)
