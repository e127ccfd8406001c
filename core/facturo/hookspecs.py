"""Every hook of Facturo: THE plugin API.

Four kinds of hook:

* **events** are called after the change they report has been committed, by the worker,
  from the outbox (at least once; implementations must be idempotent). They get ``ctx`` and a
  ``session`` in a fresh transaction that commits after all implementations ran.
* **in-transaction events** (``on_document_issued``) run inside the transaction that makes the
  change; what they write commits or rolls back with it; raising aborts the change.
* **answers** are ``firstresult``: the first implementation that returns something other than
  None wins. A plugin answers only for what it owns (its provisioner, its gateway).
* **contributions** are called on every plugin and their lists are concatenated.

Implementations may accept fewer arguments than the spec lists (pluggy's opt-in arguments).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from datetime import date
    from decimal import Decimal
    from pathlib import Path

    import click
    from sqlalchemy.orm import Session
    from starlette.routing import BaseRoute

    from facturo.context import Context
    from facturo.contributions import (
        GaugeSample,
        MenuItem,
        Panel,
        PaymentMethod,
        PaymentOption,
        PeriodicJob,
        PluginSettings,
        RefundResult,
        SearchHit,
        VatCheck,
    )
    from facturo.gateways.protocol import Gateway
    from facturo.models import Customer, Document, Payment, Refund, Service, StaffUser

PROJECT = "facturo"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)

PROVISION_ACTIONS = ("create", "renew", "suspend", "unsuspend", "terminate")
WEB_SECTIONS = ("client", "admin", "api", "public")


# --- events (after commit, from the outbox) -------------------------------------------------


@hookspec
def on_customer_registered(ctx: Context, session: Session, customer: Customer) -> None:
    """A customer registered (not yet verified). Called after commit, from the outbox."""


@hookspec
def on_invoice_created(ctx: Context, session: Session, document: Document) -> None:
    """A proforma was created (order, renewal or manual). Called after commit."""


@hookspec
def on_invoice_paid(ctx: Context, session: Session, document: Document) -> None:
    """A document was fully paid and numbered as an invoice. Called after commit, before
    the services it bills are provisioned."""


@hookspec
def on_payment_recorded(ctx: Context, session: Session, payment: Payment) -> None:
    """A payment was recorded (applied or held for review). Called after commit."""


@hookspec
def on_invoice_refunded(
    ctx: Context, session: Session, document: Document, credit_note: Document, refund: Refund | None
) -> None:
    """A credit note was issued against ``document`` (with the refund, if money went back).
    Called after commit."""


@hookspec
def on_service_status_changed(
    ctx: Context, session: Session, service: Service, old_status: str, new_status: str
) -> None:
    """A service changed status (e.g. pending → active). Called after commit."""


# --- in-transaction events -------------------------------------------------------------------


@hookspec
def on_document_issued(ctx: Context, session: Session, document: Document) -> None:
    """An invoice or credit note just received its number. Called INSIDE the numbering
    transaction, after the number and totals are set and flushed; rows the plugin adds commit
    with it (e.g. a VERI*FACTU record). Raising aborts the payment or credit note."""


# --- answers (firstresult) -------------------------------------------------------------------


@hookspec(firstresult=True)
def provision_product(
    ctx: Context,
    session: Session,
    service: Service,
    action: str,
    document_id: int | None,
    line_id: int | None,
    period_start: date | None,
    period_end: date | None,
) -> dict[str, Any] | None:
    """Carry out ``action`` (create, renew, suspend, unsuspend, terminate) for ``service``.

    Owner dispatch: called ONLY on the plugin registered under ``service.product.provisioner``
    (never on other plugins; a product without a provisioner calls nobody). Called after commit from the outbox, inside a transaction that also records the new
    service status; return a dict (merged into ``service.provisioner_data``) on success, raise to
    have the worker retry later. Must be idempotent: the same action may be delivered twice.

    A ``create`` or ``renew`` caused by a payment carries the paid invoice line:
    ``document_id``, ``line_id`` and its period ``period_start`` … ``period_end`` (business
    dates, both included); other actions get None for all four. Key idempotency on
    ``line_id`` (one paid line = one extension; two renewals paid before the worker runs are
    two lines), never on the service's current due date, which may already have moved on.
    What is provisioned expires when the paid period ends: at the start of the day after
    ``period_end`` in the business time zone (``period_end_instant(period_end,
    ctx.settings.zone)`` in ``facturo.plugin``), which is the service's next due date; never
    shorten an expiry that is already later (events may arrive out of order).

    The one rule for where a period starts, the same in the core and in every plugin: a first
    period (``create``) starts on the day the invoice is paid; a renewal continues from the
    previous due date, however late it is paid, even after a suspension for non-payment (the
    billing anchor is kept, as WHMCS and Stripe keep it): the customer pays for the period
    printed on the invoice. A service terminated for non-payment is not renewed; it is
    ordered again. Implementations may accept only the arguments they need (older plugins
    take ``ctx, session, service, action`` and keep working).
    """


@hookspec(firstresult=True)
def render_invoice(ctx: Context, document: Document, fmt: str) -> bytes | None:
    """Render ``document`` as ``fmt`` ("pdf" or "html"); return bytes. The built-in xhtml2pdf
    renderer answers last, so any plugin can replace it."""


@hookspec(firstresult=True)
def refund_payment(
    ctx: Context, session: Session, payment: Payment, amount: Decimal
) -> RefundResult | None:
    """Send ``amount`` of ``payment`` back through its gateway. Owner dispatch: called ONLY on
    the plugin registered under ``payment.gateway``; raise on a gateway error (nothing is
    recorded)."""


@hookspec(firstresult=True)
def send_email(ctx: Context, message: Any) -> bool | None:
    """Deliver one ``email.message.EmailMessage``; return True when handed over. The built-in
    mailer (SMTP, or .eml files when no SMTP is configured) answers last. Raise to retry."""


@hookspec(firstresult=True)
def check_vat_number(
    ctx: Context, session: Session | None, country: str, number: str
) -> VatCheck | bool | None:
    """Check the EU VAT number ``number`` of ``country`` online (e.g. VIES).

    Return a VatCheck ("valid", "invalid" or "unknown" when the service could not answer) or
    None for "not checked" (no plugin: the format check alone decides). Record the
    consultation in ``session`` (the caller's write transaction, committed or rolled back with
    the caller's change) or, when it is None, in a transaction of your own. Called when a
    document is priced, again when it is numbered, and for previews (catalog prices).
    """


# --- contributions ---------------------------------------------------------------------------


@hookspec
def payment_gateways(ctx: Context) -> list[Gateway]:
    """The payment gateways this plugin drives, each following ``facturo.plugin.Gateway``
    (verify/apply notifications, query pending payments for reconciliation, refund)."""


@hookspec
def payment_methods(ctx: Context) -> list[PaymentMethod]:
    """The payment methods this plugin offers."""


@hookspec
def invoice_payment_options(ctx: Context, document: Document, language: str) -> list[PaymentOption]:
    """What an unpaid document shows for this plugin's method(s): a pay button, instructions."""


@hookspec
def invoice_extras(ctx: Context, document: Document, fmt: str) -> list[str]:
    """HTML snippets printed at the start of ``document`` (``fmt`` "pdf" or "html"), e.g. the
    VERI*FACTU tax QR. Inserted unescaped: escape any data you put in them."""


@hookspec
def web_routes(ctx: Context, section: str) -> list[BaseRoute]:
    """Routes to mount in ``section`` (client, admin, api, public). The core enforces the
    section's access rule: client = logged-in customer (``request.state.customer``), admin =
    staff (``request.state.staff``), api = bearer token, public = none."""


@hookspec
def form_action_hosts(ctx: Context) -> list[str]:
    """Origins (``"https://sis.redsys.es"``) that pages of this site submit forms to, or are
    redirected to right after a form is submitted, such as a payment gateway's hosted page.
    The Content-Security-Policy's ``form-action`` allows ``'self'`` plus these, read once at
    start-up; anything that is not a plain ``scheme://host[:port]`` is ignored."""


@hookspec
def template_dirs(ctx: Context) -> list[Path]:
    """Folders of Jinja2 templates; put templates under a subfolder named after the plugin."""


@hookspec
def locale_dirs(ctx: Context) -> list[Path]:
    """Folders holding ``<lang>/LC_MESSAGES/*.po`` catalogs for this plugin's strings."""


@hookspec
def client_menu_items(ctx: Context, customer: Customer) -> list[MenuItem]:
    """Links the client area menu shows to ``customer``."""


@hookspec
def client_dashboard_panels(
    ctx: Context, session: Session, customer: Customer, language: str
) -> list[Panel]:
    """Panels (HTML) the client dashboard shows to ``customer``."""


@hookspec
def admin_menu_items(ctx: Context, staff: StaffUser) -> list[MenuItem]:
    """Links the staff menu shows to ``staff`` (filter by ``staff.role``, or set ``roles``).
    ``MenuItem.group`` names the menu heading the link goes under (``sales``, ``customers``,
    ``support``, ``taxes``, ``settings``); items without one go under "More"."""


@hookspec
def footer_links(ctx: Context, section: str) -> list[MenuItem]:
    """Links every page footer of ``section`` (``client`` or ``admin``) shows: legal texts,
    the billing system's declaration… In ``admin``, ``roles`` limits who sees a link."""


@hookspec
def admin_customer_panels(
    ctx: Context, session: Session, customer: Customer, language: str
) -> list[Panel]:
    """Panels a staff customer page shows (the customer's licences, tickets…), written in the
    staff user's ``language`` (es or en; an implementation may leave the argument out)."""


@hookspec
def admin_document_panels(ctx: Context, session: Session, document: Document) -> list[Panel]:
    """Panels the staff page of ``document`` shows (e.g. the VIES proof of its treatment)."""


@hookspec
def admin_dashboard_panels(
    ctx: Context, session: Session, staff: StaffUser, language: str
) -> list[Panel]:
    """Panels the staff dashboard shows to ``staff`` (e.g. open tickets by priority), written
    in the staff user's ``language`` (es or en; an implementation may leave the argument out)."""


@hookspec
def customer_search(ctx: Context, session: Session, query: str) -> list[SearchHit]:
    """Customers found by this plugin's own keys (a licence key, a ticket reference)."""


@hookspec
def operations_gauges(ctx: Context, session: Session) -> list[GaugeSample]:
    """Values for ``/metrics``, read when it is scraped: keep to a few indexed counts (a
    gateway plugin reports its payment attempts left pending, ``pending_gateway_attempts``
    with a ``gateway`` label)."""


@hookspec
def periodic_jobs(ctx: Context) -> list[PeriodicJob]:
    """Jobs the worker runs periodically."""


@hookspec
def db_migrations(ctx: Context) -> list[Path]:
    """Alembic versions folders of this plugin (branch label = plugin name)."""


@hookspec
def settings_schema(ctx: Context) -> PluginSettings | None:
    """The schema of this plugin's ``[plugin.<name>]`` table, validated at start-up."""


@hookspec
def demo_settings() -> dict[str, Any] | None:
    """This plugin's ``[plugin.<name>]`` table for ``facturo demo`` (sandbox modes), keyed
    ``{"plugin": name, "settings": {...}}``. Called before the Context exists."""


@hookspec
def demo_seed(ctx: Context, session: Session, customer: Customer) -> None:
    """Add this plugin's demo data (called once, when the demo database is first seeded)."""


@hookspec
def cli_commands(ctx: Context) -> list[click.Command]:
    """Commands added to the ``facturo`` CLI (e.g. ``facturo tickets import-email``)."""
