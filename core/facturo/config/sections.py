"""The settings sections that need more than reading a value: security and sessions, the
seller's logo, the VAT books and the legal pages."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from pathlib import Path

from facturo.config.reader import ConfigError, TableReader

#: What ``[seller] logo`` may be: the first bytes of a PNG or a JPEG file, and at most 2 MB.
LOGO_SIGNATURES = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff")
LOGO_MAX_BYTES = 2 * 1024 * 1024


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


def read_security(reader: TableReader) -> Security:
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


def logo_path(value: str) -> Path | None:
    """The seller logo file (relative paths from the working directory), checked to be a
    readable PNG or JPEG of at most 2 MB; None when not set."""
    if not value.strip():
        return None
    path = Path(value.strip()).expanduser()
    try:
        size = path.stat().st_size
        with path.open("rb") as handle:
            head = handle.read(8)
    except OSError as exc:
        raise ConfigError("seller.logo", f"cannot read {str(path)!r}: {exc.strerror}") from exc
    if not head.startswith(LOGO_SIGNATURES):
        raise ConfigError("seller.logo", f"{str(path)!r} is not a PNG or JPEG image")
    if size > LOGO_MAX_BYTES:
        raise ConfigError("seller.logo", f"{str(path)!r} is larger than 2 MB")
    return path.resolve()


def read_books(table: TableReader) -> Books:
    """The ``[books]`` table: the sales register's activity columns."""
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


def read_legal(table: TableReader) -> Legal:
    """The ``[legal]`` table: terms and privacy pages, consent text version, withdrawal days."""
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
