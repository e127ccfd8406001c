"""What a web process keeps about a key is never stale: any change to the licence tables, made
by any connection and by any means, shows in the next answer."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from facturo.plugin import Context
from facturo.testing import is_postgres
from facturo_prestaimport_license import lookup
from facturo_prestaimport_license.migrations.prestaimport_license_0002_pv_state_version import (
    trigger_names,
)
from facturo_prestaimport_license.testing import OTHER_SHOP, Live, body, payload, seed_licence

ADDON = {"ingram": {"active": True, "expires_at": None}}


def names(live: Live, key: str) -> dict[str, str]:
    data = payload(live.validate(body(key)))
    return {addon["code"]: addon["name"] for addon in data["addons"]}


def execute(ctx: Context, sql: str, **params: Any) -> None:
    with ctx.db.engine.begin() as connection:
        connection.execute(text(sql), params)


def test_raw_sql_changes_to_any_read_table_show_in_the_next_answer(live: Live) -> None:
    seeded = seed_licence(live.ctx, ADDON)
    assert names(live, seeded.key) == {"ingram": "Ingram"}
    assert names(live, seeded.key) == {"ingram": "Ingram"}  # now kept, on SQLite
    execute(live.ctx, "UPDATE prestaimport_license_suppliers SET name = 'Ingram Micro'")
    assert names(live, seeded.key) == {"ingram": "Ingram Micro"}
    execute(live.ctx, "UPDATE prestaimport_license_addons SET active = :no", no=False)
    data = payload(live.validate(body(seeded.key)))
    assert data["addons"][0]["status"] == "INACTIVE"
    execute(live.ctx, "UPDATE prestaimport_license_licences SET status = 'SUSPENDED'")
    assert payload(live.validate(body(seeded.key)))["code"] == "SUSPENDED"
    execute(live.ctx, "UPDATE prestaimport_license_licences SET status = 'ACTIVE'")
    execute(live.ctx, "DELETE FROM prestaimport_license_bindings")
    assert payload(live.validate(body(seeded.key, shop=OTHER_SHOP)))["code"] == "VALID"
    execute(live.ctx, "UPDATE prestaimport_license_keys SET state = 'REVOKED'")
    assert payload(live.validate(body(seeded.key)))["code"] == "REVOKED"


def test_a_key_is_kept_only_while_its_tables_are_unchanged(live: Live) -> None:
    seeded = seed_licence(live.ctx, ADDON)
    live.validate(body(seeded.key))  # binds: a change
    reader = lookup.state_reader(live.ctx)
    if is_postgres():
        assert reader.version() is None  # PostgreSQL reads the tables every time
        return
    before = reader.version()
    assert before is not None
    live.validate(body(seeded.key))
    assert reader.version() == before  # validating changes nothing
    execute(live.ctx, "UPDATE prestaimport_license_moves SET counted = counted")
    assert reader.version() == before  # no row: no change
    execute(live.ctx, "UPDATE prestaimport_license_suppliers SET name = name")
    assert reader.version() == before + 1  # a statement that touched a row counts


def test_without_all_its_triggers_the_counter_is_not_trusted(
    live: Live, monkeypatch: pytest.MonkeyPatch
) -> None:
    if is_postgres():
        assert lookup.state_reader(live.ctx).version() is None
        return
    monkeypatch.setattr(lookup, "TRIGGER_CHECK_SECONDS", 0.0)
    seeded = seed_licence(live.ctx, ADDON)
    assert names(live, seeded.key) == {"ingram": "Ingram"}
    assert names(live, seeded.key) == {"ingram": "Ingram"}
    execute(live.ctx, "DROP TRIGGER prestaimport_license_suppliers_update_bumps_state")
    execute(live.ctx, "UPDATE prestaimport_license_suppliers SET name = 'Ingram Micro'")
    assert names(live, seeded.key) == {"ingram": "Ingram Micro"}
    assert lookup.state_reader(live.ctx).version() is None


def test_every_trigger_exists_after_the_migrations(lctx: Context) -> None:
    with lctx.db.engine.connect() as connection:
        if is_postgres():
            found = connection.execute(
                text("SELECT tgname FROM pg_trigger WHERE tgname LIKE 'prestaimport_license%'")
            ).all()
            assert found == []
            return
        found = connection.execute(
            text("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        ).scalars()
        assert set(trigger_names()) <= set(found)
