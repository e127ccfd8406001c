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

What else a plugin may rely on (the constants below are the contract; tests in
``tests/architecture/test_plugin_contract.py`` check them against the code):

* **Imports**: only :mod:`facturo.plugin` (its ``__all__``) at run time; test support modules
  may also import :mod:`facturo.testing`.
* **Web state** (:data:`APP_STATE`, :data:`REQUEST_STATE`): ``request.app.state.ctx`` is the
  Context; ``request.app.state.limiter`` the rate limiter (``hit(limit, scope, key)``);
  ``request.state.customer`` / ``request.state.staff`` the logged-in customer or staff user in
  the client / admin sections (set by the core's guard before any plugin route runs);
  ``request.state.api_token`` the bearer token in the ``api`` section.
* **Template blocks** (:data:`TEMPLATE_BLOCKS`): pages extend ``client/layout.html`` or
  ``admin/layout.html`` and fill ``title``, ``head`` (extra ``<head>`` tags), ``content`` (the
  page); ``nav``, ``banner`` and ``home_url`` belong to the layouts (override them only to
  replace the whole menu, banner or home link). Emails extend ``email/base.html`` and fill
  ``title`` and ``body``. Every page gets ``lang``, ``_``, ``csrf_token``, ``customer``,
  ``staff``, ``settings`` and ``request`` (see ``facturo.plugin.render``).
* **Events** (:data:`EVENTS`): the outbox event names and the hook each one calls. Events are
  delivered in the order they were queued, each in its own transaction, and retried on
  failure independently of the others; paying a proforma queues, in this order, each billed
  service's ``provision`` action (and its ``service_status_changed``), then ``invoice_paid``,
  then ``payment_recorded``.
* **Errors**: raise ``FacturoError(detail, field, status=4xx, code=...)`` (or a subclass)
  from a handler for a refused operation: the section answers with JSON ``{"errors": [...]}``
  under ``/api`` and an error page in its layout and the reader's language elsewhere (catch
  it yourself to re-render a form with the message next to the field).
