"""Plugin discovery and the PluginManager: load by name, fail loudly, built-ins last."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from facturo.hookspecs import hookimpl
from facturo.plugins import PluginError, hooks_of, installed_plugins, load_plugins, registered_names

REPO = Path(__file__).resolve().parents[2]
BUNDLED = {"transfer", "ruralvia", "paypal", "prestaimport_license", "tickets", "verifactu"}


def test_the_six_bundled_plugins_are_installed() -> None:
    assert BUNDLED <= set(installed_plugins())


def test_loads_enabled_plugins_in_order() -> None:
    manager = load_plugins(["tickets", "transfer"])
    assert registered_names(manager) == ["tickets", "transfer"]


def test_unknown_plugin_stops_with_a_message_listing_installed_ones() -> None:
    with pytest.raises(PluginError) as info:
        load_plugins(["trasnfer"])
    message = str(info.value)
    assert "'trasnfer' is enabled but not installed" in message
    assert "transfer" in message.split("installed plugins:")[1]


class Misspelt:
    @hookimpl
    def on_invoice_payed(self, document: object) -> None:  # not a hook
        return None


def test_an_implementation_of_a_hook_that_does_not_exist_is_refused() -> None:
    with pytest.raises(PluginError, match="'typo' is invalid.*on_invoice_payed"):
        load_plugins([], extra=[("typo", Misspelt())])


class PdfOverride:
    @hookimpl
    def render_invoice(self, document: object, fmt: str) -> bytes:
        return b"%PDF-override"


def test_a_plugin_replaces_the_built_in_renderer() -> None:
    manager = load_plugins([], extra=[("pdf_override", PdfOverride())])
    document = SimpleNamespace()
    result = manager.hook.render_invoice(ctx=None, document=document, fmt="pdf")
    assert result == b"%PDF-override"


def test_built_in_renderer_answers_when_nobody_else_does() -> None:
    manager = load_plugins([])
    impls = [impl.plugin_name for impl in manager.hook.render_invoice.get_hookimpls()]
    assert impls == ["facturo.builtin.pdf"]


def test_example_plugin_is_discovered_and_its_hooks_listed(hello_installed: Path) -> None:
    assert "hello" in installed_plugins()
    manager = load_plugins(["hello"])
    # Its templates/ and migrations/ are found by convention: no resource hook.
    assert hooks_of(manager, "hello") == ["client_menu_items", "on_invoice_paid", "web_routes"]


def test_a_plugin_that_fails_to_import_stops_start_up(tmp_path: Path) -> None:
    dist = tmp_path / "facturo_broken-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: facturo-broken\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[facturo.plugins]\nbroken = facturo_broken\n")
    (tmp_path / "facturo_broken.py").write_text("raise RuntimeError('boom at import')\n")
    sys.path.insert(0, str(tmp_path))
    try:
        with pytest.raises(
            PluginError, match="'broken' failed to import: RuntimeError: boom at import"
        ):
            load_plugins(["broken"])
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("facturo_broken", None)


def test_example_plugin_hooks_are_called(hello_installed: Path, tmp_path: Path) -> None:
    """The example plugin's migration, event hook, menu item and page all work for real."""
    from decimal import Decimal

    import httpx
    from sqlalchemy import text

    from facturo.billing.documents import LineSpec, create_proforma
    from facturo.billing.payments import record_payment
    from facturo.bootstrap import create_context, upgrade_database
    from facturo.config import settings_from_mapping
    from facturo.testing import (
        base_settings_mapping,
        drain,
        logged_in_cookies,
        make_customer,
        serve_in_thread,
        stop_server,
    )
    from facturo.web.app import create_app

    raw = base_settings_mapping(tmp_path, f"sqlite:///{tmp_path / 'hello.db'}", ("hello",))
    ctx = create_context(settings_from_mapping(raw))
    upgrade_database(ctx)
    customer = make_customer(ctx)
    with ctx.db.transaction() as session:
        document = create_proforma(session, ctx, customer, [LineSpec("Thing", Decimal("10.00"))])
        record_payment(session, ctx, document, "manual", "m-1", document.total, "EUR", ctx.now())
    drain(ctx)
    with ctx.db.read_session() as session:
        rows = session.execute(text("SELECT number FROM hello_paid_notes")).all()
    assert [row.number for row in rows] == [document.number]
    live = serve_in_thread(create_app(ctx))
    try:
        client = httpx.Client(base_url=live.url, cookies=logged_in_cookies(ctx, customer=customer))
        page = client.get("/client/hello")
        assert page.status_code == 200
        assert "¡Hola, Ana García!" in page.text  # in the customer's language
        assert 'href="/client/documents"' in page.text  # inside the client layout
        john = make_customer(ctx, email="john@example.com", language="en")
        english = httpx.Client(base_url=live.url, cookies=logged_in_cookies(ctx, customer=john))
        assert f"Hello, {john.name}!" in english.get("/client/hello").text
        anonymous = httpx.Client(base_url=live.url).get("/client/hello")
        assert anonymous.status_code == 303
        assert anonymous.headers["location"].startswith("/client/login")
    finally:
        stop_server(live)
        ctx.db.dispose()


def test_example_plugin_wheel_ships_its_templates_and_migrations(tmp_path: Path) -> None:
    """An integrator copying the example's pyproject.toml gets a wheel that works once
    installed, not only in an editable checkout."""
    import zipfile

    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--wheel-dir",
            str(tmp_path),
            str(REPO / "examples" / "facturo-hello"),
        ],
        check=True,
    )
    [wheel] = tmp_path.glob("facturo_hello-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "facturo_hello/templates/hello/page.html" in names
    assert "facturo_hello/migrations/hello_0001_paid_notes.py" in names
