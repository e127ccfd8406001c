"""Plugin mistakes that used to pass silently now stop start-up or the test with a clear
message (issue #22: each numbered mistake is made here on purpose)."""

from __future__ import annotations

import logging
import textwrap
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from click.testing import CliRunner
from sqlalchemy import inspect, select, text, update

from facturo.billing.orders import place_order
from facturo.billing.payments import record_payment
from facturo.bootstrap import create_context, require_current_schema, upgrade_database
from facturo.cli import main
from facturo.config import ConfigError
from facturo.context import Context
from facturo.db import migrations
from facturo.db.engine import ReadOnlySessionError
from facturo.hookspecs import hookimpl
from facturo.logs import HANDLER_NAME
from facturo.models import Customer
from facturo.operations.health import ReadinessProbe
from facturo.plugin_checks import PluginWarning
from facturo.plugins import PluginError
from facturo.testing import (
    DeliveryFailed,
    TestDatabase,
    default_plugin_settings,
    drain,
    make_catalog,
    make_customer,
)


def plugin_module(name: str, **functions: Any) -> types.ModuleType:
    """An in-process plugin module with ``functions`` as its attributes."""
    module = types.ModuleType(f"facturo_{name}")
    for attribute, value in functions.items():
        setattr(module, attribute, value)
    return module


# --- (1) a hook function without @hookimpl --------------------------------------------------


def _routes(ctx: Any, section: str) -> list[Any]:
    return []


def test_a_hook_named_function_without_hookimpl_is_reported_at_start_up(
    make_context: Callable[..., Context],
) -> None:
    careless = plugin_module("careless", web_routes=_routes)
    with pytest.warns(PluginWarning, match=r"'careless': web_routes\(\) has no @hookimpl"):
        make_context(extra=[("careless", careless)])


def test_strict_mode_refuses_to_start_with_a_hook_function_without_hookimpl(
    make_context: Callable[..., Context],
) -> None:
    careless = plugin_module("careless", web_routes=_routes)
    with pytest.raises(PluginError, match=r"web_routes\(\) has no @hookimpl.*strict = true"):
        make_context(extra=[("careless", careless)], overrides={"plugins.strict": True})


def test_a_marked_hook_is_not_reported(make_context: Callable[..., Context]) -> None:
    fine = plugin_module("fine", web_routes=hookimpl(_routes))
    ctx = make_context(extra=[("fine", fine)], overrides={"plugins.strict": True})
    assert "fine" in [name for name, _ in ctx.plugins.list_name_plugin()]


# --- (4) writes in a read session ----------------------------------------------------------


def test_a_write_in_a_read_session_raises_instead_of_vanishing(ctx: Context) -> None:
    customer = make_customer(ctx)
    with ctx.db.read_session() as session:
        row = session.get(Customer, customer.id)
        assert row is not None
        row.name = "Someone Else"
        with pytest.raises(ReadOnlySessionError, match=r"Customer.*ctx\.db\.transaction"):
            session.flush()
        session.rollback()
        with pytest.raises(ReadOnlySessionError, match="read-only session"):
            session.execute(update(Customer).values(name="X"))
    with ctx.db.read_session() as session:  # reading still works, and nothing changed
        assert session.scalars(select(Customer.name)).one() == "Ana García"


# --- (5) a plugin template hidden by the core's --------------------------------------------


def test_a_plugin_template_with_a_core_name_is_reported_at_start_up(
    make_context: Callable[..., Context], tmp_path: Path
) -> None:
    folder = tmp_path / "templates"
    (folder / "client").mkdir(parents=True)
    (folder / "client" / "layout.html").write_text("mine")
    (folder / "shadow" / "page.html").parent.mkdir()
    (folder / "shadow" / "page.html").write_text("fine")
    shadow = plugin_module("shadow", template_dirs=hookimpl(lambda: [folder]))
    with pytest.warns(PluginWarning) as caught:
        make_context(extra=[("shadow", shadow)])
    messages = [str(w.message) for w in caught]
    assert len(messages) == 1
    assert (
        "'shadow': template 'client/layout.html' is hidden by the core's template" in (messages[0])
    )


