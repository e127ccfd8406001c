"""The ``[plugin.paypal]`` settings: credentials, environment and how webhooks are verified."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from facturo.plugin import Context, PluginSettings, SettingField

from .api import LIVE_BASE_URL, SANDBOX_BASE_URL
from .ipn import LIVE_POSTBACK_URL, SANDBOX_POSTBACK_URL

ENVIRONMENTS = ("live", "sandbox", "local")
VERIFY_MODES = ("offline", "api")
#: Where the local sandbox is mounted (under the public section).
SANDBOX_PATH = "/public/paypal/sandbox"
WEBHOOK_PATH = "/public/paypal/webhook"
#: Where the local sandbox serves its webhook signing certificate (under SANDBOX_PATH).
SANDBOX_CERT_PATH = "/v1/notifications/certs/CERT-facturo-sandbox"


def _not_blank(value: Any) -> Any:
    if not str(value).strip():
        raise ValueError("must not be blank")
    return value


def _emails(value: Any) -> list[str]:
    emails = [str(item).strip() for item in value if str(item).strip()]
    for email in emails:
        if "@" not in email:
            raise ValueError(f"{email!r} is not an email address")
    return emails


def schema() -> PluginSettings:
    """The settings schema (``secret`` may come from FACTURO_PLUGIN__PAYPAL__SECRET)."""
    return PluginSettings(
        plugin="paypal",
        fields=(
            SettingField("client_id", required=True, validate=_not_blank),
            SettingField("secret", required=True, secret=True, validate=_not_blank),
            SettingField("webhook_id", required=True, validate=_not_blank),
            SettingField("environment", kind="choice", default="live", choices=ENVIRONMENTS),
            SettingField("brand_name", default=""),
            SettingField(
                "receiver_emails",
                kind="list",
                default=[],
                validate=_emails,
                help="PayPal account emails that may receive IPN payments",
            ),
            SettingField("verify_mode", kind="choice", default="offline", choices=VERIFY_MODES),
        ),
    )


DEMO = {
    "client_id": "sandbox-client-id",
    "secret": "sandbox-client-secret",
    "webhook_id": "SANDBOX-WEBHOOK-ID",
    "environment": "local",
    "brand_name": "PrestaImport",
    "receiver_emails": ["seller@paypalsandbox.com"],
    "verify_mode": "offline",
}


@dataclass(frozen=True)
class PayPalSettings:
    """Validated settings plus the URLs derived from the environment."""

    client_id: str
    secret: str
    webhook_id: str
    environment: str
    brand_name: str
    receiver_emails: tuple[str, ...]
    verify_mode: str
    api_base_url: str
    ipn_postback_url: str
    trusted_cert_prefixes: tuple[str, ...]
    webhook_url: str

    @property
    def is_local(self) -> bool:
        return self.environment == "local"


def load(ctx: Context) -> PayPalSettings:
    """Read ``[plugin.paypal]`` from ``ctx`` and derive the API, postback and sandbox URLs."""
    raw = ctx.settings_for("paypal")
    environment = str(raw.get("environment") or "live")
    sandbox_url = ctx.url(SANDBOX_PATH)
    trusted: tuple[str, ...]
    if environment == "local":
        # Only the sandbox's own certificate, at its exact URL, is trusted.
        api, postback = sandbox_url, sandbox_url + "/cgi-bin/webscr"
        trusted = (sandbox_url + SANDBOX_CERT_PATH,)
    elif environment == "sandbox":
        api, postback, trusted = SANDBOX_BASE_URL, SANDBOX_POSTBACK_URL, ()
    else:
        api, postback, trusted = LIVE_BASE_URL, LIVE_POSTBACK_URL, ()
    return PayPalSettings(
        client_id=str(raw["client_id"]),
        secret=str(raw["secret"]),
        webhook_id=str(raw["webhook_id"]),
        environment=environment,
        brand_name=str(raw.get("brand_name") or ctx.settings.seller.legal_name),
        receiver_emails=tuple(raw.get("receiver_emails") or ()),
        verify_mode=str(raw.get("verify_mode") or "offline"),
        api_base_url=api,
        ipn_postback_url=postback,
        trusted_cert_prefixes=trusted,
        webhook_url=ctx.url(WEBHOOK_PATH),
    )