* **Resources by convention** (:mod:`facturo.plugin_resources`): a plugin package's
  ``templates/``, ``locale/<lang>/LC_MESSAGES/*.po``, ``migrations/`` and ``static/`` folders
  (beside its ``__init__.py``) are found without any hook; ``static/`` is served at
  ``/static/plugins/<name>/``. ``template_dirs``, ``locale_dirs`` and ``db_migrations`` are
  overrides: a plugin that implements one gives that kind's folders itself.
* **Settings**: ``ctx.settings_for(name)`` serves the ``[plugin.<name>]`` table checked (and
  built) once at start-up (see ``settings_schema``); plugins keep no settings cache.
* **Manual payments**: a ``payment_methods`` entry with ``online=False`` is recorded by hand
  on the core's staff form and ``POST /api/v1/payments`` (``record_manual_payment``);
  ``manual_payment_page(request, method)`` serves that form at a plugin's own path.
* **Transactions**: helpers (``record_payment``, ``place_order``, ``enqueue_event``…) take a
  session and never commit; the caller's ``ctx.db.transaction()`` commits. A session from
  ``ctx.db.read_session()`` refuses writes (``ReadOnlySessionError`` on flush).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from collections.abc import Hashable
    from datetime import date
    from decimal import Decimal
    from pathlib import Path

    import click
    from sqlalchemy.orm import Session
    from starlette.routing import BaseRoute

    from facturo.context import Context
    from facturo.contributions import (
        BankStatementEntry,
        CollectionResult,
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
    from facturo.db.reader import RowReader
    from facturo.gateways.protocol import Gateway
    from facturo.models import Customer, Document, Payment, Refund, Service, StaffUser

PROJECT = "facturo"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)

PROVISION_ACTIONS = ("create", "renew", "suspend", "unsuspend", "terminate")
WEB_SECTIONS = ("client", "admin", "api", "public")

#: ``request.app.state`` attributes a plugin handler may read.
APP_STATE = ("ctx", "limiter")
#: ``request.state`` attributes the core sets before a plugin handler of a section runs.
REQUEST_STATE = {"client": ("customer",), "admin": ("staff",), "api": ("api_token",)}
#: Blocks of the layouts a plugin template may fill, by layout.
TEMPLATE_BLOCKS = {
    "client/layout.html": ("banner", "content", "head", "home_url", "nav", "title"),
    "admin/layout.html": ("banner", "content", "head", "home_url", "nav", "title"),
    "email/base.html": ("body", "title"),
}
#: Outbox event name → the hook it calls (``provision`` answers through its provisioner).
EVENTS = {
    "customer_registered": "on_customer_registered",
    "invoice_created": "on_invoice_created",
    "invoice_paid": "on_invoice_paid",
    "payment_recorded": "on_payment_recorded",
    "invoice_refunded": "on_invoice_refunded",
    "service_status_changed": "on_service_status_changed",
    "provision": "provision_product",
}
#: Outbox events the core handles itself (no hook).
INTERNAL_EVENTS = ("password_reset_requested",)


# --- events (after commit, from the outbox) -------------------------------------------------


@hookspec
def on_customer_registered(ctx: Context, session: Session, customer: Customer) -> None:
    """A customer registered (not yet verified). Called after commit, from the outbox."""


@hookspec
def on_invoice_created(ctx: Context, session: Session, document: Document) -> None:
    """A proforma was created (order, renewal or manual). Called after commit."""


@hookspec
def on_invoice_paid(ctx: Context, session: Session, document: Document) -> None:
    """A document was fully paid and numbered as an invoice. Called after commit, AFTER the
    provisioning actions of the services it bills (queued first, delivered in queue order; a
    provisioning that fails is retried later on its own and does not hold this event back),
    and before ``on_payment_recorded`` of the payment that settled it."""


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


@hookspec
def on_bank_statement_imported(
    ctx: Context, session: Session, entries: list[BankStatementEntry]
) -> None:
    """A bank statement was imported: ``entries`` are all its movements, credits and debits.
    Called INSIDE the import's transaction by the plugin that read the file (rows written
    commit with the import; raising aborts it). A re-import passes the same entries again
    (same ``identity``): implementations must be idempotent (e.g. a direct-debit plugin
    reading its returns)."""


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
def collect_renewal(
    ctx: Context, document_id: int, attempt: int, charged_on: date
) -> CollectionResult | None:
    """Charge the unpaid renewal proforma ``document_id`` to the customer's saved payment
    method, without the customer acting (a merchant-initiated card charge, a direct debit).

    Owner dispatch: called ONLY on the plugin registered under the customer's collection
    method (``CollectionMethod.gateway``, set by that plugin with ``set_collection_method``
    in ``facturo.plugin``). Called by the billing run outside any transaction, after the core
    has claimed attempt number ``attempt`` of this document (unique on document and attempt,
    so it is called at most once per attempt even when runs race); ``charged_on`` is the
    business date of the run. The plugin opens its own transactions: it stores its charge
    attempt before calling the bank, and books an approval through the usual payment path
    (``record_payment``, or ``record_answer`` to go through the notification pipeline), so
    the proforma becomes an invoice and is provisioned like any paid proforma. Return a
    ``CollectionResult`` (``paid``, ``declined``, ``unusable``, ``error``, ``unknown``); the
    core schedules retries (``billing.collection_retry_days``) and emails the customer.
    Raising counts as ``error``.
    """


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
def web_process_stopping(ctx: Context) -> None:
    """Called once in each web process as it stops (the ASGI lifespan's shutdown, after the
    last request was answered): write out what the plugin buffers in memory, such as batched
    log rows, so that nothing is lost when the server stops."""


@hookspec
def form_action_hosts(ctx: Context) -> list[str]:
    """Origins (``"https://sis.redsys.es"``) that pages of this site submit forms to, or are
    redirected to right after a form is submitted, such as a payment gateway's hosted page.
    The Content-Security-Policy's ``form-action`` allows ``'self'`` plus these, read once at
    start-up; anything that is not a plain ``scheme://host[:port]`` is ignored."""


@hookspec
def template_dirs(ctx: Context) -> list[Path]:
    """Override: the folders of Jinja2 templates of this plugin, instead of its ``templates/``
    folder found by convention; put templates under a subfolder named after the plugin."""


@hookspec
def locale_dirs(ctx: Context) -> list[Path]:
    """Override: the folders holding ``<lang>/LC_MESSAGES/*.po`` catalogs for this plugin's
    strings, instead of its ``locale/`` folder found by convention."""


@hookspec
def client_menu_items(ctx: Context, customer: Customer) -> list[MenuItem]:
    """Links the client area menu shows to ``customer``."""


@hookspec
def client_dashboard_panels(
    ctx: Context, session: Session, customer: Customer, language: str
) -> list[Panel]:
    """Panels (HTML) the client dashboard shows to ``customer``, written in ``language``.

    The dashboard is served from a per-process cache of the rendered page while nothing it
    shows has changed; a plugin whose panels may be cached says so by implementing
    :func:`client_dashboard_panel_key` too. While any plugin implements this hook without it,
    every dashboard is rendered afresh (correct, only slower)."""


@hookspec
def client_dashboard_panel_key(
    ctx: Context, reader: RowReader, customer_id: int, language: str
) -> Hashable:
    """The cache key of the panels this plugin's ``client_dashboard_panels`` gives for the
    customer ``customer_id`` in ``language``: a hashable value, compared by equality, that
    changes whenever those panels would render differently.

    Called on every dashboard request, so read with ``reader.rows(statement, params)``: Core
    SELECTs built once at import (bound parameters by name, no expanding ``IN`` lists), a query
    or two, no ORM objects. On a request served from the cache ``reader`` runs each statement
    on its own (autocommit, on the event loop); when the page is rendered it runs them in the
    snapshot the panels are read from (``SessionReader(session)``), so a page is stored only
    under the key of the very data it shows.

    The sound choice is the data the panels show, as read for them, and values worked out from
    it at ``ctx.now()`` (a status that depends on the date belongs in the key), with the panels
    rendered from that very value; a version number that some write might not bump is not.
    Returning None makes this request's page uncacheable."""


@hookspec
def client_document_panels(
    ctx: Context, session: Session, document: Document, language: str
) -> list[Panel]:
    """Panels the customer sees once ``document`` is paid, on the thank-you page the gateway
    returns to and on the document's payment state: what the payment provisioned (e.g. the
    licence key). Return nothing for documents that are not yours to describe."""


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
    """Override: the Alembic versions folders of this plugin (branch label = plugin name),
    instead of its ``migrations/`` folder found by convention."""


@hookspec
def settings_schema(ctx: Context) -> PluginSettings | type | None:
    """The schema of this plugin's ``[plugin.<name>]`` table, validated once at start-up: a
    PluginSettings (``ctx.settings_for(name)`` is then a dict, or what its ``build`` makes of
    it) or a typed settings dataclass (``ctx.settings_for(name)`` is then its instance; see
    :mod:`facturo.typed_settings`). The plugin reads ``ctx.settings_for(name)`` on every use
    and keeps no settings cache of its own.
    A plugin without a schema must not be given settings: start-up refuses them."""


@hookspec
def demo_settings() -> dict[str, Any] | None:
    """This plugin's ``[plugin.<name>]`` table for ``facturo demo`` (sandbox modes), keyed
    ``{"plugin": name, "settings": {...}}``. Called before the Context exists."""


@hookspec
def test_settings() -> dict[str, Any] | None:
    """This plugin's ``[plugin.<name>]`` table for tests (``facturo.testing``), keyed like
    ``demo_settings``. Called before the Context exists. When a plugin does not implement it,
    the tests fall back to its ``demo_settings`` (deprecated: implement ``test_settings``)."""


@hookspec
def demo_seed(ctx: Context, session: Session, customer: Customer) -> None:
    """Add this plugin's demo data (called once, when the demo database is first seeded)."""


@hookspec
def cli_commands(ctx: Context) -> list[click.Command]:
    """Commands added to the ``facturo`` CLI (e.g. ``facturo tickets import-email``)."""