# --- (6) settings for a plugin without settings_schema --------------------------------------


def _no_methods() -> list[Any]:
    return []


def test_settings_for_a_plugin_without_schema_are_refused_naming_the_keys(
    make_context: Callable[..., Context],
) -> None:
    loose = plugin_module("loose", payment_methods=hookimpl(_no_methods))
    with pytest.raises(ConfigError) as refused:
        make_context(
            extra=[("loose", loose)],
            plugin_settings={"loose": {"api_kye": "x", "mode": "live"}},
        )
    assert refused.value.key == "plugin.loose"
    assert "(api_kye, mode)" in str(refused.value) and "no settings_schema" in str(refused.value)
    assert make_context(extra=[("loose", loose)])  # without settings it starts


# --- (7) pending plugin migrations ----------------------------------------------------------

MIGRATION = '''
"""A third-party plugin's first table."""
import sqlalchemy as sa
from alembic import op

from facturo.plugin import CORE_HEAD

revision = "{name}_0001"
down_revision = None
branch_labels = ("{name}",)
depends_on = {depends_on}


def upgrade() -> None:
    op.create_table("{name}_thing", sa.Column("id", sa.Integer, primary_key=True))


def downgrade() -> None:
    op.drop_table("{name}_thing")
'''


def migrating_plugin(tmp_path: Path, name: str, depends_on: str = "CORE_HEAD") -> Any:
    versions = tmp_path / f"{name}_migrations"
    versions.mkdir()
    script = MIGRATION.format(name=name, depends_on=depends_on)
    (versions / f"{name}_0001_thing.py").write_text(textwrap.dedent(script))
    return plugin_module(name, db_migrations=hookimpl(lambda: [versions]))


def test_readyz_and_start_up_name_the_plugin_whose_migrations_are_pending(
    make_context: Callable[..., Context], tmp_path: Path
) -> None:
    base = make_context()
    ctx = create_context(
        base.settings, extra_plugins=[("extplug", migrating_plugin(tmp_path, "extplug"))]
    )
    try:
        readiness = ReadinessProbe(ctx).check()
        assert readiness.as_json()["failed"] == ["migrations", "worker"]
        assert readiness.checks["migrations"].detail == "not applied: extplug (extplug_0001)"
        with pytest.raises(migrations.MigrationError, match=r"pending: extplug \(extplug_0001\)"):
            require_current_schema(ctx)
    finally:
        ctx.db.dispose()


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """The commands configure logging for the process; put it back for the next tests."""
    yield
    root = logging.getLogger()
    for handler in list(root.handlers):
        if handler.get_name() == HANDLER_NAME:
            root.removeHandler(handler)


def test_worker_and_serve_refuse_to_start_with_pending_plugin_migrations(
    tmp_path: Path, restore_logging: None
) -> None:
    config = tmp_path / "facturo.toml"
    raw: dict[str, Any] = {
        "database_url": f"sqlite:///{tmp_path / 'f.db'}",
        "secret_key": "s" * 40,
    }
    config.write_text(tomli_w.dumps(raw))
    runner = CliRunner()
    assert runner.invoke(main, ["--config", str(config), "db", "upgrade"]).exit_code == 0
    raw["plugins"] = {"enabled": ["tickets"]}
    raw["plugin"] = default_plugin_settings(("tickets",))
    config.write_text(tomli_w.dumps(raw))
    for command in (["worker", "--once"], ["serve", "--port", "1"]):
        result = runner.invoke(main, ["--config", str(config), *command])
        assert result.exit_code == 2, result.output
        assert result.output.strip() == (
            "error: migrations pending: tickets (tickets_0002_canned_first); run `facturo db upgrade` first"
        )
    assert runner.invoke(main, ["--config", str(config), "db", "upgrade"]).exit_code == 0
    assert runner.invoke(main, ["--config", str(config), "worker", "--once"]).exit_code == 0


# --- (8) third-party plugins in facturo.testing ----------------------------------------------


