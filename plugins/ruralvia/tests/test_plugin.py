"""The plugin's wiring: settings schema, demo settings, payment options and methods."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from facturo.config import ConfigError
from facturo_ruralvia.config import DEMO_SETTINGS, terminal_settings
from facturo_ruralvia.settings import TEST_PAYMENT_URL, Environment

from .conftest import unpaid_proforma


def test_demo_settings_use_the_sandbox_computed_from_base_url(
    make_context: Callable[..., Any],
) -> None:
    ctx = make_context(plugins=("ruralvia",), overrides={"base_url": "https://pay.example.com"})
    settings = terminal_settings(ctx)
    assert settings.environment is Environment.SANDBOX
    assert (settings.merchant_code, settings.terminal) == ("999008881", "1")
    assert settings.payment_url == (
        "https://pay.example.com/public/ruralvia/sandbox/sis/realizarPago"
    )
    assert settings.rest_url.endswith("/public/ruralvia/sandbox/sis/rest/trataPeticionREST")


def test_test_environment_uses_the_redsys_test_host(make_context: Callable[..., Any]) -> None:
    ctx = make_context(
        plugins=("ruralvia",), plugin_settings={"ruralvia": dict(DEMO_SETTINGS, environment="test")}
    )
    assert terminal_settings(ctx).payment_url == TEST_PAYMENT_URL


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("secret_key", "not base64!"),
        ("secret_key", "c2hvcnQ="),
        ("merchant_code", "FUC1"),
        ("terminal", "1234"),
        ("currency", "XXX"),
        ("environment", "production"),
        ("language", "tlh"),
    ],
)
def test_bad_settings_name_the_key(make_context: Callable[..., Any], key: str, value: str) -> None:
    with pytest.raises(ConfigError) as raised:
        make_context(
            plugins=("ruralvia",), plugin_settings={"ruralvia": {**DEMO_SETTINGS, key: value}}
        )
    assert f"plugin.ruralvia.{key}" in str(raised.value)
    assert DEMO_SETTINGS["secret_key"] not in str(raised.value)


def test_missing_secret_key_is_an_error(make_context: Callable[..., Any]) -> None:
    raw = {k: v for k, v in DEMO_SETTINGS.items() if k != "secret_key"}
    with pytest.raises(ConfigError, match="plugin.ruralvia.secret_key"):
        make_context(plugins=("ruralvia",), plugin_settings={"ruralvia": raw})


def test_payment_option_and_method(make_context: Callable[..., Any]) -> None:
    ctx = make_context(plugins=("ruralvia",))
    _, document = unpaid_proforma(ctx)
    options = [
        o
        for r in ctx.hook.invoice_payment_options(ctx=ctx, document=document, language="es")
        for o in r
    ]
    (option,) = [o for o in options if o.gateway == "ruralvia"]
    assert option.pay_url == f"/client/ruralvia/pay/{document.id}"
    assert "Pagar con tarjeta" in option.html and option.pay_url in option.html
    assert "<a" not in option.pdf_html and "/client/documents/" in option.pdf_html
    assert "tarjeta" in option.pdf_html
    english = [
        o
        for r in ctx.hook.invoice_payment_options(ctx=ctx, document=document, language="en")
        for o in r
    ]
    assert any("Pay by card" in o.html for o in english)
    methods = [m for r in ctx.hook.payment_methods(ctx=ctx) for m in r]
    (method,) = [m for m in methods if m.gateway == "ruralvia"]
    assert method.online and method.supports_refunds
    document.status = "paid"
    paid = [
        o
        for r in ctx.hook.invoice_payment_options(ctx=ctx, document=document, language="es")
        for o in r
    ]
    assert not [o for o in paid if o.gateway == "ruralvia"]


def test_secret_key_may_come_from_the_environment(tmp_path: Path) -> None:
    from facturo.config import load_settings
    from facturo.context import validate_table
    from facturo.testing import base_settings_mapping
    from facturo_ruralvia.config import schema

    raw = base_settings_mapping(tmp_path, f"sqlite:///{tmp_path / 'x.db'}", ("ruralvia",))
    raw.pop("plugin", None)
    environ = {f"FACTURO_PLUGIN__RURALVIA__{k.upper()}": v for k, v in DEMO_SETTINGS.items()}
    environ["FACTURO_CONFIG"] = str(tmp_path / "absent.toml")
    settings = load_settings(environ=environ, overrides=raw)
    values = validate_table(schema(), settings.plugin_table("ruralvia"))
    assert values["secret_key"] == DEMO_SETTINGS["secret_key"]
    assert next(f for f in schema().fields if f.name == "secret_key").secret
