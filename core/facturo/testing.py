"""Pytest fixtures for Facturo and its plugins (``pytest_plugins = ["facturo.testing"]``).

The database is real: SQLite by default, PostgreSQL when ``FACTURO_TEST_DATABASE_URL`` is set.
The schema is built once per run by the migrations (core plus the plugins under test); each
test then gets an empty copy (a copied SQLite file, or truncated PostgreSQL tables).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from facturo.config import Settings, settings_from_mapping
from facturo.context import Context
from facturo.models import Customer, Product, ProductPrice
from facturo.testing_database import TestDatabase as TestDatabase
from facturo.testing_database import create_postgres_database
from facturo.testing_database import empty_postgres_tables as empty_postgres_tables
from facturo.testing_database import worker_database_url as worker_database_url
from facturo.testing_flows import DeliveryFailed as DeliveryFailed
from facturo.testing_flows import create_app as create_app
from facturo.testing_flows import drain as drain
from facturo.testing_flows import pay as pay
from facturo.testing_flows import run_billing as run_billing
from facturo.testing_flows import serve_app as serve_app
from facturo.testing_support import (  # noqa: F401 (re-exported for tests)
    CHROMIUM_ARGS,
    CHROMIUM_PATH,
    DOCUMENTS_DIR,
    SCREENSHOTS_DIR,
    AppClient,
    LiveServer,
    SmtpServer,
    SmtpSink,
    free_port,
    in_threads,
    launch_chromium,
    save_document_artifact,
    save_screenshot,
    screenshot_path,
    serve_in_thread,
    share_compiled_statements,
    share_default_tls_context,
    smtp_controller,
    stop_server,
)

TEST_SECRET = "test-secret-key-" + "x" * 40
ALL_PLUGINS = (
    "transfer",
    "ruralvia",
    "paypal",
    "prestaimport_license",
    "tickets",
    "verifactu",
    "vies",
    "sepa",
)


def cheap_hasher() -> Any:
    """argon2 with its cheapest parameters (1 pass, 8 KiB), for tests only."""
    from argon2 import PasswordHasher

    return PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


def pytest_configure(config: pytest.Config) -> None:
    """Tests hash passwords with :func:`cheap_hasher`: the production parameters cost
    ~50 ms per hash or check, by design, and the suite logs in thousands of times.

    Under pytest-xdist each worker process tests against its own PostgreSQL database (see
    :func:`worker_database_url`); SQLite files are per test already."""
    from facturo.accounts.passwords import use_hasher

    use_hasher(cheap_hasher())
    share_default_tls_context()
    url = postgres_test_url()
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if url and worker:
        os.environ["FACTURO_TEST_DATABASE_URL"] = worker_database_url(url, worker)


@pytest.fixture
def production_hashing() -> Iterator[None]:
    """The production argon2 parameters for one test (timing tests measure their cost)."""
    from argon2 import PasswordHasher

    from facturo.accounts.passwords import use_hasher

    use_hasher(PasswordHasher())
    yield
    use_hasher(cheap_hasher())


def postgres_test_url() -> str | None:
    """The PostgreSQL URL to test against, or None for SQLite."""
    return os.environ.get("FACTURO_TEST_DATABASE_URL") or None


def is_postgres() -> bool:
    return bool(postgres_test_url())


class Clock:
    """A controllable clock for tests: ``clock.set(...)``, ``clock.advance(days=1)``."""

    def __init__(self, now: datetime | None = None) -> None:
        self.current = now or datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
        self.frozen = True

    def __call__(self) -> datetime:
        return self.current

    def set(self, value: datetime) -> None:
        self.current = value if value.tzinfo else value.replace(tzinfo=UTC)

    def advance(self, **delta: float) -> datetime:
        self.current = self.current + timedelta(**delta)
        return self.current


def base_settings_mapping(
    data_dir: Path, database_url: str, plugins: tuple[str, ...] = ()
) -> dict[str, Any]:
    """Raw test settings: the seller, an unconfigured SMTP (``.eml`` files), ``plugins``."""
    return {
        "database_url": database_url,
        "secret_key": TEST_SECRET,
        "base_url": "http://testserver",
        "data_dir": str(data_dir),
        "seller": {
            "legal_name": "Facturo Test S.L.",
            "nif": "B12345674",
            "address": "Calle Mayor 1",
            "postal_code": "28001",
            "city": "Madrid",
            "province": "Madrid",
            "country": "ES",
            "email": "billing@facturo.test",
        },
        "smtp": {"from_address": "billing@facturo.test"},
        "plugins": {"enabled": list(plugins)},
    }


def build_test_database(
    workdir: Path, plugins: tuple[str, ...], extra: tuple[tuple[str, object], ...] = ()
) -> TestDatabase:
    """Run every migration once into a template (SQLite file or the PostgreSQL test DB)."""
    from facturo.bootstrap import create_context, upgrade_database

    pg_url = postgres_test_url()
    if pg_url:
        pg_url = _postgres_database_for(pg_url, plugins + tuple(name for name, _ in extra))
    url = pg_url or f"sqlite:///{workdir / 'template.db'}"
    raw = base_settings_mapping(workdir, url, plugins)
    raw["plugin"] = default_plugin_settings(plugins)
    ctx = create_context(settings_from_mapping(raw), extra_plugins=extra)
    if pg_url:
        # Start from an empty schema whatever an earlier run left (another plugin set, a
        # revision that no longer exists): downgrading would need that run's migrations.
        with ctx.db.engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    upgrade_database(ctx)
    from sqlalchemy import inspect

    tables = inspect(ctx.db.engine).get_table_names()
    dirs = {Path(p).resolve() for p in ctx.migration_dirs()}
    ctx.db.dispose()
    if pg_url:
        return TestDatabase(url=pg_url, tables=tables, migration_dirs=dirs)
    template = workdir / "template.db"
    return TestDatabase(url=url, template=template, tables=tables, migration_dirs=dirs)


def _postgres_database_for(url: str, names: tuple[str, ...]) -> str:
    """The PostgreSQL test database of a template with plugins ``names``: the configured one
    for the installed set, else a sibling named after the set (created when missing), so that
    two templates in one run never rebuild each other's schema."""
    if sorted(names) == sorted(enabled_test_plugins()):
        return url
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    name = f"{parsed.database}_{hashlib.sha1(','.join(sorted(names)).encode()).hexdigest()[:8]}"
    create_postgres_database(parsed, name)
    return parsed.set(database=name).render_as_string(hide_password=False)


