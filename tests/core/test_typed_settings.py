"""``settings_schema`` may return a typed settings dataclass: checked once at start-up and
served typed by ``ctx.settings_for(name)`` (#18.4)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, ClassVar, Literal

import pytest

from facturo.config import ConfigError
from facturo.context import Context
from facturo.contributions import PluginSettings, SettingField
from facturo.hookspecs import hookimpl
from facturo.typed_settings import SettingsClassError, schema_of


@dataclass(frozen=True)
class ShopSettings:
    plugin: ClassVar[str] = "shop"
    api_key: str = field(metadata={"secret": True, "help": "From the shop's dashboard"})
    retries: int = 3
    fee: Decimal = Decimal("0.25")
    mode: Literal["sandbox", "live"] = "sandbox"
    hosts: list[str] = field(default_factory=list)
    verbose: bool = False


class Shop:
    def __init__(self) -> None:
        self.asked = 0

    @hookimpl
    def settings_schema(self) -> type:
        self.asked += 1
        return ShopSettings


def test_typed_settings_are_checked_once_and_served_typed(
    make_context: Callable[..., Context],
) -> None:
    shop = Shop()
    table = {"api_key": "k-123", "retries": "5", "fee": 0.5, "mode": "live", "hosts": "a, b"}
    ctx = make_context(extra=[("shop", shop)], plugin_settings={"shop": table})
    settings = ctx.settings_for("shop")
    assert settings == ShopSettings(
        api_key="k-123", retries=5, fee=Decimal("0.5"), mode="live", hosts=["a", "b"]
    )
    assert ctx.settings_for("shop") is settings
    assert shop.asked == 1


@pytest.mark.parametrize(
    ("table", "key", "problem"),
    [
        ({}, "plugin.shop.api_key", "is missing"),
        ({"api_key": "k", "mode": "prod"}, "plugin.shop.mode", "must be one of sandbox, live"),
        ({"api_key": "k", "retries": "many"}, "plugin.shop.retries", "must be a whole number"),
        ({"api_key": "k", "retrys": 2}, "plugin.shop.retrys", "is not a known setting"),
    ],
)
def test_a_bad_table_stops_start_up_naming_the_key(
    make_context: Callable[..., Context], table: dict[str, Any], key: str, problem: str
) -> None:
    with pytest.raises(ConfigError) as refused:
        make_context(extra=[("shop", Shop())], plugin_settings={"shop": table})
    assert (refused.value.key, refused.value.problem) == (key, problem)


def test_the_schema_keeps_secrets_and_help() -> None:
    fields = {f.name: f for f in schema_of(ShopSettings).fields}
    assert fields["api_key"].secret and fields["api_key"].required
    assert fields["api_key"].help == "From the shop's dashboard"
    assert not fields["retries"].required and fields["retries"].default == 3


def test_an_unsupported_type_is_named() -> None:
    @dataclass
    class Odd:
        plugin: ClassVar[str] = "odd"
        when: dict[str, int] = field(default_factory=dict)

    with pytest.raises(SettingsClassError, match=r"Odd\.when: type"):
        schema_of(Odd)


@dataclass(frozen=True)
class Vault:
    """What a plugin builds of its checked values (parsed keys, say)."""

    token: str
    spare: int


class Locksmith:
    """A PluginSettings schema with ``build``: settings_for serves the built object."""

    def __init__(self) -> None:
        self.built = 0

    def build(self, values: dict[str, Any]) -> Vault:
        self.built += 1
        if values["spare"] < 0:
            raise ValueError("spare must not be negative")
        return Vault(token=values["api_token"][::-1], spare=values["spare"])

    @hookimpl
    def settings_schema(self) -> PluginSettings:
        return PluginSettings(
            plugin="locksmith",
            build=self.build,
            fields=(
                SettingField("api_token", required=True, secret=True),
                SettingField("spare", kind="int", default=1),
            ),
        )


def test_a_schemas_build_runs_once_and_settings_for_serves_its_object(
    make_context: Callable[..., Context],
) -> None:
    locksmith = Locksmith()
    table = {"api_token": "abc-123", "spare": "2"}
    ctx = make_context(extra=[("locksmith", locksmith)], plugin_settings={"locksmith": table})
    built = ctx.settings_for("locksmith")
    assert built == Vault(token="321-cba", spare=2)
    assert ctx.settings_for("locksmith") is built and locksmith.built == 1
    # What staff see is the checked values (secret masked), never the built object.
    assert ctx.plugin_values["locksmith"] == {"api_token": "abc-123", "spare": 2}


def test_a_build_that_refuses_stops_start_up_naming_the_plugin(
    make_context: Callable[..., Context],
) -> None:
    table = {"api_token": "abc-123", "spare": "-1"}
    with pytest.raises(ConfigError) as refused:
        make_context(extra=[("locksmith", Locksmith())], plugin_settings={"locksmith": table})
    assert refused.value.key == "plugin.locksmith"
    assert refused.value.problem == "spare must not be negative"
