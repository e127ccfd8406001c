"""Settings of the VERI*FACTU plugin (``[plugin.verifactu]``) and what is derived from them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from facturo.plugin import Context, PluginSettings, SettingField

from .records import SoftwareSystem
from .sender import endpoint

PLUGIN = "verifactu"
#: Where the stand-in AEAT is mounted (public section) and the endpoint value that selects it.
STANDIN_PATH = "/verifactu/aeat/VerifactuSOAP"
LOCAL_ENDPOINT = "local"
MAX_BATCH = 1000


def _nif(value: Any) -> str:
    text = str(value).strip().upper()
    if len(text) != 9:
        raise ValueError(f"{value!r} is not a 9-character NIF")
    return text


def _batch(value: Any) -> int:
    size = int(value)
    if not 1 <= size <= MAX_BATCH:
        raise ValueError(f"batch size must be 1 to {MAX_BATCH}")
    return size


def _system_id(value: Any) -> str:
    text = str(value).strip().upper()
    if not (1 <= len(text) <= 2 and text.isalnum() and text.isascii()):
        raise ValueError("system_id is 1-2 characters A-Z or 0-9")
    return text


def schema(ctx: Context) -> PluginSettings:
    """The settings schema; issuer and producer default to the seller of the installation."""
    seller = ctx.settings.seller
    return PluginSettings(
        plugin=PLUGIN,
        fields=(
            SettingField("issuer_name", default=seller.legal_name, help="ObligadoEmision name"),
            SettingField("issuer_nif", default=seller.nif.upper(), validate=_nif),
            SettingField("producer_name", default=seller.legal_name),
            SettingField("producer_nif", default=seller.nif.upper(), validate=_nif),
            SettingField("system_name", default="Facturo"),
            SettingField("system_id", default="FA", validate=_system_id),
            SettingField("system_version", default="1.0"),
            SettingField("installation_number", default="1"),
            SettingField("production", kind="bool", default=False),
            SettingField(
                "endpoint_url",
                default="",
                help="AEAT SOAP endpoint; empty = AEAT test or production by `production`; "
                f"'{LOCAL_ENDPOINT}' = the local stand-in",
            ),
            SettingField("certificate_path", default=""),
            SettingField("key_path", default=""),
            SettingField("certificate_password", default="", secret=True),
            SettingField("batch_size", kind="int", default=MAX_BATCH, validate=_batch),
            SettingField("submission_enabled", kind="bool", default=True),
        ),
    )


@dataclass(frozen=True)
class Config:
    """The validated settings in one typed object."""

    issuer_name: str
    issuer_nif: str
    system: SoftwareSystem
    production: bool
    endpoint_url: str
    uses_standin: bool
    certificate_path: str
    key_path: str
    certificate_password: str
    batch_size: int
    submission_enabled: bool


def config(ctx: Context) -> Config:
    """Return the plugin's settings, with the endpoint resolved to a URL."""
    raw = ctx.settings_for(PLUGIN)
    url = str(raw.get("endpoint_url") or "")
    standin_url = ctx.url(f"/public{STANDIN_PATH}")
    if url == LOCAL_ENDPOINT:
        url = standin_url
    elif not url:
        url = endpoint(bool(raw.get("production")))
    return Config(
        issuer_name=str(raw["issuer_name"]),
        issuer_nif=str(raw["issuer_nif"]),
        system=SoftwareSystem(
            producer_name=str(raw["producer_name"]),
            producer_nif=str(raw["producer_nif"]),
            name=str(raw["system_name"]),
            system_id=str(raw["system_id"]),
            version=str(raw["system_version"]),
            installation_number=str(raw["installation_number"]),
        ),
        production=bool(raw.get("production")),
        endpoint_url=url,
        uses_standin=url == standin_url,
        certificate_path=str(raw.get("certificate_path") or ""),
        key_path=str(raw.get("key_path") or ""),
        certificate_password=str(raw.get("certificate_password") or ""),
        batch_size=int(raw.get("batch_size") or MAX_BATCH),
        submission_enabled=bool(raw.get("submission_enabled")),
    )


def demo() -> dict[str, Any]:
    """Demo/test settings: submit to the local stand-in."""
    return {"plugin": PLUGIN, "settings": {"endpoint_url": LOCAL_ENDPOINT}}
