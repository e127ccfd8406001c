"""Hole 7: nested secret settings (IMAP account passwords, values resolved from ``*_env``) were
shown in clear on the staff plugins page. Every secret is masked — in tables and lists too —
and kept out of error messages."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from facturo.config import ConfigError
from facturo.context import validate_table
from facturo.contributions import PluginSettings, SettingField
from facturo.secret_values import MASK, masked
from facturo.testing import default_plugin_settings, logged_in_cookies
from tests.security.conftest import Site, new_staff

IMAP_PASSWORD = "imap-pass-Zq81"
ENV_PASSWORD = "from-the-env-Kp27"


def test_plugins_page_masks_nested_and_env_resolved_secrets(
    site_factory: Callable[..., Site], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SUPPORT_IMAP_PASSWORD", ENV_PASSWORD)
    tables = default_plugin_settings(("tickets", "paypal"))
    tables["tickets"]["imap_accounts"] = [
        {
            "department": "billing",
            "host": "imap.example.com",
            "user": "b@example.com",
            "password": IMAP_PASSWORD,
        },
        {
            "department": "support",
            "host": "imap.example.com",
            "user": "s@example.com",
            "password_env": "SUPPORT_IMAP_PASSWORD",
        },
    ]
    site = site_factory(plugins=("tickets", "paypal"), plugin_settings=tables)
    admin = new_staff(site.ctx, "admin")
    paypal_secret = str(site.ctx.settings_for("paypal")["secret"])
    with httpx.Client(base_url=site.url, cookies=logged_in_cookies(site.ctx, staff=admin)) as web:
        page = web.get("/admin/plugins")
    assert page.status_code == 200
    for secret in (IMAP_PASSWORD, ENV_PASSWORD, paypal_secret):
        assert secret not in page.text
    assert "imap.example.com" in page.text  # what is not secret still shows
    assert page.text.count(MASK) >= 3


def test_secrets_stay_out_of_error_messages() -> None:
    def refuse(value: object) -> object:
        raise ValueError(f"cannot use {value!r}")

    schema = PluginSettings(
        plugin="demo",
        fields=(
            SettingField("api_secret", secret=True, validate=refuse),
            SettingField("accounts", kind="list", secret_keys=("pin",), validate=refuse),
        ),
    )
    with pytest.raises(ConfigError) as caught:
        validate_table(schema, {"api_secret": "s3cr3t-value"})
    assert "s3cr3t-value" not in str(caught.value) and MASK in str(caught.value)
    with pytest.raises(ConfigError) as caught:
        validate_table(schema, {"accounts": [{"name": "a", "pin": "9731"}]})
    assert "9731" not in str(caught.value)


def test_masked_walks_tables_lists_and_dataclasses() -> None:
    from dataclasses import dataclass

    @dataclass
    class Account:
        user: str
        password: str

    value = {
        "accounts": [Account("u", "p4ss"), {"token": "t0k", "host": "h"}],
        "password_env": "VAR",
    }
    assert masked(value) == {
        "accounts": [{"user": "u", "password": MASK}, {"token": MASK, "host": "h"}],
        "password_env": "VAR",
    }


def test_settings_repr_hides_the_secret_key() -> None:
    from facturo.config import settings_from_mapping

    settings = settings_from_mapping({"secret_key": "k" * 40, "smtp": {"password": "smtp-pw-1"}})
    assert "k" * 40 not in repr(settings) and "smtp-pw-1" not in repr(settings)
