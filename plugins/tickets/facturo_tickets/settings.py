"""Settings of the tickets plugin (``[plugin.tickets]``) and the typed view of them."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from facturo.plugin import Context, PluginSettings, SettingField

from .targets import DEFAULT_HOURS

PLUGIN = "tickets"


@dataclass(frozen=True)
class ImapAccount:
    """One mailbox polled for a department (``[[plugin.tickets.imap_accounts]]``)."""

    department: str
    host: str
    user: str
    password: str
    port: int = 993
    folder: str = "INBOX"
    ssl: bool = True


def _days(value: Any) -> int:
    days = int(value)
    if not 0 <= days <= 365:
        raise ValueError("must be 0 to 365 days (0 = never)")
    return days


def _hours(value: Any) -> int:
    hours = int(value)
    if not 0 <= hours <= 24 * 30:
        raise ValueError("must be 0 to 720 hours (0 = no target)")
    return hours


def _domains(value: Any) -> list[str]:
    domains = [str(v).strip().lower() for v in value if str(v).strip()]
    for domain in domains:
        if "." not in domain or "@" in domain or " " in domain:
            raise ValueError(f"{domain!r} is not a mail domain")
    return domains


def _account(raw: Any) -> ImapAccount:
    if not isinstance(raw, Mapping):
        raise ValueError("each IMAP account is a table {department, host, user, password…}")
    unknown = set(raw) - {"department", "host", "user", "password", "password_env", "port"}
    unknown -= {"folder", "ssl"}
    if unknown:
        raise ValueError(f"unknown IMAP account keys: {', '.join(sorted(unknown))}")
    for key in ("department", "host", "user"):
        if not str(raw.get(key) or "").strip():
            raise ValueError(f"an IMAP account needs {key}")
    password = str(raw.get("password") or "")
    if raw.get("password_env"):
        password = os.environ.get(str(raw["password_env"]), "")
    return ImapAccount(
        department=str(raw["department"]).strip().lower(),
        host=str(raw["host"]).strip(),
        user=str(raw["user"]).strip(),
        password=password,
        port=int(raw.get("port") or 993),
        folder=str(raw.get("folder") or "INBOX"),
        ssl=bool(raw.get("ssl", True)),
    )


def _accounts(value: Any) -> list[ImapAccount]:
    return [_account(item) for item in value]


def schema(ctx: Context) -> PluginSettings:
    """The settings schema; attachments default to ``<data_dir>/tickets`` (outside the web
    root)."""
    return PluginSettings(
        plugin=PLUGIN,
        fields=(
            SettingField(
                "our_domains",
                kind="list",
                default=[],
                validate=_domains,
                help="mail domains we send from (loop protection); default: the From domain",
            ),
            SettingField("guest_tickets", kind="bool", default=False),
            SettingField("auto_close_days", kind="int", default=7, validate=_days),
            SettingField("auto_close_warning_days", kind="int", default=2, validate=_days),
            *(
                SettingField(
                    f"first_response_hours_{priority}",
                    kind="int",
                    default=hours,
                    validate=_hours,
                    help=f"hours a {priority} ticket may wait for its first reply (0 = none)",
                )
                for priority, hours in DEFAULT_HOURS.items()
            ),
            SettingField("attachments_dir", default=str(Path(ctx.settings.data_dir) / "tickets")),
            SettingField("imap_enabled", kind="bool", default=False),
            SettingField("imap_interval_seconds", kind="int", default=300),
            SettingField(
                "imap_accounts",
                kind="list",
                default=[],
                validate=_accounts,
                secret_keys=("password",),
                help="tables {department, host, user, password | password_env, port, folder}",
            ),
        ),
    )


@dataclass(frozen=True)
class Config:
    """The validated settings in one typed object."""

    our_domains: tuple[str, ...]
    guest_tickets: bool
    auto_close_days: int
    auto_close_warning_days: int
    attachments_dir: Path
    imap_enabled: bool
    imap_interval_seconds: int
    imap_accounts: tuple[ImapAccount, ...]
    first_response_hours: dict[str, int]

    @property
    def message_domain(self) -> str:
        """The domain of the Message-IDs we write (the first of ``our_domains``)."""
        return self.our_domains[0]


def config(ctx: Context) -> Config:
    """Return the plugin's settings, typed; ``our_domains`` falls back to the sender domain."""
    raw = ctx.settings_for(PLUGIN)
    domains = tuple(raw.get("our_domains") or ())
    if not domains:
        domain = ctx.settings.smtp.from_address.rpartition("@")[2].lower() or "facturo.local"
        domains = (domain,)
    accounts = tuple(
        a if isinstance(a, ImapAccount) else _account(a) for a in raw.get("imap_accounts") or ()
    )
    return Config(
        our_domains=domains,
        guest_tickets=bool(raw.get("guest_tickets")),
        auto_close_days=int(raw.get("auto_close_days") or 0),
        auto_close_warning_days=int(raw.get("auto_close_warning_days") or 0),
        attachments_dir=Path(str(raw.get("attachments_dir"))),
        imap_enabled=bool(raw.get("imap_enabled")),
        imap_interval_seconds=int(raw.get("imap_interval_seconds") or 300),
        imap_accounts=accounts,
        first_response_hours={
            priority: int(raw.get(f"first_response_hours_{priority}", hours))
            for priority, hours in DEFAULT_HOURS.items()
        },
    )


def demo() -> dict[str, Any]:
    """Demo/test settings: no IMAP, auto-reply to unknown senders."""
    return {
        "plugin": PLUGIN,
        "settings": {"our_domains": ["facturo.es"], "auto_close_days": 7},
    }
