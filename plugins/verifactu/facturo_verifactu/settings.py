"""Settings of the VERI*FACTU plugin (``[plugin.verifactu]``) and what is derived from them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
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


def _optional_date(value: Any) -> str:
    text = str(value).strip()
    if text:
        date.fromisoformat(text)  # ValueError names the problem
    return text


def _months(value: Any) -> int:
    months = int(value)
    if not 1 <= months <= 24:
        raise ValueError("reconcile_months is 1 to 24")
    return months


DEFAULT_DESCRIPTION = (
    "Facturo: aplicación web (Python, servidor HTTP, base de datos SQLite o PostgreSQL y un "
    "proceso de tareas en segundo plano) que emite proformas, facturas y facturas "
    "rectificativas con numeración correlativa, genera y encadena los registros de "
    "facturación, los remite a la AEAT (VERI*FACTU), imprime el código QR tributario y "
    "conserva los documentos emitidos."
)
DEFAULT_SIGNATURES = (
    "Ninguna: el sistema solo funciona en la modalidad VERI*FACTU, que no exige firmar los "
    "registros de facturación."
)


def schema(ctx: Context) -> PluginSettings:
    """The settings schema; issuer and producer default to the seller of the installation."""
    seller = ctx.settings.seller
    address = ", ".join(
        part
        for part in (seller.address, seller.postal_code, seller.city, seller.province, "España")
        if part
    )
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
            SettingField("ca_bundle", default="", help="CA file to verify the AEAT server"),
            SettingField(
                "leave_verifactu",
                kind="bool",
                default=False,
                help="send FechaFinVeriFactu = 31-12 of this year (leave VERI*FACTU then)",
            ),
            SettingField("reconcile_months", kind="int", default=2, validate=_months),
            # The producer's declaración responsable (Orden HAC/1177/2024 art. 15).
            SettingField("only_verifactu", kind="bool", default=True),
            SettingField("multi_taxpayer", kind="bool", default=False),
            SettingField("system_description", default=DEFAULT_DESCRIPTION),
            SettingField("signature_types", default=DEFAULT_SIGNATURES),
            SettingField("producer_address", default=address),
            SettingField(
                "declaration_place", default=f"{seller.city}, España" if seller.city else ""
            ),
            SettingField(
                "declaration_date",
                default="",
                validate=_optional_date,
                help="day of signature, YYYY-MM-DD",
            ),
            SettingField("declaration_annex", default="", help="other contacts, URLs, details"),
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
    ca_bundle: str = ""
    leave_verifactu: bool = False
    reconcile_months: int = 2


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
            only_verifactu=bool(raw.get("only_verifactu", True)),
            multi_taxpayer_possible=bool(raw.get("multi_taxpayer", False)),
        ),
        production=bool(raw.get("production")),
        endpoint_url=url,
        uses_standin=url == standin_url,
        certificate_path=str(raw.get("certificate_path") or ""),
        key_path=str(raw.get("key_path") or ""),
        certificate_password=str(raw.get("certificate_password") or ""),
        batch_size=int(raw.get("batch_size") or MAX_BATCH),
        submission_enabled=bool(raw.get("submission_enabled")),
        ca_bundle=str(raw.get("ca_bundle") or ""),
        leave_verifactu=bool(raw.get("leave_verifactu")),
        reconcile_months=int(raw.get("reconcile_months") or 2),
    )


def demo() -> dict[str, Any]:
    """Demo/test settings: submit to the local stand-in."""
    return {"plugin": PLUGIN, "settings": {"endpoint_url": LOCAL_ENDPOINT}}