@pytest.fixture
def cleanup_plugin(test_database: TestDatabase) -> Iterator[list[Context]]:
    """Undo a plugin migration applied to the shared PostgreSQL test schema."""
    made: list[Context] = []
    yield made
    for ctx in made:
        if ctx.db.is_sqlite:
            continue
        mine = {Path(p).resolve() for p in ctx.migration_dirs()}
        every = sorted(test_database.migration_dirs | mine)
        migrations.downgrade(ctx.db.engine, every, "extdb@base")
        test_database.tables = inspect(ctx.db.engine).get_table_names()
        test_database.migration_dirs -= mine
        assert not migrations.pending(ctx.db.engine, sorted(test_database.migration_dirs))


def test_make_context_migrates_a_plugin_the_template_lacks(
    make_context: Callable[..., Context], tmp_path: Path, cleanup_plugin: list[Context]
) -> None:
    ctx = make_context(extra=[("extdb", migrating_plugin(tmp_path, "extdb"))])
    cleanup_plugin.append(ctx)
    with ctx.db.transaction() as session:
        session.execute(text("INSERT INTO extdb_thing (id) VALUES (1)"))
    require_current_schema(ctx)


def test_drain_fails_the_test_on_a_provisioning_error(
    make_context: Callable[..., Context],
) -> None:
    def provision_product(service: Any, action: str) -> dict[str, Any] | None:
        if service.product.provisioner != "broken":
            return None
        raise RuntimeError("licence server said no")

    broken = plugin_module("broken", provision_product=hookimpl(provision_product))
    ctx = make_context(extra=[("broken", broken)])
    licence, _ = make_catalog(ctx, provisioner="broken")
    customer = make_customer(ctx)
    with ctx.db.transaction() as session:
        _services, proforma = place_order(session, ctx, customer, licence, "annual")
        record_payment(
            session,
            ctx,
            proforma,
            gateway="test",
            gateway_txn_id="t-1",
            amount=proforma.total,
            currency="EUR",
            paid_at=ctx.now(),
        )
    with pytest.raises(
        DeliveryFailed, match=r"provision #\d+: RuntimeError: licence server said no"
    ):
        drain(ctx)
    drain(ctx, allow_failures=True)  # a test of retries asks for them


# --- (10) an unknown depends_on ----------------------------------------------------------


def test_an_unknown_depends_on_is_a_clear_error_listing_the_core_revisions(
    make_context: Callable[..., Context], tmp_path: Path
) -> None:
    base = make_context()
    plugin = migrating_plugin(tmp_path, "typo", depends_on='"0003"')
    ctx = create_context(base.settings, extra_plugins=[("typo", plugin)])
    try:
        with pytest.raises(migrations.MigrationError) as refused:
            upgrade_database(ctx)
    finally:
        ctx.db.dispose()
    message = str(refused.value)
    assert message.startswith("migration typo_0001_thing.py: depends_on '0003' is not a known")
    assert migrations.CORE_HEAD in message and "0003_billing" in message


# --- (11) test settings apart from demo settings ---------------------------------------------


class _EntryPoint:
    def __init__(self, plugin: object) -> None:
        self.plugin = plugin

    def load(self) -> object:
        return self.plugin


def test_test_settings_win_over_demo_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    both = plugin_module(
        "both",
        demo_settings=hookimpl(lambda: {"plugin": "both", "settings": {"mode": "demo"}}),
        test_settings=hookimpl(lambda: {"plugin": "both", "settings": {"mode": "test"}}),
    )
    demo_only = plugin_module(
        "old",
        demo_settings=hookimpl(lambda: {"plugin": "old", "settings": {"mode": "demo"}}),
    )
    installed = {"both": _EntryPoint(both), "old": _EntryPoint(demo_only)}
    monkeypatch.setattr("facturo.plugins.installed_plugins", lambda: installed)
    assert default_plugin_settings(("both", "old")) == {
        "both": {"mode": "test"},
        "old": {"mode": "demo"},  # the deprecated fallback
    }
