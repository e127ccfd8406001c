"""The ``[plugin.vies]`` settings: where VIES is, how long to wait, how long a valid answer
counts, and the VAT number the seller asks as (the requester, so answers carry a
consultation number)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from stdnum.eu import vat as eu_vat

from facturo.plugin import Context, PluginSettings, SettingField

from .protocol import LIVE_ENDPOINT, SERVICE_PATH

PLUGIN = "vies"
#: Where the stand-in is mounted (under the public section) in sandbox mode.
SANDBOX_PATH = "/public/vies/sandbox"
MODES = ("live", "sandbox")

DEMO_SETTINGS: dict[str, Any] = {"mode": "sandbox", "timeout": 5, "cache_days": 30}


def _url(value: Any) -> str:
    text = str(value).strip()
    if text and not text.startswith(("http://", "https://")):
        raise ValueError("must be an absolute http(s) URL")
    return text


def _requester(value: Any) -> str:
    text = str(value).strip().upper().replace(" ", "")
    if text and not eu_vat.is_valid(text):
        raise ValueError("must be the seller's EU VAT number with its country prefix (ESB…)")
    return text


def _positive(value: Any) -> int:
    number = int(value)
    if number <= 0:
        raise ValueError("must be more than 0")
    return number


def schema() -> PluginSettings:
    """The plugin's settings."""
    return PluginSettings(
        plugin=PLUGIN,
        fields=(
            SettingField(
                "mode",
                kind="choice",
                default="live",
                choices=MODES,
                help="live asks the EU's VIES; sandbox the local stand-in",
            ),
            SettingField(
                "endpoint_url",
                default="",
                validate=_url,
                help="checkVatService URL (default: the EU's, or the stand-in in sandbox mode)",
            ),
            SettingField("timeout", kind="int", default=10, validate=_positive, help="Seconds"),
            SettingField(
                "cache_days",
                kind="int",
                default=30,
                validate=_positive,
                help="Days a valid answer is reused without asking again",
            ),
            SettingField(
                "requester_vat",
                default="",
                validate=_requester,
                help="The seller's VAT number sent as requester (default: ES + the seller's NIF)",
            ),
        ),
    )


@dataclass(frozen=True)
class ViesSettings:
    """The validated settings, with the endpoint and requester resolved."""

    endpoint: str
    timeout: float
    cache_days: int
    requester_country: str
    requester_number: str
    mode: str


def vies_settings(ctx: Context) -> ViesSettings:
    """The settings of the plugin for ``ctx``."""
    values = ctx.settings_for(PLUGIN)
    mode = str(values.get("mode") or "live")
    endpoint = str(values.get("endpoint_url") or "")
    if not endpoint:
        endpoint = ctx.url(SANDBOX_PATH) + SERVICE_PATH if mode == "sandbox" else LIVE_ENDPOINT
    requester = str(values.get("requester_vat") or "")
    if not requester:
        seller = ctx.settings.seller
        nif = seller.nif.upper().replace(" ", "").replace("-", "")
        requester = nif if nif.startswith(seller.country.upper()) else seller.country.upper() + nif
    return ViesSettings(
        endpoint=endpoint,
        timeout=float(values.get("timeout") or 10),
        cache_days=int(values.get("cache_days") or 30),
        requester_country=requester[:2],
        requester_number=requester[2:],
        mode=mode,
    )
