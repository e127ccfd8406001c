"""Client area "Licences" pages, the dashboard panel and the copy-button script."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from facturo.plugin import (
    BillingError,
    Context,
    Customer,
    Document,
    DocumentLine,
    OrderError,
    Product,
    QuoteLine,
    Service,
    error_page,
    flash,
    is_confirmed,
    live_addons,
    order_addon,
    order_refusal,
    quote_order,
    render,
    request_language,
    same_supplier,
)

from .confirmations import move_confirmation, regenerate_confirmation
from .evaluation import AddonState, addon_status
from .models import Addon, Licence, Supplier
from .service import (
    LicenceError,
    addon_rows,
    binding_of,
    current_key,
    customer_licences,
    licence_name,
    move_allowance,
    move_shop,
    regenerate_key,
    supplier_code,
)
from .settings import config


def say(request: Request, message: str, kind: str = "info") -> None:
    """Flash ``message`` in the visitor's language."""
    ctx: Context = request.app.state.ctx
    flash(request, ctx.translations(request_language(request)).gettext(message), kind)


@dataclass(frozen=True)
class AddonView:
    """One add-on as the pages show it."""

    addon_id: int
    supplier: str
    code: str
    active: bool
    expires_at: datetime | None
    status: str


def addon_views(
    ctx: Context, rows: list[tuple[Addon, Supplier]], language: str = "es"
) -> list[AddonView]:
    """Add-ons with their status at ``ctx.now()`` (the same rule as the validation API), each
    supplier named from the staff's catalog in ``language``."""
    now, grace = ctx.now(), config(ctx).grace
    views = []
    for addon, supplier in rows:
        status, _ = addon_status(
            AddonState(
                supplier.code, addon.active, starts_at=addon.starts_at, expires_at=addon.expires_at
            ),
            now,
            grace,
        )
        views.append(
            AddonView(
                addon.id,
                supplier.label(language),
                supplier.code,
                addon.active,
                addon.expires_at,
                status,
            )
        )
    return views


def _licence_context(
    ctx: Context, session: Session, licence: Licence, language: str = "es"
) -> dict[str, Any]:
    service = session.get(Service, licence.service_id) if licence.service_id else None
    owned = {code for _, code in _addon_codes(session, licence)}
    buyable: list[Product] = []
    if service is not None and service.status in ("active", "suspended"):
        held = [held.product for held in live_addons(session, service.id)]
        for product in service.product.addons:
            if any(same_supplier(h, product) for h in held):
                continue
            code = supplier_code(product.provisioner_options or "")
            if (
                product.retired
                or code is None
                or product.price_for("annual", ctx.settings.currency) is None
            ):
                continue
            if code not in owned or _addon_lapsed(session, ctx, licence, code):
                buyable.append(product)
    quotes: dict[int, QuoteLine] = {}
    if service is not None and buyable:  # one quote: the VAT number is checked once
        try:
            items = [(product, "annual") for product in buyable]
            quote = quote_order(session, ctx, service.customer, items, service)
            quotes = {line.product_id: line for line in quote.lines}
        except BillingError:
            quotes = {}
    return {
        "licence": licence,
        "name": licence_name(session, licence, language),
        "key": current_key(session, ctx, licence),
        "binding": binding_of(session, licence.id),
        "allowance": move_allowance(session, ctx, licence.id),
        "addons": addon_views(ctx, addon_rows(session, licence.id), language),
        "buyable": buyable,
        "quotes": quotes,
        "renewal": pending_renewal(session, licence),
    }


def _addon_codes(session: Session, licence: Licence) -> list[tuple[int, str]]:
    return [
        (row[0], row[1])
        for row in session.execute(
            select(Addon.id, Supplier.code)
            .join(Supplier, Supplier.id == Addon.supplier_id)
            .where(Addon.licence_id == licence.id)
        )
    ]


def _addon_lapsed(session: Session, ctx: Context, licence: Licence, code: str) -> bool:
    for view in addon_views(ctx, addon_rows(session, licence.id)):
        if view.code == code:
            service = session.scalar(
                select(Service)
                .join(Addon, Addon.service_id == Service.id)
                .where(Addon.id == view.addon_id)
            )
            return service is None or service.status in ("terminated", "cancelled")
    return True


def pending_renewal(session: Session, licence: Licence) -> Document | None:
    """The unpaid proforma billing the licence or one of its add-ons, if any."""
    if licence.service_id is None:
        return None
    service_ids = select(Service.id).where(
        (Service.id == licence.service_id) | (Service.parent_id == licence.service_id)
    )
    return session.scalar(
        select(Document)
        .join(DocumentLine, DocumentLine.document_id == Document.id)
        .where(
            DocumentLine.service_id.in_(service_ids),
            Document.kind == "proforma",
            Document.status == "unpaid",
        )
        .order_by(Document.id)
        .limit(1)
    )


def _own_licence(request: Request, session: Session) -> Licence | None:
    customer: Customer = request.state.customer
    licence = session.get(Licence, int(request.path_params["licence_id"]))
    if licence is None or licence.customer_id != customer.id:
        return None
    return licence


def licences_page(request: Request) -> Response:
    """List the customer's licences with key, shop, add-ons and actions."""
    ctx: Context = request.app.state.ctx
    customer: Customer = request.state.customer
    with ctx.db.read_session() as session:
        items = [
            _licence_context(ctx, session, lic, request_language(request))
            for lic in customer_licences(session, customer.id)
        ]
    return render(request, "prestaimport_license/licences.html", {"items": items})


