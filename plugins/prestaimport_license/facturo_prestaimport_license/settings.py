"""The plugin's settings: schema for ``[plugin.prestaimport_license]`` and a typed view of it."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from limits import parse

from facturo.plugin import Context, PluginSettings, SettingField

from .signing import Keyring, load_private_key

PLUGIN = "prestaimport_license"
DEMO_SEED_TEXT = b"facturo demo prestaimport_license"


def _signing_keys(value: Any) -> dict[str, str]:
    """Parse ``["kid=PEM-or-seed", ...]`` into ``{kid: PEM or seed}``; every key must load."""
    items = value if isinstance(value, list) else [value]
    keys: dict[str, str] = {}
    for item in items:
        kid, sep, material = str(item).partition("=")
        if not sep or not kid.strip() or not material.strip():
            raise ValueError("each entry must look like kid=<PEM or 32-byte seed>")
        load_private_key(material.strip())
        keys[kid.strip()] = material.strip()
    return keys


def _secret(value: Any) -> str:
    if len(str(value).encode("utf-8")) < 16:
        raise ValueError("must be at least 16 bytes long")
    return str(value)


def _limit(value: Any) -> str:
    text = str(value).strip()
    if text.lower() == "off":
        return ""
    if text:
        try:
            parse(text)
        except ValueError as exc:
            raise ValueError(f"{text!r} is not a rate limit such as 60/10 minutes") from exc
    return text


def schema() -> PluginSettings:
    """The settings schema (secrets may come from the environment)."""
    return PluginSettings(
        plugin=PLUGIN,
        build=build_config,
        fields=(
            SettingField("key_pepper", required=True, secret=True, validate=_secret),
            SettingField("key_encryption_secret", required=True, secret=True, validate=_secret),
            SettingField(
                "signing_keys",
                kind="list",
                required=True,
                secret=True,
                validate=_signing_keys,
                help="kid=<Ed25519 PEM or 32-byte hex seed>, comma separated",
            ),
            SettingField("active_kid", required=True),
            SettingField("issuer", default="facturo"),
            SettingField("prefix", default="PIG"),
            SettingField("grace_days", kind="int", default=0),
            SettingField("lease_ttl_hours", kind="int", default=168),
            SettingField("refresh_after_hours", kind="int", default=24),
            SettingField("moves_per_year", kind="int", default=3),
            SettingField("move_cooldown_hours", kind="int", default=24),
            SettingField("rate_limit_ip", default="60/10 minutes", validate=_limit),
            SettingField("rate_limit_key", default="120/hour", validate=_limit),
            SettingField(
                "validation_log_days",
                kind="int",
                default=400,
                help="days of validation log kept (0 = keep everything)",
            ),
            SettingField(
                "log_batch_size",
                kind="int",
                default=1,
                help="validation log rows written together (1 = in the request)",
            ),
            SettingField(
                "usage_days",
                kind="int",
                default=30,
                help="days the staff usage charts and sharing alerts cover (1-90)",
            ),
            SettingField(
                "renewal_offer_days",
                kind="int",
                default=14,
                help="an add-on expiring within this many days gets a renewal offer in leases",
            ),
            SettingField(
                "offer_link_days",
                kind="int",
                default=3,
                help="days a one-time renewal payment link stays valid",
            ),
        ),
    )


def demo_signing_seed() -> str:
    """The demo's fixed signing seed (reproducible demo; never use it in production)."""
    return hashlib.sha256(DEMO_SEED_TEXT + b" signing").hexdigest()


def demo_settings() -> dict[str, Any]:
    """Settings for ``facturo demo`` and tests: fixed, derived secrets."""
    return {
        "plugin": PLUGIN,
        "settings": {
            "key_pepper": hashlib.sha256(DEMO_SEED_TEXT + b" pepper").hexdigest(),
            "key_encryption_secret": hashlib.sha256(DEMO_SEED_TEXT + b" encryption").hexdigest(),
            "signing_keys": [f"demo-2026={demo_signing_seed()}"],
            "active_kid": "demo-2026",
            "issuer": "facturo-demo",
            "grace_days": 7,
        },
    }


@dataclass(frozen=True)
class LicenseConfig:
    """The validated settings, with the keyring built once."""

    pepper: str
    encryption_secret: str
    keyring: Keyring
    issuer: str
    prefix: str
    grace: timedelta
    lease_ttl: timedelta
    refresh_after: timedelta
    moves_per_year: int
    move_cooldown: timedelta
    rate_limit_ip: str
    rate_limit_key: str
    log_batch_size: int
    usage_days: int = 30
    renewal_offer: timedelta = timedelta(days=14)
    offer_link_ttl: timedelta = timedelta(days=3)
    validation_log_days: int = 400


def config(ctx: Context) -> LicenseConfig:
    """The plugin's configuration: ``ctx.settings_for`` built it once, at start-up."""
    found = ctx.settings_for(PLUGIN)
    if not isinstance(found, LicenseConfig):
        raise RuntimeError(f"the {PLUGIN} plugin is not enabled in this installation")
    return found


def build_config(raw: dict[str, Any]) -> LicenseConfig:
    """The configuration from the checked ``[plugin.prestaimport_license]`` values, with the
    keyring parsed (the schema's ``build``, run once per installation)."""
    keys = raw["signing_keys"]
    if not isinstance(keys, dict):
        keys = _signing_keys(keys)
    return LicenseConfig(
        pepper=raw["key_pepper"],
        encryption_secret=raw["key_encryption_secret"],
        keyring=Keyring.from_pem_mapping(keys, raw["active_kid"]),
        issuer=raw.get("issuer") or "facturo",
        prefix=raw.get("prefix") or "PIG",
        grace=timedelta(days=int(raw.get("grace_days") or 0)),
        lease_ttl=timedelta(hours=int(raw.get("lease_ttl_hours") or 168)),
        refresh_after=timedelta(hours=int(raw.get("refresh_after_hours") or 24)),
        moves_per_year=int(raw.get("moves_per_year") or 0),
        move_cooldown=timedelta(hours=int(raw.get("move_cooldown_hours") or 0)),
        rate_limit_ip=str(raw.get("rate_limit_ip") or ""),
        rate_limit_key=str(raw.get("rate_limit_key") or ""),
        log_batch_size=max(1, int(raw.get("log_batch_size") or 1)),
        usage_days=min(90, max(1, int(raw.get("usage_days") or 30))),
        renewal_offer=timedelta(days=max(0, int(raw.get("renewal_offer_days") or 0))),
        offer_link_ttl=timedelta(days=max(1, int(raw.get("offer_link_days") or 3))),
        validation_log_days=max(0, int(raw.get("validation_log_days", 400) or 0)),
    )
