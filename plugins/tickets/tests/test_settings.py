"""Settings: defaults, and bad values rejected at start-up naming the key."""

from __future__ import annotations

import pytest

from facturo.plugin import ConfigError
from facturo_tickets.settings import config


def test_defaults_keep_attachments_outside_the_web_root(make_context) -> None:
    ctx = make_context(plugins=("tickets",), plugin_settings={"tickets": {}})
    cfg = config(ctx)
    assert cfg.attachments_dir == ctx.settings.data_dir / "tickets"
    sender_domain = ctx.settings.smtp.from_address.rpartition("@")[2]
    assert cfg.our_domains == (sender_domain,)  # the sender's domain when none is set
    assert (cfg.guest_tickets, cfg.imap_enabled, cfg.auto_close_days) == (False, False, 7)


@pytest.mark.parametrize(
    ("key", "value", "problem"),
    [
        ("auto_close_days", 999, "0 to 365"),
        ("our_domains", ["soporte@facturo.es"], "not a mail domain"),
        ("imap_accounts", [{"host": "imap.example"}], "needs department"),
        ("imap_accounts", [{"department": "a@b.es", "host": "h", "user": "u", "pw": 1}], "pw"),
        ("colour", "red", "not a known setting"),
    ],
)
def test_bad_settings_name_the_key(make_context, key: str, value: object, problem: str) -> None:
    with pytest.raises(ConfigError) as error:
        make_context(plugins=("tickets",), plugin_settings={"tickets": {key: value}})
    assert f"plugin.tickets.{key}" in str(error.value) and problem in str(error.value)
