"""The ``[plugin.ruralvia]`` settings schema and the terminal settings built from it."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from facturo.plugin import Context, PluginSettings, SettingField

from .currency import currency
from .settings import LANGUAGES, RuralviaSettings

PLUGIN = "ruralvia"
#: Where the sandbox is mounted (under the public section).
SANDBOX_PATH = "/public/ruralvia/sandbox"
NOTIFY_PATH = "/public/ruralvia/notify"
SCRIPT_PATH = "/public/ruralvia/static/autosubmit.js"

#: The public Redsys test terminal (documented by Redsys for integration tests).
DEMO_SETTINGS: dict[str, Any] = {
    "merchant_code": "999008881",
    "terminal": "1",
    "secret_key": "sq7HjrUOBfKmC576ILgskD5srU870gJ7",
    "currency": "EUR",
    "environment": "sandbox",
    "language": "es",
}


def _merchant_code(value: Any) -> str:
    text = str(value).strip()
    if not (text.isdigit() and 1 <= len(text) <= 9):
        raise ValueError("must be the merchant code (FUC): up to 9 digits")
    return text


def _terminal(value: Any) -> str:
    text = str(value).strip()
    if not (text.isdigit() and 1 <= len(text) <= 3):
        raise ValueError("must be 1 to 3 digits")
    return text


def _secret_key(value: Any) -> str:
    text = str(value).strip()
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("is not valid base64") from None
    if len(raw) != 24:
        raise ValueError("must be the terminal's 32-character SHA-256 key")
    return text


def _currency(value: Any) -> str:
    try:
        return currency(str(value).strip()).code
    except ValueError:
        raise ValueError(f"{value!r} is not a supported currency") from None


def _url(value: Any) -> str:
    text = str(value).strip().rstrip("/")
    if not text.startswith(("http://", "https://")):
        raise ValueError("must be an absolute http(s) URL")
    return text


def schema() -> PluginSettings:
    """The settings of the plugin; the secret key may come from
    ``FACTURO_PLUGIN__RURALVIA__SECRET_KEY``."""
    return PluginSettings(
        plugin=PLUGIN,
        fields=(
            SettingField(
                "merchant_code", required=True, validate=_merchant_code, help="Merchant code (FUC)"
            ),
            SettingField("terminal", default="1", validate=_terminal, help="Terminal number"),
            SettingField(
                "secret_key",
                required=True,
                secret=True,
                validate=_secret_key,
                help="The terminal's SHA-256 secret key (base64)",
            ),
            SettingField("currency", default="EUR", validate=_currency),
            SettingField(
                "environment",
                kind="choice",
                default="test",
                choices=("test", "live", "sandbox"),
                help="test and live are Redsys' hosts; sandbox is the local stand-in",
            ),
            SettingField(
                "language",
                kind="choice",
                default="es",
                choices=tuple(LANGUAGES),
                help="Language of the payment page",
            ),
            SettingField(
                "sandbox_url",
                default="",
                validate=_url,
                help="Where the sandbox is served (default: computed from base_url)",
            ),
        ),
    )


def terminal_settings(ctx: Context) -> RuralviaSettings:
    """The validated terminal settings; the sandbox URL is computed from ``ctx`` now."""
    values = ctx.settings_for(PLUGIN)
    data = {k: v for k, v in values.items() if v not in (None, "")}
    data.setdefault("sandbox_url", ctx.url(SANDBOX_PATH))
    return RuralviaSettings.from_mapping(data)
