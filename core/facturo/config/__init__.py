"""Settings: ``facturo.toml`` plus ``FACTURO_*`` environment overrides.

Environment variables name a key by its path joined with double underscores, e.g.
``FACTURO_DATABASE_URL``, ``FACTURO_SMTP__PASSWORD`` or
``FACTURO_PLUGIN__RURALVIA__SECRET_KEY``. A bad or missing setting raises
:class:`ConfigError`, which names the key and says what is wrong.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from facturo.config.reader import ConfigError, TableReader
from facturo.config.sections import (
    Books,
    Legal,
    Security,
    Sessions,
    logo_path,
    read_books,
    read_legal,
    read_security,
)

__all__ = [
    "Billing",
    "Books",
    "ConfigError",
    "Delivery",
    "Legal",
    "Operations",
    "GatewaySettings",
    "Security",
    "Seller",
    "Sessions",
    "Settings",
    "Smtp",
    "load_settings",
    "settings_from_mapping",
]

ENV_PREFIX = "FACTURO_"
DEFAULT_CONFIG_PATH = "facturo.toml"
SMTP_SECURITY = ("none", "starttls", "ssl")


@dataclass(frozen=True)
class Seller:
    legal_name: str
    nif: str
    address: str
    postal_code: str
    city: str
    province: str
    country: str
    email: str
    phone: str


@dataclass(frozen=True)
class Smtp:
    host: str
    port: int
    security: str
    user: str
    password: str = field(repr=False)
    from_address: str
    reply_to: str

    @property
    def configured(self) -> bool:
        return bool(self.host)


@dataclass(frozen=True)
class Billing:
    invoice_days_before: int = 14
    reminder_days_before: tuple[int, ...] = (7, 1)
    reminder_days_after: tuple[int, ...] = (1, 3)
    suspend_after_days: int = 7
    terminate_after_days: int = 30
    run_hour: int = 6
    proforma_format: str = "PRO-{year}-{seq:06}"
    invoice_format: str = "F{year}-{seq:06}"
    credit_note_format: str = "R{year}-{seq:06}"
    payment_terms_days: int = 0
    #: Days after the first charge of a renewal to a saved method on which a declined charge
    #: is tried again; after the last one the proforma is left to the customer.
    collection_retry_days: tuple[int, ...] = (1, 3, 7)
    #: An add-on bought mid-term is charged pro rata to its licence's next due date and then
    #: renews with it (same cycle, same renewal proforma); see billing.proration.
    coterm_addons: bool = True


@dataclass(frozen=True)
class Delivery:
    """How the worker delivers the outbox: claim leases and retries (``[delivery]``)."""

    lease_seconds: int = 60
    retry_base_seconds: int = 60
    retry_max_delay_seconds: int = 3600
    retry_for_hours: int = 96


@dataclass(frozen=True)
class Operations:
    """Health and metrics endpoints (``[operations]``)."""

    metrics_token: str = ""
    worker_stale_seconds: int = 300


@dataclass(frozen=True)
class GatewaySettings:
    """Gateway reconciliation (``[gateways]``): payment attempts still pending
    ``reconcile_after_seconds`` after they started, and notifications stored but not applied
    for as long, are asked about (attempts only within ``reconcile_window_hours``)."""

    reconcile_after_seconds: int = 300
    reconcile_window_hours: int = 48
    reconcile_interval_seconds: int = 60


@dataclass(frozen=True)
class Logging:
    """How the long-running commands log (``[logging]``): ``format`` text or json."""

    format: str = "text"
    level: str = "INFO"


LOG_FORMATS = ("text", "json")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


@dataclass(frozen=True)
class Settings:
    """Every setting of one Facturo installation, validated."""

    database_url: str
    secret_key: str = field(repr=False)
    base_url: str
    time_zone: str
    currency: str
    data_dir: Path
    seller: Seller
    smtp: Smtp
    billing: Billing
    enabled_plugins: tuple[str, ...]
    plugin_tables: Mapping[str, Mapping[str, Any]] = field(default_factory=dict, repr=False)
    #: ``[plugins] strict``: refuse to start on plugin mistakes that are otherwise warnings.
    plugins_strict: bool = False
    books: Books = Books()
    embedded_worker: bool = True
    legal: Legal = field(default_factory=Legal)
    demo: bool = False
    rate_limit_storage: str = "memory://"
    rate_limit_key_prefix: str = "facturo"
    admin_two_factor_required: bool = True
    delivery: Delivery = field(default_factory=Delivery)
    operations: Operations = field(default_factory=Operations)
    gateways: GatewaySettings = field(default_factory=GatewaySettings)
    logging: Logging = field(default_factory=Logging)
    security: Security = field(default_factory=Security)
    source: Path | None = None
    #: ``[seller] logo``: a PNG or JPEG printed on documents; branding, not frozen on them.
    seller_logo: Path | None = None

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    @property
    def mail_dir(self) -> Path:
        return self.data_dir / "mail"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def plugin_table(self, name: str) -> Mapping[str, Any]:
        """Return the raw ``[plugin.<name>]`` table (empty when absent)."""
        return self.plugin_tables.get(name, {})


def load_settings(
    path: str | Path | None = None,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Read the TOML file (if it exists), apply environment and explicit overrides, validate.

    ``path`` defaults to ``$FACTURO_CONFIG`` or ``./facturo.toml``. Raises ConfigError.
    """
    env = os.environ if environ is None else environ
    config_path = Path(path or env.get("FACTURO_CONFIG") or DEFAULT_CONFIG_PATH)
    raw: dict[str, Any] = {}
    if config_path.exists():
        try:
            raw = tomllib.loads(config_path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(str(config_path), f"is not valid TOML: {exc}") from exc
    elif path is not None:
        raise ConfigError(str(config_path), "file not found")
    _apply_environment(raw, env)
    for dotted, value in (overrides or {}).items():
        _set_path(raw, dotted.split("."), value)
    settings = settings_from_mapping(raw)
    return _with_source(settings, config_path if config_path.exists() else None)


def _with_source(settings: Settings, source: Path | None) -> Settings:
    from dataclasses import replace

    return replace(settings, source=source)


def _apply_environment(raw: dict[str, Any], env: Mapping[str, str]) -> None:
    for name, value in env.items():
        if not name.startswith(ENV_PREFIX) or name == "FACTURO_CONFIG":
            continue
        if name.startswith("FACTURO_TEST_"):
            continue
        parts = [part.lower() for part in name[len(ENV_PREFIX) :].split("__")]
        _set_path(raw, parts, value)


def _set_path(raw: dict[str, Any], parts: list[str], value: Any) -> None:
    node = raw
    for part in parts[:-1]:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise ConfigError(".".join(parts), "conflicts with a value that is not a table")
        node = child
    node[parts[-1]] = value


def settings_from_mapping(raw: Mapping[str, Any]) -> Settings:
    """Validate a raw settings mapping (as parsed from TOML) into :class:`Settings`."""
    reader = TableReader(raw)
    secret_key = reader.text("secret_key", required=True)
    if len(secret_key) < 32:
        raise ConfigError("secret_key", "must be at least 32 characters long")
    time_zone = reader.text("time_zone", default="Europe/Madrid")
    try:
        ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError("time_zone", f"unknown time zone {time_zone!r}") from exc
    currency = reader.text("currency", default="EUR").upper()
    if len(currency) != 3 or not currency.isalpha():
        raise ConfigError("currency", "must be an ISO 4217 code such as EUR")
    base_url = reader.text("base_url", default="http://127.0.0.1:8000").rstrip("/")
    if not base_url.startswith(("http://", "https://")):
        raise ConfigError("base_url", "must start with http:// or https://")
    database_url = reader.text("database_url", default="sqlite:///var/facturo.db")
    if not database_url.startswith(("sqlite", "postgresql")):
        raise ConfigError("database_url", "must be a sqlite:/// or postgresql:// URL")
    seller = reader.table("seller")
    smtp = reader.table("smtp")
    billing = reader.table("billing")
    plugins = reader.table("plugins")
    books = read_books(reader.table("books"))
    security = smtp.text("security", default="starttls").lower()
    if security not in SMTP_SECURITY:
        raise ConfigError("smtp.security", f"must be one of {', '.join(SMTP_SECURITY)}")
    plugin_tables = reader.table("plugin")
    delivery = reader.table("delivery")
    operations = reader.table("operations")
    gateways = reader.table("gateways")
    demo = reader.boolean("demo", default=False)
    legal = read_legal(reader.table("legal"))
    return Settings(
        database_url=database_url,
        secret_key=secret_key,
        base_url=base_url,
        time_zone=time_zone,
        currency=currency,
        data_dir=Path(reader.text("data_dir", default="var")),
        seller=Seller(
            legal_name=seller.text("legal_name", default="Facturo Demo S.L."),
            nif=seller.text("nif", default="B00000000"),
            address=seller.text("address", default=""),
            postal_code=seller.text("postal_code", default=""),
            city=seller.text("city", default=""),
            province=seller.text("province", default=""),
            country=seller.text("country", default="ES").upper(),
            email=seller.text("email", default="billing@example.com"),
            phone=seller.text("phone", default=""),
        ),
        smtp=Smtp(
            host=smtp.text("host", default=""),
            port=smtp.integer("port", default=587 if security == "starttls" else 25),
            security=security,
            user=smtp.text("user", default=""),
            password=smtp.text("password", default=""),
            from_address=smtp.text("from_address", default="billing@example.com"),
            reply_to=smtp.text("reply_to", default=""),
        ),
        billing=Billing(
            invoice_days_before=billing.integer("invoice_days_before", default=14, minimum=0),
            reminder_days_before=billing.integers("reminder_days_before", default=(7, 1)),
            reminder_days_after=billing.integers("reminder_days_after", default=(1, 3)),
            suspend_after_days=billing.integer("suspend_after_days", default=7, minimum=0),
            terminate_after_days=billing.integer("terminate_after_days", default=30, minimum=0),
            run_hour=billing.integer("run_hour", default=6, minimum=0, maximum=23),
            proforma_format=billing.series_format("proforma_format", "PRO-{year}-{seq:06}"),
            invoice_format=billing.series_format("invoice_format", "F{year}-{seq:06}"),
            credit_note_format=billing.series_format("credit_note_format", "R{year}-{seq:06}"),
            payment_terms_days=billing.integer("payment_terms_days", default=0, minimum=0),
            collection_retry_days=billing.integers("collection_retry_days", default=(1, 3, 7)),
            coterm_addons=billing.boolean("coterm_addons", default=True),
        ),
        enabled_plugins=plugins.names("enabled"),
        plugins_strict=plugins.boolean("strict", default=False),
        plugin_tables={name: dict(table) for name, table in plugin_tables.raw.items()},
        embedded_worker=reader.boolean("embedded_worker", default=True),
        legal=legal,
        rate_limit_storage=reader.text("rate_limit_storage", default="memory://"),
        rate_limit_key_prefix=reader.text("rate_limit_key_prefix", default="facturo"),
        demo=demo,
        admin_two_factor_required=reader.boolean("admin_two_factor_required", default=not demo),
        seller_logo=logo_path(seller.text("logo", default="")),
        delivery=Delivery(
            lease_seconds=delivery.integer("lease_seconds", default=60, minimum=2),
            retry_base_seconds=delivery.integer("retry_base_seconds", default=60, minimum=1),
            retry_max_delay_seconds=delivery.integer(
                "retry_max_delay_seconds", default=3600, minimum=1
            ),
            retry_for_hours=delivery.integer("retry_for_hours", default=96, minimum=1),
        ),
        operations=Operations(
            metrics_token=operations.text("metrics_token", default=""),
            worker_stale_seconds=operations.integer(
                "worker_stale_seconds", default=300, minimum=10
            ),
        ),
        gateways=GatewaySettings(
            reconcile_after_seconds=gateways.integer(
                "reconcile_after_seconds", default=300, minimum=0
            ),
            reconcile_window_hours=gateways.integer(
                "reconcile_window_hours", default=48, minimum=1
            ),
            reconcile_interval_seconds=gateways.integer(
                "reconcile_interval_seconds", default=60, minimum=5
            ),
        ),
        books=books,
        security=read_security(reader),
        logging=read_logging(reader.table("logging")),
    )


def read_logging(table: TableReader) -> Logging:
    """``[logging]``: format (text or json) and level."""
    fmt = table.text("format", default="text").lower()
    if fmt not in LOG_FORMATS:
        raise ConfigError(table.key("format"), f"must be one of {', '.join(LOG_FORMATS)}")
    level = table.text("level", default="INFO").upper()
    if level not in LOG_LEVELS:
        raise ConfigError(table.key("level"), f"must be one of {', '.join(LOG_LEVELS)}")
    return Logging(format=fmt, level=level)