def buy_addon(request: Request) -> Response:
    """Order a supplier add-on for the licence and go to its bill."""
    ctx: Context = request.app.state.ctx
    customer: Customer = request.state.customer
    form = _form(request)
    try:
        with ctx.db.transaction() as session:
            licence = _own_licence(request, session)
            if licence is None or licence.service_id is None:
                return error_page(request, 404, "Licence not found.")
            parent = session.get(Service, licence.service_id)
            product = session.get(Product, _int(form.get("product_id")))
            if parent is None or product is None or product.parent_id != parent.product_id:
                say(request, "Choose one of the offered add-ons.", "error")
                return RedirectResponse("/client/licences", status_code=303)
            me = session.get(Customer, customer.id)
            assert me is not None
            _, document = order_addon(session, ctx, me, parent, product, "annual")
            document_id = document.id
    except OrderError as exc:
        language = request_language(request)
        refusal = order_refusal(exc, ctx.translations(language).gettext, language)
        flash(request, refusal or str(exc), "error")
        return RedirectResponse("/client/licences", status_code=303)
    return RedirectResponse(f"/client/documents/{document_id}", status_code=303)


def renew(request: Request) -> Response:
    """Go to the pending renewal bill of the licence (or back, saying there is none)."""
    ctx: Context = request.app.state.ctx
    with ctx.db.read_session() as session:
        licence = _own_licence(request, session)
        if licence is None:
            return error_page(request, 404, "Licence not found.")
        document = pending_renewal(session, licence)
    if document is None:
        say(request, "There is no renewal to pay right now.", "info")
        return RedirectResponse("/client/licences", status_code=303)
    return RedirectResponse(f"/client/documents/{document.id}", status_code=303)


def move(request: Request) -> Response:
    """Release the shop so that the next validation from the new shop binds it, after a
    confirmation step (GET, or a POST without ``confirm=yes``, shows it; nothing changes)."""
    ctx: Context = request.app.state.ctx
    customer: Customer = request.state.customer
    if not is_confirmed(request, _form(request)):
        with ctx.db.read_session() as session:
            licence = _own_licence(request, session)
            if licence is None:
                return error_page(request, 404, "Licence not found.")
            if binding_of(session, licence.id) is not None:  # else nothing to release
                return move_confirmation(request, session, licence)
    try:
        with ctx.db.transaction() as session:
            licence = _own_licence(request, session)
            if licence is None:
                return error_page(request, 404, "Licence not found.")
            move_shop(session, ctx, licence, f"customer:{customer.id}")
    except LicenceError as exc:
        say(request, MOVE_MESSAGES.get(exc.code, exc.detail), "error")
        return RedirectResponse("/client/licences", status_code=303)
    say(request, "The licence was released: it binds to the next shop that validates it.", "ok")
    return RedirectResponse("/client/licences", status_code=303)


MOVE_MESSAGES = {
    "MOVE_NOT_BOUND": "The licence is not bound to a shop yet.",
    "REBIND_LIMIT_REACHED": "You have used every move allowed this year.",
    "REBIND_COOLDOWN": "The licence was moved recently; try again later.",
}


def regenerate(request: Request) -> Response:
    """Replace the licence key; the old key stops working (KEY_REPLACED). First a
    confirmation step (GET, or a POST without ``confirm=yes``, shows it; nothing changes)."""
    ctx: Context = request.app.state.ctx
    customer: Customer = request.state.customer
    if not is_confirmed(request, _form(request)):
        with ctx.db.read_session() as session:
            licence = _own_licence(request, session)
            if licence is None:
                return error_page(request, 404, "Licence not found.")
            return regenerate_confirmation(request, session, licence)
    with ctx.db.transaction() as session:
        licence = _own_licence(request, session)
        if licence is None:
            return error_page(request, 404, "Licence not found.")
        regenerate_key(session, ctx, licence, f"customer:{customer.id}")
    say(request, "A new key was generated; the old key no longer works.", "ok")
    return RedirectResponse("/client/licences", status_code=303)


async def _with_form(request: Request, handler: Any) -> Response:
    from starlette.concurrency import run_in_threadpool

    request.state.form = dict(await request.form()) if request.method == "POST" else {}
    return await run_in_threadpool(handler, request)


async def buy_addon_endpoint(request: Request) -> Response:
    return await _with_form(request, buy_addon)


async def move_endpoint(request: Request) -> Response:
    return await _with_form(request, move)


async def regenerate_endpoint(request: Request) -> Response:
    return await _with_form(request, regenerate)


def _form(request: Request) -> dict[str, Any]:
    return getattr(request.state, "form", {})


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def client_routes() -> list[BaseRoute]:
    """Routes mounted under /client."""
    return [
        Route("/licences", licences_page),
        Route("/licences/{licence_id:int}/addons", buy_addon_endpoint, methods=["POST"]),
        Route("/licences/{licence_id:int}/renew", renew),
        Route("/licences/{licence_id:int}/move", move_endpoint, methods=["GET", "POST"]),
        Route(
            "/licences/{licence_id:int}/regenerate", regenerate_endpoint, methods=["GET", "POST"]
        ),
    ]
