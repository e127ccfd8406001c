"""Settings: ``facturo.toml`` plus ``FACTURO_*`` environment overrides.

Environment variables name a key by its path joined with double underscores, e.g.
``FACTURO_DATABASE_URL``, ``FACTURO_SMTP__PASSWORD`` or
``FACTURO_PLUGIN__RURALVIA__SECRET_KEY``. A bad or missing setting raises
:class:`ConfigError`, which names the key and says what is wrong.
"""

from __future__ import annotations

import ipaddress
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

ENV_PREFIX = "FACTURO_"
DEFAULT_CONFIG_PATH = "facturo.toml"
SMTP_SECURITY = ("none", "starttls", "ssl")


class ConfigError(Exception):
    """A setting is missing or invalid; ``key`` is its dotted path."""

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(f"setting {key!r}: {problem}")
        self.key = key
        self.problem = problem


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


@dataclass(frozen=True)
class Sessions:
    """How long a login lasts: idle (sliding) and absolute lifetimes, per kind of user."""

    staff_idle_minutes: int = 30
    staff_max_hours: int = 12
    customer_idle_days: int = 14
    customer_max_days: int = 90


@dataclass(frozen=True)
class Security:
    """Security settings: proxies, two-factor requirements, HSTS, password strength."""

    trusted_proxies: tuple[str, ...] = ()
    customer_two_factor_required: bool = False
    hsts_max_age: int = 31536000
    password_min_score: int = 3
    sessions: Sessions = field(default_factory=Sessions)


@dataclass(frozen=True)
class Books:
    """``[books]``: the activity columns of the VAT books (AEAT common format) ⚠ — code A
    (activities in the IAE) / type 03 (other business activities) fit a software company;
    ``iae_epigraph`` is the seller's IAE heading (up to 4 characters)."""

    activity_code: str = "A"
    activity_type: str = "03"
    iae_epigraph: str = ""


@dataclass(frozen=True)
class Legal:
    """The terms and privacy pages (an external URL, or a local Markdown/HTML file served at
    /terms and /privacy) and the version of the consumer's consent text."""

    terms_url: str = ""
    privacy_url: str = ""
    terms_file: str = ""
    privacy_file: str = ""
    consent_version: str = "2026-12"
    withdrawal_days: int = 14


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
    books: Books = Books()
    embedded_worker: bool = True
    legal: Legal = field(default_factory=Legal)
    demo: bool = False
    rate_limit_storage: str = "memory://"
    admin_two_factor_required: bool = True
    security: Security = field(default_factory=Security)
    source: Path | None = None

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
    reader = _Reader(raw)
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
    books = _books(reader.table("books"))
    security = smtp.text("security", default="starttls").lower()
    if security not in SMTP_SECURITY:
        raise ConfigError("smtp.security", f"must be one of {', '.join(SMTP_SECURITY)}")
    plugin_tables = reader.table("plugin")
    demo = reader.boolean("demo", default=False)
    legal = _legal(reader.table("legal"))
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
        ),
        enabled_plugins=plugins.names("enabled"),
        plugin_tables={name: dict(table) for name, table in plugin_tables.raw.items()},
        embedded_worker=reader.boolean("embedded_worker", default=True),
        legal=legal,
        rate_limit_storage=reader.text("rate_limit_storage", default="memory://"),
        demo=demo,
        admin_two_factor_required=reader.boolean("admin_two_factor_required", default=not demo),
        books=books,
        security=_security(reader),
    )


def _security(reader: _Reader) -> Security:
    """The security settings: ``trusted_proxies``, ``customer_two_factor_required``,
    ``hsts_max_age``, ``password_min_score`` (top level) and the ``[sessions]`` table."""
    proxies = reader.names("trusted_proxies", "IP addresses or networks")
    for proxy in proxies:
        try:
            ipaddress.ip_network(proxy, strict=False)
        except ValueError as exc:
            raise ConfigError(
                "trusted_proxies", f"{proxy!r} is not an IP address or network"
            ) from exc
    sessions = reader.table("sessions")
    return Security(
        trusted_proxies=proxies,
        customer_two_factor_required=reader.boolean("customer_two_factor_required", default=False),
        hsts_max_age=reader.integer("hsts_max_age", default=31536000, minimum=0),
        password_min_score=reader.integer("password_min_score", default=3, minimum=0, maximum=4),
        sessions=Sessions(
            staff_idle_minutes=sessions.integer("staff_idle_minutes", default=30, minimum=1),
            staff_max_hours=sessions.integer("staff_max_hours", default=12, minimum=1),
            customer_idle_days=sessions.integer("customer_idle_days", default=14, minimum=1),
            customer_max_days=sessions.integer("customer_max_days", default=90, minimum=1),
        ),
    )


