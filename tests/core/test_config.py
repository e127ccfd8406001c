"""Settings: TOML plus FACTURO_* overrides; every bad setting names its key."""

from __future__ import annotations

from pathlib import Path

import pytest

from facturo.config import ConfigError, load_settings

SECRET = "s" * 40


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "facturo.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_reads_toml_and_environment_overrides(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        f'secret_key = "{SECRET}"\n[smtp]\nhost = "mail.example.com"\n[plugins]\nenabled = ["transfer"]\n',
    )
    settings = load_settings(
        path, environ={"FACTURO_SMTP__PORT": "2525", "FACTURO_CURRENCY": "usd"}
    )
    assert settings.smtp.host == "mail.example.com"
    assert settings.smtp.port == 2525
    assert settings.currency == "USD"
    assert settings.enabled_plugins == ("transfer",)
    assert settings.time_zone == "Europe/Madrid"


def test_plugin_tables_take_environment_secrets(tmp_path: Path) -> None:
    path = write(tmp_path, f'secret_key = "{SECRET}"\n[plugin.ruralvia]\nterminal = "1"\n')
    settings = load_settings(path, environ={"FACTURO_PLUGIN__RURALVIA__SECRET_KEY": "abc"})
    assert settings.plugin_table("ruralvia") == {"terminal": "1", "secret_key": "abc"}


@pytest.mark.parametrize(
    ("text", "key", "problem"),
    [
        ("", "secret_key", "is missing"),
        ('secret_key = "short"', "secret_key", "at least 32"),
        (f'secret_key = "{SECRET}"\ntime_zone = "Mars/Olympus"', "time_zone", "unknown time zone"),
        (f'secret_key = "{SECRET}"\ncurrency = "EURO"', "currency", "ISO 4217"),
        (f'secret_key = "{SECRET}"\nbase_url = "ftp://x"', "base_url", "http"),
        (f'secret_key = "{SECRET}"\ndatabase_url = "mysql://x"', "database_url", "sqlite"),
        (f'secret_key = "{SECRET}"\n[smtp]\nsecurity = "tls"', "smtp.security", "one of"),
        (f'secret_key = "{SECRET}"\n[smtp]\nport = "many"', "smtp.port", "whole number"),
        (
            f'secret_key = "{SECRET}"\n[billing]\nsuspend_after_days = -1',
            "billing.suspend_after_days",
            "at least 0",
        ),
        (
            f'secret_key = "{SECRET}"\n[billing]\ninvoice_format = "F{{year}}"',
            "billing.invoice_format",
            "{seq}",
        ),
        (
            f'secret_key = "{SECRET}"\n[plugins]\nenabled = "x"\n[plugins.extra]',
            "plugins.enabled",
            None,
        ),
    ],
)
def test_bad_settings_name_the_key(
    tmp_path: Path, text: str, key: str, problem: str | None
) -> None:
    path = write(tmp_path, text)
    try:
        load_settings(path, environ={})
    except ConfigError as exc:
        assert exc.key == key
        if problem:
            assert problem in str(exc)
    else:
        assert problem is None, "expected a ConfigError"


def test_invalid_toml_is_reported(tmp_path: Path) -> None:
    path = write(tmp_path, "secret_key = \n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(path, environ={})


def test_missing_explicit_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_settings(tmp_path / "nope.toml", environ={})


def test_books_activity_settings_are_validated() -> None:
    from facturo.config import ConfigError, settings_from_mapping

    base = {"secret_key": "k" * 40}
    assert settings_from_mapping(base).books.activity_code == "A"
    chosen = settings_from_mapping(
        {**base, "books": {"activity_type": "05", "iae_epigraph": "845"}}
    )
    assert (chosen.books.activity_type, chosen.books.iae_epigraph) == ("05", "845")
    for bad, key in (
        ({"activity_code": "Z"}, "books.activity_code"),
        ({"activity_type": "3"}, "books.activity_type"),
        ({"iae_epigraph": "84500"}, "books.iae_epigraph"),
    ):
        with pytest.raises(ConfigError) as raised:
            settings_from_mapping({**base, "books": bad})
        assert raised.value.key == key