def enabled_test_plugins() -> tuple[str, ...]:
    """Every installed plugin: the bundled ones in this repository, and a third-party
    plugin's own package when its tests run in its environment. ``FACTURO_TEST_PLUGINS``
    (names, comma-separated) narrows that to the installed plugins it names."""
    from facturo.plugins import installed_plugins

    installed = installed_plugins()
    wanted = os.environ.get("FACTURO_TEST_PLUGINS")
    if wanted is not None:
        names = {name.strip() for name in wanted.split(",")}
        installed = {name: value for name, value in installed.items() if name in names}
    bundled = tuple(name for name in ALL_PLUGINS if name in installed)
    return bundled + tuple(sorted(name for name in installed if name not in ALL_PLUGINS))


@pytest.fixture(scope="session")
def test_database(tmp_path_factory: pytest.TempPathFactory) -> TestDatabase:
    """The migrated template with every installed plugin's tables (plugins a test names
    that are not installed are migrated by ``make_context`` into that test's copy)."""
    return build_test_database(tmp_path_factory.mktemp("db"), enabled_test_plugins())


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def database_url(test_database: TestDatabase, tmp_path: Path) -> str:
    """An empty, migrated database for this test."""
    return test_database.fresh(tmp_path)


def build_test_context(
    test_database: TestDatabase,
    folder: Path,
    database_url: str,
    clock: Clock,
    plugins: tuple[str, ...] = (),
    overrides: dict[str, Any] | None = None,
    extra: list[tuple[str, object]] | None = None,
    plugin_settings: dict[str, dict[str, Any]] | None = None,
) -> Context:
    """A Context on ``database_url`` (a copy of ``test_database``) with files in ``folder``:
    what :func:`make_context` builds, for fixtures of a wider scope. The caller disposes of
    its engines (``ctx.db.dispose()``)."""
    from facturo.bootstrap import create_context

    raw = base_settings_mapping(folder, database_url, plugins)
    raw["plugin"] = plugin_settings or default_plugin_settings(plugins)
    for dotted, value in (overrides or {}).items():
        node = raw
        parts = dotted.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    settings: Settings = settings_from_mapping(raw)
    ctx = create_context(settings, extra_plugins=extra or (), clock=clock)
    share_compiled_statements(ctx.db.engine, ctx.db.read_engine)
    test_database.catch_up(ctx)
    return ctx


@pytest.fixture
def make_context(
    database_url: str, tmp_path: Path, clock: Clock, test_database: TestDatabase
) -> Iterator[Callable[..., Context]]:
    """Build a Context: ``make_context(plugins=(...), overrides={...}, extra=[(name, obj)])``.

    Plugin settings are the plugins' ``test_settings()`` unless ``plugin_settings`` is given;
    the migrations of any plugin the template lacks are applied to this test's database."""
    made: list[Context] = []

    def factory(
        plugins: tuple[str, ...] = (),
        overrides: dict[str, Any] | None = None,
        extra: list[tuple[str, object]] | None = None,
        plugin_settings: dict[str, dict[str, Any]] | None = None,
    ) -> Context:
        ctx = build_test_context(
            test_database,
            tmp_path,
            database_url,
            clock,
            plugins=plugins,
            overrides=overrides,
            extra=extra,
            plugin_settings=plugin_settings,
        )
        made.append(ctx)
        return ctx

    yield factory
    for ctx in made:
        ctx.db.dispose()


