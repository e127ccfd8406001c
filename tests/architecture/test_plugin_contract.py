"""The plugin contract is pinned: what ``facturo.plugin`` exports, what plugin packages
import, and what ``facturo.hookspecs`` documents (state, template blocks, events)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import jinja2
from jinja2 import nodes

import facturo
import facturo.plugin
from facturo import hookspecs
from facturo.db.migrations import CORE_HEAD, core_head
from facturo.delivery.events import HANDLERS
from facturo.templating import CORE_TEMPLATES
from tests.architecture.imports import runtime_imports

ROOT = Path(__file__).resolve().parents[2]
CORE = Path(facturo.__file__).resolve().parent
PLUGIN_PACKAGES = sorted(
    path
    for path in [*ROOT.glob("plugins/*/facturo_*"), *ROOT.glob("examples/*/facturo_*")]
    if (path / "__init__.py").is_file()
)

#: The public surface of ``facturo.plugin``. Changing it is a decision: edit this list in the
#: same commit, and keep existing names working (third-party plugins import them).
EXPORTED = [
    "add_months",
    "api_write",
    "Applied",
    "audit_record",
    "BankStatementEntry",
    "Base",
    "BaseGateway",
    "BillingError",
    "cancel_proforma",
    "card_details",
    "change_status",
    "clean_email",
    "clear_collection_method",
    "CollectionResult",
    "ConfigError",
    "confirm_page",
    "Confirmation",
    "Context",
    "CORE_HEAD",
    "create_context",
    "create_credit_note",
    "create_proforma",
    "csv_response",
    "current_customer",
    "Customer",
    "DetailsBlock",
    "Document",
    "document_pdf",
    "DocumentLine",
    "DuplicateAddonError",
    "enqueue_email",
    "enqueue_event",
    "error_page",
    "FacturoError",
    "flash",
    "format_money",
    "Gateway",
    "gateway_notifications_page",
    "GatewayNotification",
    "GaugeSample",
    "hookimpl",
    "ImmutableDocumentError",
    "insert_ignore",
    "InvalidEmail",
    "is_confirmed",
    "is_valid_email",
    "LineSpec",
    "live_addons",
    "load_settings",
    "log_notification",
    "manual_payment_page",
    "mark_notification",
    "MenuItem",
    "Money",
    "months_of",
    "NotificationRejected",
    "open_page",
    "order_addon",
    "order_refusal",
    "OrderError",
    "owned_or_404",
    "Panel",
    "parse_amount",
    "Payment",
    "PaymentMethod",
    "PaymentOption",
    "PaymentOutcome",
    "pdf_block_html",
    "PendingAttempt",
    "period_end_instant",
    "period_for",
    "PeriodicJob",
    "PinnedConnections",
    "place_order",
    "PluginSettings",
    "Product",
    "ProductPrice",
    "qr_image",
    "QrBlock",
    "QrImage",
    "Quote",
    "quote_order",
    "QuoteLine",
    "Rate",
    "read_form",
    "Receipt",
    "receive_notification",
    "recheck_pending",
    "record_answer",
    "record_manual_payment",
    "record_payment",
    "Refund",
    "refund_invoice",
    "RefundResult",
    "render",
    "renewal_proforma",
    "reprice_unpaid",
    "request_language",
    "RetryLater",
    "roles_required",
    "RowReader",
    "safe_cell",
    "safe_row",
    "same_supplier",
    "SearchHit",
    "Service",
    "SessionReader",
    "set_collection_method",
    "SettingField",
    "StaffUser",
    "StartedPayment",
    "TaxEvidence",
    "thank_you",
    "ThankYou",
    "to_money",
    "UnpaidParentError",
    "UTCDateTime",
    "utcnow",
    "VatCheck",
    "Verified",
]


def test_facturo_plugin_exports_exactly_the_pinned_names() -> None:
    assert facturo.plugin.__all__ == sorted(facturo.plugin.__all__, key=str.casefold)
    assert facturo.plugin.__all__ == EXPORTED


def test_every_public_name_of_facturo_plugin_is_exported_and_resolves() -> None:
    public = {
        name
        for name, value in vars(facturo.plugin).items()
        if not name.startswith("_") and name != "annotations"
    }
    assert public == set(facturo.plugin.__all__)
    for name in facturo.plugin.__all__:
        assert getattr(facturo.plugin, name) is not None, name


def _package_modules(package: Path) -> list[Path]:
    return [path for path in package.rglob("*.py") if "tests" not in path.parts]


def forbidden_imports(package: Path) -> list[str]:
    """``file: module`` for every run-time import of Facturo other than ``facturo.plugin``
    (and ``facturo.testing`` from a test-support module named ``testing.py``)."""
    found: list[str] = []
    for path in _package_modules(package):
        allowed = {"facturo", "facturo.plugin"}
        if path.name == "testing.py":
            allowed |= {"facturo.testing"}
        tree = ast.parse(path.read_text(encoding="utf-8"))
        name = ".".join(path.relative_to(package.parent).with_suffix("").parts)
        for target in runtime_imports(tree, name, path.name == "__init__.py"):
            module = target if target.split(".")[0] == "facturo" else ""
            if not module or module in allowed:
                continue
            # ``from facturo.plugin import X`` also yields ``facturo.plugin.X``.
            if module.rpartition(".")[0] in allowed - {"facturo"}:
                continue
            found.append(f"{path.relative_to(package.parent)}: {module}")
    return found


def test_plugin_packages_import_only_facturo_plugin() -> None:
    assert len(PLUGIN_PACKAGES) >= 8  # the seven bundled plugins and the hello example
    violations = [line for package in PLUGIN_PACKAGES for line in forbidden_imports(package)]
    assert violations == []


def test_the_import_check_catches_a_core_import(tmp_path: Path) -> None:
    package = tmp_path / "facturo_sneaky"
    package.mkdir()
    (package / "__init__.py").write_text(
        "from facturo.plugin import hookimpl\n\n\ndef f():\n    from facturo.billing import money\n"
    )
    (package / "testing.py").write_text(
        "import facturo.context\nfrom facturo.testing import drain\n"
    )
    assert sorted(line.rpartition(": ")[2] for line in forbidden_imports(package)) == [
        "facturo.billing",
        "facturo.billing.money",
        "facturo.context",
    ]


def _blocks(environment: jinja2.Environment, template: str) -> set[str]:
    """Block names of ``template`` and every layout it extends."""
    source = environment.loader.get_source(environment, template)[0]  # type: ignore[union-attr]
    tree = environment.parse(source)
    names = {block.name for block in tree.find_all(nodes.Block)}
    for extends in tree.find_all(nodes.Extends):
        names |= _blocks(environment, extends.template.value)  # type: ignore[attr-defined]
    return names


def test_documented_template_blocks_are_the_layouts_blocks() -> None:
    environment = jinja2.Environment(loader=jinja2.FileSystemLoader(CORE_TEMPLATES))
    documented = {layout: set(blocks) for layout, blocks in hookspecs.TEMPLATE_BLOCKS.items()}
    assert documented == {layout: _blocks(environment, layout) for layout in documented}
    for layout, blocks in documented.items():
        for block in blocks:
            assert f"``{block}``" in (hookspecs.__doc__ or ""), (layout, block)


def _core_sources() -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in CORE.rglob("*.py"))


def test_documented_web_state_is_what_plugins_read_and_the_core_sets() -> None:
    core = _core_sources()
    for name in hookspecs.APP_STATE:
        assert re.search(rf"app\.state\.{name} = ", core), name
    for names in hookspecs.REQUEST_STATE.values():
        for name in names:
            assert re.search(rf"request\.state\.{name} = ", core), name
    documented_request = {n for names in hookspecs.REQUEST_STATE.values() for n in names}
    for package in PLUGIN_PACKAGES:
        for path in _package_modules(package):
            text = path.read_text(encoding="utf-8")
            own = set(re.findall(r"request\.state\.(\w+) = ", text))
            for name in set(re.findall(r"request\.app\.state\.(\w+)", text)):
                assert name in hookspecs.APP_STATE, f"{path}: app.state.{name}"
            for name in set(re.findall(r"request\.state\.(\w+)", text)) - own:
                assert name in documented_request, f"{path}: request.state.{name}"
    doc = hookspecs.__doc__ or ""
    for name in hookspecs.APP_STATE:
        assert f"request.app.state.{name}" in doc
    for name in documented_request:
        assert f"request.state.{name}" in doc


def test_documented_events_are_the_outbox_handlers() -> None:
    assert set(HANDLERS) == set(hookspecs.EVENTS) | set(hookspecs.INTERNAL_EVENTS)
    for event, hook in hookspecs.EVENTS.items():
        assert hasattr(hookspecs, hook), (event, hook)
        assert f"``{event}``" in (hookspecs.__doc__ or "") or event in (
            "customer_registered",
            "invoice_created",
            "invoice_refunded",
        )


def test_core_head_is_the_newest_core_revision() -> None:
    assert CORE_HEAD == core_head()
    assert facturo.plugin.CORE_HEAD == CORE_HEAD
