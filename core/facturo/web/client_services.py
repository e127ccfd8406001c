"""The customer's services: list, one service with its documents, ordering an add-on."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from facturo.billing.consent import checkout_consent, is_consumer
from facturo.billing.errors import BillingError
from facturo.billing.orders import OrderError, live_addons, order_addon, same_supplier
from facturo.billing.quotes import coterm_term, quote_order
from facturo.billing.taxes import TaxTreatment, tax_amount
from facturo.billing.vat import customer_treatment
from facturo.models import Customer, Document, DocumentLine, Product, Service
from facturo.web.client_catalog import Offer, offers
from facturo.web.client_common import ctx_of, me, owned, read_form
from facturo.web.client_dashboard import customer_services
from facturo.web.order_messages import order_refusal
from facturo.web.rendering import flash, gettext_for, render, request_language


def services(request: Request) -> Response:
    """Every service of the customer with status and next due date."""
    ctx = ctx_of(request)
    with ctx.db.read_session() as session:
        rows = customer_services(session, me(request).id)
        return render(request, "client/services.html", {"services": rows})


def service_documents(session: Session, service: Service) -> list[Document]:
    """Documents with a line for ``service``, newest first."""
    billed = select(DocumentLine.document_id).where(DocumentLine.service_id == service.id)
    query = select(Document).where(Document.id.in_(billed)).order_by(Document.id.desc())
    return list(session.scalars(query))


def _service_values(
    request: Request, session: Session, service: Service, error: str = ""
) -> dict[str, Any]:
    ctx = ctx_of(request)
    customer = session.get(Customer, service.customer_id)
    assert customer is not None
    treatment = customer_treatment(ctx, customer, ctx.today())
    addons = []
    if service.parent_id is None and service.status in ("active", "suspended"):
        held = [held.product for held in live_addons(session, service.id)]
        coterm = coterm_term(session, ctx, service, ctx.today()) is not None
        for product in sorted(service.product.addons, key=lambda p: (p.position, p.id)):
            if not product.retired and not any(same_supplier(h, product) for h in held):
                found = offers(product, ctx.settings.currency, treatment)
                addons.append(
                    {
                        "product": product,
                        "offers": found,
                        "quote": _coterm_quote(
                            session, ctx, customer, service, product, found, treatment
                        )
                        if coterm and found
                        else None,
                    }
                )
    return {
        "service": service,
        "addon_services": sorted(service.addons, key=lambda s: s.id),
        "documents": service_documents(session, service),
        "addons": addons,
        "error": error,
        "consumer": is_consumer(customer, treatment.code),
        "unpaid_parent": service.parent_id is None
        and service.status == "pending"
        and bool(service.product.addons),
    }


def _coterm_quote(
    session: Session,
    ctx: Any,
    customer: Customer,
    service: Service,
    product: Product,
    found: list[Offer],
    treatment: TaxTreatment,
) -> dict[str, Any] | None:
    """What ordering ``product`` for ``service`` now costs, co-termed (None: not quotable):
    the quote's line and the ``cycle`` the order form sends (the parent's when priced)."""
    cycles = [offer.price.cycle for offer in found]
    chosen = service.cycle if service.cycle in cycles else cycles[0]
    try:
        quote = quote_order(
            session, ctx, customer, [(product, chosen)], parent=service, treatment=treatment
        )
    except BillingError:
        return None
    line = quote.lines[0]
    renewal = line.price + tax_amount(line.price, line.tax_rate)
    return {"line": line, "cycle": chosen, "renewal": renewal}


def service_page(request: Request) -> Response:
    """One service: its details, add-ons, documents and the add-on order form."""
    ctx = ctx_of(request)
    with ctx.db.read_session() as session:
        service = owned(session, Service, request.path_params["id"], me(request).id)
        return render(request, "client/service.html", _service_values(request, session, service))


def add_addon(request: Request) -> Response:
    """Order an add-on for this service; land on the new proforma."""
    ctx = ctx_of(request)
    _ = gettext_for(request)
    customer = me(request)
    form = read_form(request)
    raw = str(form.get("addon") or "")
    addon_id, _sep, cycle = raw.partition(":")
    error = ""
    if not customer.is_verified:
        error = _("Verify your email address before ordering or paying.")
    else:
        try:
            with ctx.db.transaction() as session:
                service = owned(session, Service, request.path_params["id"], customer.id)
                fresh = session.get(Customer, customer.id)
                addon = session.get(Product, int(addon_id)) if addon_id.isdigit() else None
                if addon is None or fresh is None:
                    raise ValueError("no such add-on")
                consent = checkout_consent(ctx, fresh, form.get("immediate_supply") == "yes")
                _new, document = order_addon(
                    session, ctx, fresh, service, addon, cycle, consent=consent
                )
                document_id = document.id
        except (BillingError, ValueError) as exc:
            refusal = (
                order_refusal(exc, _, request_language(request))
                if isinstance(exc, OrderError)
                else None
            )
            error = refusal or _("This add-on cannot be ordered for this service.")
    if error:
        with ctx.db.read_session() as session:
            service = owned(session, Service, request.path_params["id"], customer.id)
            status = 403 if not customer.is_verified else 400
            values = _service_values(request, session, service, error)
            return render(request, "client/service.html", values, status)
    flash(request, _("Your order has been placed. Pay it to activate your services."), "ok")
    return RedirectResponse(f"/client/documents/{document_id}", status_code=303)


def routes() -> list[Route]:
    """Service routes of the client section."""
    return [
        Route("/services", services, methods=["GET"]),
        Route("/services/{id}", service_page, methods=["GET"]),
        Route("/services/{id}/addons", add_addon, methods=["POST"]),
    ]