def _books(table: _Reader) -> Books:
    code = table.text("activity_code", default="A").upper()
    if code not in ("A", "B", "C", "D"):
        raise ConfigError(table.key("activity_code"), "must be A, B, C or D")
    kind = table.text("activity_type", default="03")
    if not (len(kind) == 2 and kind.isdigit()):
        raise ConfigError(table.key("activity_type"), "must be two digits such as 03")
    epigraph = table.text("iae_epigraph", default="")
    if len(epigraph) > 4:
        raise ConfigError(table.key("iae_epigraph"), "has at most 4 characters")
    return Books(activity_code=code, activity_type=kind, iae_epigraph=epigraph)


def _legal(table: _Reader) -> Legal:
    urls = {}
    for name in ("terms_url", "privacy_url"):
        value = table.text(name, default="").strip()
        if value and not value.startswith(("http://", "https://", "/")):
            raise ConfigError(table.key(name), "must be an http(s) URL or a path on this site")
        urls[name] = value
    files = {}
    for name in ("terms_file", "privacy_file"):
        value = table.text(name, default="").strip()
        if value and Path(value).suffix.lower() not in (".md", ".markdown", ".html", ".htm"):
            raise ConfigError(table.key(name), "must be a Markdown (.md) or HTML (.html) file")
        if value and not Path(value).is_file():
            raise ConfigError(table.key(name), f"file not found: {value}")
        files[name] = value
    version = table.text("consent_version", default="2026-12").strip()
    if not version or len(version) > 32:
        raise ConfigError(table.key("consent_version"), "must be 1 to 32 characters")
    return Legal(
        **urls,
        **files,
        consent_version=version,
        withdrawal_days=table.integer("withdrawal_days", default=14, minimum=14),
    )


class _Reader:
    """Typed access to one TOML table, raising ConfigError with the dotted key."""

    def __init__(self, raw: Mapping[str, Any], prefix: str = "") -> None:
        self.raw = raw
        self.prefix = prefix

    def key(self, name: str) -> str:
        return f"{self.prefix}{name}"

    def table(self, name: str) -> _Reader:
        value = self.raw.get(name, {})
        if not isinstance(value, Mapping):
            raise ConfigError(self.key(name), "must be a table")
        return _Reader(value, prefix=f"{self.key(name)}.")

    def text(self, name: str, default: str | None = None, required: bool = False) -> str:
        value = self.raw.get(name)
        if value is None or (required and value == ""):
            if required or default is None:
                raise ConfigError(self.key(name), "is missing")
            return default
        if not isinstance(value, str):
            raise ConfigError(self.key(name), "must be a string")
        return value

    def integer(
        self, name: str, default: int, minimum: int | None = None, maximum: int | None = None
    ) -> int:
        value = self.raw.get(name, default)
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            value = int(value)
        if not isinstance(value, int) or isinstance(value, bool):
            raise ConfigError(self.key(name), "must be a whole number")
        if minimum is not None and value < minimum:
            raise ConfigError(self.key(name), f"must be at least {minimum}")
        if maximum is not None and value > maximum:
            raise ConfigError(self.key(name), f"must be at most {maximum}")
        return value

    def integers(self, name: str, default: tuple[int, ...]) -> tuple[int, ...]:
        value = self.raw.get(name, list(default))
        if isinstance(value, str):
            value = [part for part in value.split(",") if part.strip()]
        if not isinstance(value, list):
            raise ConfigError(self.key(name), "must be a list of whole numbers")
        try:
            numbers = tuple(int(item) for item in value)
        except (TypeError, ValueError) as exc:
            raise ConfigError(self.key(name), "must be a list of whole numbers") from exc
        if any(number < 0 for number in numbers):
            raise ConfigError(self.key(name), "must not hold negative numbers")
        return numbers

    def boolean(self, name: str, default: bool) -> bool:
        value = self.raw.get(name, default)
        if isinstance(value, str):
            lowered = value.strip().lower()
            if lowered in ("1", "true", "yes", "on"):
                return True
            if lowered in ("0", "false", "no", "off"):
                return False
        if not isinstance(value, bool):
            raise ConfigError(self.key(name), "must be true or false")
        return value

    def names(self, name: str, what: str = "plugin names") -> tuple[str, ...]:
        value = self.raw.get(name, [])
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise ConfigError(self.key(name), f"must be a list of {what}")
        return tuple(dict.fromkeys(value))

    def series_format(self, name: str, default: str) -> str:
        value = self.text(name, default=default)
        try:
            sample = value.format(year=2026, seq=1)
        except (KeyError, ValueError, IndexError) as exc:
            raise ConfigError(
                self.key(name), "must use only {year} and {seq} placeholders"
            ) from exc
        if "{seq" not in value or sample == value.format(year=2026, seq=2):
            raise ConfigError(self.key(name), "must contain the {seq} placeholder")
        return value
