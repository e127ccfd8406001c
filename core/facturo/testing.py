"""Pytest fixtures for Facturo and its plugins (``pytest_plugins = ["facturo.testing"]``).

The database is real: SQLite by default, PostgreSQL when ``FACTURO_TEST_DATABASE_URL`` is set.
The schema is built once per run by the migrations (core plus the plugins under test); each
test then gets an empty copy (a copied SQLite file, or truncated PostgreSQL tables).
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from facturo.config import Settings, settings_from_mapping
from facturo.context import Context
from facturo.models import Customer, Product, ProductPrice

TEST_SECRET = "test-secret-key-" + "x" * 40
ALL_PLUGINS = (
    "transfer",
    "ruralvia",
    "paypal",
    "prestaimport_license",
    "tickets",
    "verifactu",
    "vies",
)


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


@dataclass
class TestDatabase:
    """A migrated template database and a way to get an empty copy of it per test."""

    url: str
    template: Path | None = None
    tables: list[str] = field(default_factory=list)

    def fresh(self, tmp_path: Path) -> str:
        if self.template is not None:
            target = tmp_path / "facturo.db"
            shutil.copyfile(self.template, target)
            return f"sqlite:///{target}"
        engine = create_engine(self.url.replace("postgresql://", "postgresql+psycopg://", 1))
        with engine.begin() as connection:
            names = ", ".join(f'"{t}"' for t in self.tables if t != "alembic_version")
            if names:
                connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        engine.dispose()
        return self.url


def build_test_database(
    workdir: Path, plugins: tuple[str, ...], extra: tuple[tuple[str, object], ...] = ()
) -> TestDatabase:
    """Run every migration once into a template (SQLite file or the PostgreSQL test DB)."""
    from facturo.bootstrap import create_context, upgrade_database

    pg_url = postgres_test_url()
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
    ctx.db.dispose()
    if pg_url:
        return TestDatabase(url=pg_url, tables=tables)
    return TestDatabase(url=url, template=workdir / "template.db", tables=tables)


def enabled_test_plugins() -> tuple[str, ...]:
    """Bundled plugins that are installed (all of them in this repository)."""
    from facturo.plugins import installed_plugins

    installed = installed_plugins()
    return tuple(name for name in ALL_PLUGINS if name in installed)


@pytest.fixture(scope="session")
def test_database(tmp_path_factory: pytest.TempPathFactory) -> TestDatabase:
    """The migrated template with every bundled plugin's tables."""
    return build_test_database(tmp_path_factory.mktemp("db"), enabled_test_plugins())


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def database_url(test_database: TestDatabase, tmp_path: Path) -> str:
    """An empty, migrated database for this test."""
    return test_database.fresh(tmp_path)


@pytest.fixture
def make_context(
    database_url: str, tmp_path: Path, clock: Clock
) -> Iterator[Callable[..., Context]]:
    """Build a Context: ``make_context(plugins=(...), overrides={...}, extra=[(name, obj)])``."""
    from facturo.bootstrap import create_context

    made: list[Context] = []

    def factory(
        plugins: tuple[str, ...] = (),
        overrides: dict[str, Any] | None = None,
        extra: list[tuple[str, object]] | None = None,
        plugin_settings: dict[str, dict[str, Any]] | None = None,
    ) -> Context:
        raw = base_settings_mapping(tmp_path, database_url, plugins)
        raw["plugin"] = plugin_settings or default_plugin_settings(plugins)
        for dotted, value in (overrides or {}).items():
            node = raw
            parts = dotted.split(".")
            for part in parts[:-1]:
                node = node.setdefault(part, {})
            node[parts[-1]] = value
        settings: Settings = settings_from_mapping(raw)
        ctx = create_context(settings, extra_plugins=extra or (), clock=clock)
        made.append(ctx)
        return ctx

    yield factory
    for ctx in made:
        ctx.db.dispose()


