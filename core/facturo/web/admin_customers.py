"""Customers in the staff area: search, the customer page, edit, disable login."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from facturo.accounts import customer_admin, sessions
from facturo.accounts.impersonation import impersonate
from facturo.accounts.staff import StaffError
from facturo.billing.movements import Filters, history
from facturo.context import Context
from facturo.errors import FacturoError
from facturo.models import Customer, Document, Service
from facturo.web import login_sessions
from facturo.web.admin_common import actor, ctx_of, form_data, get_or_404
from facturo.web.admin_confirmations import disable_confirmation
from facturo.web.confirm import is_confirmed
from facturo.web.rendering import flash, gettext_for, render, request_language
from facturo.web.sections import roles_required

#: Documents and payments shown on a customer's page (the lists link to the rest).
RECENT = 20


def customer_list(request: Request) -> Response:
    """Search customers (every role may read)."""
    ctx = ctx_of(request)
    query = request.query_params.get("q", "")
    with ctx.db.read_session() as session:
        customers = customer_admin.search_customers(ctx, session, query)
    return render(request, "admin/customers.html", {"customers": customers, "q": query})


def customer_page(request: Request) -> Response:
    """One customer with services, documents, payments and plugins' panels."""
    ctx = ctx_of(request)
    with ctx.db.read_session() as session:
        customer = get_or_404(session, Customer, request.path_params["id"])
        values = _page_values(ctx, session, customer, request_language(request))
    return render(request, "admin/customer.html", values)


def _page_values(
    ctx: Context, session: Session, customer: Customer, language: str
) -> dict[str, Any]:
    services = list(
        session.scalars(
            select(Service)
            .options(selectinload(Service.product))
            .where(Service.customer_id == customer.id)
            .order_by(Service.id)
        )
    )
    documents = list(
        session.scalars(
            select(Document)
            .where(Document.customer_id == customer.id)
            .options(selectinload(Document.credit_notes))
            .order_by(Document.id.desc())
            .limit(RECENT + 1)
        )
    )
    payments = history(session, Filters(customer_id=customer.id, every_refund=True), RECENT + 1)
    panels = [
        panel
        for found in ctx.hook.admin_customer_panels(
            ctx=ctx, session=session, customer=customer, language=language
        )
        for panel in (found or [])
    ]
    return {
        "c": customer,
        "services": services,
        "documents": documents[:RECENT],
        "more_documents": len(documents) > RECENT,
        "payments": payments[:RECENT],
        "more_payments": len(payments) > RECENT,
        "panels": sorted(panels, key=lambda p: p.order),
        "errors": {},
        "form_values": None,
    }


@roles_required("billing")
def customer_edit(request: Request) -> Response:
    """Save the customer's data; re-render with field messages on bad input."""
    _ = gettext_for(request)
    ctx = ctx_of(request)
    form = form_data(request)
    try:
        with ctx.db.transaction() as session:
            customer = get_or_404(session, Customer, request.path_params["id"])
            customer_admin.update_customer(
                session,
                customer,
                {k: form[k] for k in customer_admin.CUSTOMER_FIELDS if k in form},
                actor(request),
                ctx,
            )
    except FacturoError as exc:
        # Bad input re-renders the page with the message by its field and writes nothing.
        with ctx.db.read_session() as session:
            customer = get_or_404(session, Customer, request.path_params["id"])
            values = _page_values(ctx, session, customer, request_language(request))
        message = _(str(exc))
        values["errors"] = {exc.field or "form": message}
        values["form_values"] = {k: str(form.get(k, "")) for k in customer_admin.CUSTOMER_FIELDS}
        return render(request, "admin/customer.html", values, exc.status)
    flash(request, _("Saved."), "ok")
    return RedirectResponse(f"/admin/customers/{customer.id}", status_code=303)


@roles_required("billing")
def customer_impersonate(request: Request) -> Response:
    """Sign in as the customer in this browser (audited; ends with "Back to the staff area")."""
    _ = gettext_for(request)
    ctx = ctx_of(request)
    staff = request.state.staff
    try:
        with ctx.db.transaction() as session:
            customer = get_or_404(session, Customer, request.path_params["id"])
            earlier = login_sessions.token_of(request, "customer")
            if earlier:  # whoever was signed in as a customer in this browser is signed out
                sessions.revoke_token(session, ctx, "customer", earlier, "replaced")
            _row, token = impersonate(
                session,
                ctx,
                staff,
                customer,
                ip=login_sessions.client_ip(request),
                user_agent=login_sessions.user_agent(request),
            )
    except StaffError as exc:
        flash(request, _(str(exc)), "error")
        return RedirectResponse(f"/admin/customers/{request.path_params['id']}", status_code=303)
    request.session[login_sessions.COOKIE_KEYS["customer"]] = token
    return RedirectResponse("/client/", status_code=303)


@roles_required("billing")
def customer_login(request: Request) -> Response:
    """Disable (after a confirmation step: GET, or a POST without ``confirm=yes``, shows what
    it does and changes nothing) or re-enable the customer's login."""
    _ = gettext_for(request)
    ctx = ctx_of(request)
    form = form_data(request) if request.method == "POST" else dict(request.query_params)
    disabled = form.get("disabled", "1" if request.method == "GET" else "") == "1"
    if disabled and not is_confirmed(request, form):
        return disable_confirmation(request, int(request.path_params["id"]))
    if request.method != "POST":
        return RedirectResponse(f"/admin/customers/{request.path_params['id']}", status_code=303)
    with ctx.db.transaction() as session:
        customer = get_or_404(session, Customer, request.path_params["id"])
        customer_admin.set_customer_login(session, ctx, customer, disabled, actor(request))
    flash(request, _("Login disabled.") if disabled else _("Login enabled."), "ok")
    return RedirectResponse(f"/admin/customers/{customer.id}", status_code=303)


def routes() -> list[Route]:
    return [
        Route("/customers", customer_list),
        Route("/customers/{id:int}", customer_page),
        Route("/customers/{id:int}/edit", customer_edit, methods=["POST"]),
        Route("/customers/{id:int}/login", customer_login, methods=["GET", "POST"]),
        Route("/customers/{id:int}/impersonate", customer_impersonate, methods=["POST"]),
    ]