def default_plugin_settings(plugins: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    """The test settings of ``plugins``: each one's ``test_settings()``, or (deprecated
    fallback) its ``demo_settings()`` when it has no test settings."""
    from facturo.plugins import installed_plugins, new_manager

    manager = new_manager()
    installed = installed_plugins()
    for name in plugins:
        if name in installed:
            manager.register(installed[name].load(), name=name)
    tables: dict[str, dict[str, Any]] = {}
    for hook in (manager.hook.demo_settings, manager.hook.test_settings):  # test wins
        for contribution in hook():
            if contribution and contribution["plugin"] in plugins:
                tables[contribution["plugin"]] = dict(contribution["settings"])
    return tables


@pytest.fixture
def ctx(make_context: Callable[..., Context]) -> Context:
    """A Context with no optional plugin enabled."""
    return make_context()


# --- a real SMTP server --------------------------------------------------------------------


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A real SMTP server on 127.0.0.1 collecting what it receives."""
    server = SmtpServer("127.0.0.1", free_port(), SmtpSink(), None)
    server.start()
    yield server
    try:
        server.stop()
    except Exception:  # already stopped by the test
        pass


# --- test data ------------------------------------------------------------------------------


def make_catalog(ctx: Context, provisioner: str | None = None) -> tuple[Product, list[Product]]:
    """A yearly licence product (149.00) with two supplier add-ons (39.00 and 29.00)."""
    with ctx.db.transaction() as session:
        licence = Product(
            code="licence", name_es="Licencia", name_en="Licence", provisioner=provisioner
        )
        licence.prices.append(
            ProductPrice(cycle="annual", months=12, currency="EUR", amount=Decimal("149.00"))
        )
        licence.prices.append(
            ProductPrice(cycle="monthly", months=1, currency="EUR", amount=Decimal("15.00"))
        )
        session.add(licence)
        session.flush()
        addons = []
        for code, price in (("addon-a", "39.00"), ("addon-b", "29.00")):
            addon = Product(
                code=code,
                name_es=f"Proveedor {code}",
                name_en=f"Supplier {code}",
                parent_id=licence.id,
                provisioner=provisioner,
                provisioner_options=f"supplier={code}",
            )
            addon.prices.append(
                ProductPrice(cycle="annual", months=12, currency="EUR", amount=Decimal(price))
            )
            session.add(addon)
            addons.append(addon)
        session.flush()
    return licence, addons


def make_customer(
    ctx: Context,
    email: str = "ana@example.com",
    country: str = "ES",
    tax_id: str = "12345678Z",
    postal_code: str = "28001",
    language: str = "es",
    verified: bool = True,
) -> Customer:
    """A verified customer in Madrid unless told otherwise."""
    from facturo.accounts.customers import NewCustomer, create_customer

    with ctx.db.transaction() as session:
        return create_customer(
            session,
            ctx,
            NewCustomer(
                email=email,
                password="correct horse battery",
                name="Ana García",
                country=country,
                tax_id=tax_id,
                postal_code=postal_code,
                address="Calle Mayor 1",
                city="Madrid",
                language=language,
            ),
            verified=verified,
        )


# --- sessions for HTTP tests ---------------------------------------------------------------


def session_cookie(ctx: Context, data: dict[str, Any]) -> str:
    """A signed session cookie value holding ``data``, exactly as the app's SessionMiddleware
    writes it (for HTTP tests that need a logged-in customer or staff user)."""
    import json
    from base64 import b64encode

    from itsdangerous import TimestampSigner

    payload = b64encode(json.dumps(data).encode("utf-8"))
    return TimestampSigner(str(ctx.settings.secret_key)).sign(payload).decode("utf-8")


def logged_in_cookies(
    ctx: Context, customer: Customer | None = None, staff: Any = None, csrf: str = "test-csrf-token"
) -> dict[str, str]:
    """Cookies of a browser logged in as ``customer`` and/or ``staff`` (each a fresh, fully
    verified session row, as after a real login); forms must send ``csrf_token=csrf``."""
    from facturo.accounts.sessions import open_session
    from facturo.web.login_sessions import COOKIE_KEYS

    data: dict[str, Any] = {"csrf": csrf}
    with ctx.db.transaction() as session:
        for kind, owner in (("customer", customer), ("staff", staff)):
            if owner is not None:
                _row, token = open_session(session, ctx, owner, True, user_agent="facturo-tests")
                data[COOKIE_KEYS[kind]] = token
    return {"facturo_session": session_cookie(ctx, data)}