def default_plugin_settings(plugins: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    """The demo settings of ``plugins`` (their sandbox modes), for tests."""
    from facturo.plugins import installed_plugins, new_manager

    manager = new_manager()
    installed = installed_plugins()
    for name in plugins:
        if name in installed:
            manager.register(installed[name].load(), name=name)
    tables: dict[str, dict[str, Any]] = {}
    for contribution in manager.hook.demo_settings():
        if contribution and contribution["plugin"] in plugins:
            tables[contribution["plugin"]] = dict(contribution["settings"])
    return tables


@pytest.fixture
def ctx(make_context: Callable[..., Context]) -> Context:
    """A Context with no optional plugin enabled."""
    return make_context()


# --- a real SMTP server --------------------------------------------------------------------


class SmtpSink:
    """Messages received by the test SMTP server (aiosmtpd)."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.envelopes.append(envelope)
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        return "250 OK"

    def wait_for(self, count: int, timeout: float = 10.0) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.messages


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class SmtpServer:
    host: str
    port: int
    sink: SmtpSink
    controller: Any

    def settings(self) -> dict[str, Any]:
        """Overrides for ``make_context`` that point the mailer at this server."""
        return {"smtp.host": self.host, "smtp.port": self.port, "smtp.security": "none"}

    def stop(self) -> None:
        self.controller.stop()

    def start(self) -> None:
        self.controller.start()


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A real SMTP server on 127.0.0.1 collecting what it receives."""
    from aiosmtpd.controller import Controller

    sink = SmtpSink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    server = SmtpServer("127.0.0.1", port, sink, controller)
    yield server
    try:
        controller.stop()
    except Exception:  # already stopped by the test
        pass


# --- the app under uvicorn -----------------------------------------------------------------


@dataclass
class LiveServer:
    url: str
    server: Any
    thread: threading.Thread


def serve_in_thread(app: Any, port: int | None = None, **options: Any) -> LiveServer:
    """Run ``app`` under uvicorn on ``port`` (default: a free one) in a thread; stop it with
    ``stop_server``. ``options`` go to ``uvicorn.Config`` (e.g. ``ssl_certfile`` for HTTPS,
    ``ssl_ca_certs`` and ``ssl_cert_reqs`` for client certificates)."""
    import uvicorn

    port = port or free_port()
    options.setdefault("proxy_headers", False)  # the app reads forwarding headers itself
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", lifespan="on", **options
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    if not server.started:
        raise RuntimeError("uvicorn did not start")
    scheme = "https" if options.get("ssl_certfile") else "http"
    return LiveServer(f"{scheme}://127.0.0.1:{port}", server, thread)


def stop_server(live: LiveServer) -> None:
    live.server.should_exit = True
    live.thread.join(timeout=10)


def in_threads(work: list[Callable[[], Any]], timeout: float = 120) -> list[Any]:
    """Run every callable in its own thread, released together by a barrier; return their
    results in order and re-raise the first error (for real-concurrency tests)."""
    barrier = threading.Barrier(len(work))
    results: list[Any] = [None] * len(work)
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            barrier.wait()
            results[index] = work[index]()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(work))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    if errors:
        raise errors[0]
    return results


def drain(ctx: Context, rounds: int = 5) -> None:
    """Deliver every queued event and email now (what the worker would do)."""
    from facturo.delivery.events import deliver_events
    from facturo.delivery.mail import deliver_due

    for _ in range(rounds):
        done = deliver_events(ctx).done
        sent = deliver_due(ctx).sent
        if not done and not sent:
            return


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


# --- the browser suite ---------------------------------------------------------------------

CHROMIUM_PATH = "/usr/bin/chromium"  # Debian's Chromium; Playwright never downloads a browser
CHROMIUM_ARGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)
SCREENSHOTS_DIR = Path("test-artifacts") / "screenshots"
DOCUMENTS_DIR = Path("test-artifacts") / "documents"


def launch_chromium(playwright: Any) -> Any:
    """Launch Debian's Chromium headless through a Playwright (sync) instance."""
    return playwright.chromium.launch(executable_path=CHROMIUM_PATH, args=list(CHROMIUM_ARGS))


def screenshot_path(name: str) -> str:
    """Where a browser test saves the screenshot ``name`` (a test artifact)."""
    SCREENSHOTS_DIR.mkdir(parents=True, exist_ok=True)
    return str(SCREENSHOTS_DIR / f"{name}.png")


def save_document_artifact(name: str, pdf: bytes) -> Path:
    """Keep a rendered PDF as ``test-artifacts/documents/<name>.pdf`` for people to look at."""
    DOCUMENTS_DIR.mkdir(parents=True, exist_ok=True)
    path = DOCUMENTS_DIR / f"{name}.pdf"
    path.write_bytes(pdf)
    return path


def serve_app(ctx: Context, port: int | None = None) -> LiveServer:
    """Serve ``ctx``'s web app in a thread (``stop_server`` stops it); see ``serve_in_thread``."""
    from facturo.web.app import create_app

    return serve_in_thread(create_app(ctx), port=port)
