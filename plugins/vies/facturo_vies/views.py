"""Web: the stand-in (public, sandbox mode) and the staff page of a customer's VIES proof,
where staff check again or override with a written reason."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route

from facturo.plugin import (
    BillingError,
    Context,
    Customer,
    error_page,
    flash,
    render,
    reprice_unpaid,
    request_language,
    roles_required,
)

from .config import SANDBOX_PATH, vies_settings
from .models import Override
from .protocol import split_number
from .sandbox import SandboxState, sandbox_routes
from .service import active_override, add_override, consult, latest_consultations, revoke_override


def public_routes(ctx: Context) -> list[BaseRoute]:
    """The stand-in, only in sandbox mode, under /public/vies/sandbox."""
    if vies_settings(ctx).mode != "sandbox":
        return []
    prefix = SANDBOX_PATH.removeprefix("/public")
    return [Mount(prefix, routes=sandbox_routes(SandboxState()))]


def _customer_id(request: Request) -> int | None:
    raw = str(request.path_params.get("customer_id", ""))
    return int(raw) if raw.isdigit() and int(raw) < 2**31 else None


def _values(
    ctx: Context, customer_id: int, error: str = "", form: dict[str, str] | None = None
) -> dict[str, Any] | None:
    with ctx.db.read_session() as session:
        customer = session.get(Customer, customer_id)
        if customer is None:
            return None
        consultations: list[Any] = []
        override: Override | None = None
        if customer.tax_id:
            country, number = split_number(customer.country, customer.tax_id)
            consultations = latest_consultations(session, country, number, limit=50)
            override = active_override(session, country, number)
        session.expunge_all()
    return {
        "c": customer,
        "consultations": consultations,
        "override": override,
        "error": error,
        "form": form or {},
    }


@roles_required("billing")
async def customer_page(request: Request) -> Response:
    """Every consultation of the customer's VAT number, the override and its form."""
    ctx = request.app.state.ctx
    customer_id = _customer_id(request)
    values = await run_in_threadpool(_values, ctx, customer_id) if customer_id else None
    if values is None:
        return error_page(request, 404)
    return render(request, "vies/customer.html", values)


def _gettext(request: Request) -> Any:
    return request.app.state.ctx.translations(request_language(request)).gettext


@roles_required("billing")
async def override(request: Request) -> Response:
    """Record an override (valid/invalid with a reason); re-price the unpaid proformas."""
    ctx = request.app.state.ctx
    _ = _gettext(request)
    customer_id = _customer_id(request)
    if customer_id is None:
        return error_page(request, 404)
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    staff = request.state.staff

    def save() -> str | None:
        with ctx.db.transaction() as session:
            customer = session.get(Customer, customer_id)
            if customer is None:
                return "404"
            try:
                add_override(
                    session, ctx, staff, customer, form.get("decision", ""), form.get("reason", "")
                )
            except BillingError as exc:
                session.rollback()
                return str(exc)
            reprice_unpaid(session, ctx, customer, actor=f"staff:{staff.id}")
        return None

    problem = await run_in_threadpool(save)
    if problem == "404":
        return error_page(request, 404)
    if problem:
        values = await run_in_threadpool(_values, ctx, customer_id, _(problem), form)
        return render(request, "vies/customer.html", values, 400)
    flash(request, _("The override was recorded."), "ok")
    return RedirectResponse(f"/admin/vies/customers/{customer_id}", status_code=303)


@roles_required("billing")
async def revoke(request: Request) -> Response:
    """End the override; VIES decides again; re-price the unpaid proformas."""
    ctx = request.app.state.ctx
    _ = _gettext(request)
    customer_id = _customer_id(request)
    if customer_id is None:
        return error_page(request, 404)
    staff = request.state.staff

    def save() -> str | None:
        with ctx.db.transaction() as session:
            customer = session.get(Customer, customer_id)
            if customer is None:
                return "404"
            try:
                revoke_override(session, ctx, staff, customer)
            except BillingError as exc:
                session.rollback()
                return str(exc)
            reprice_unpaid(session, ctx, customer, actor=f"staff:{staff.id}")
        return None

    problem = await run_in_threadpool(save)
    if problem == "404":
        return error_page(request, 404)
    if problem:
        values = await run_in_threadpool(_values, ctx, customer_id, _(problem))
        return render(request, "vies/customer.html", values, 400)
    flash(request, _("The override was revoked."), "ok")
    return RedirectResponse(f"/admin/vies/customers/{customer_id}", status_code=303)


@roles_required("billing")
async def check_now(request: Request) -> Response:
    """Ask VIES again now (recorded); re-price the unpaid proformas with the answer."""
    ctx = request.app.state.ctx
    _ = _gettext(request)
    customer_id = _customer_id(request)
    if customer_id is None:
        return error_page(request, 404)
    staff = request.state.staff

    def ask() -> str | None:
        with ctx.db.transaction() as session:
            customer = session.get(Customer, customer_id)
            if customer is None:
                return "404"
            if not customer.tax_id:
                return "this customer has no VAT number"
            country, number = split_number(customer.country, customer.tax_id)
            consult(session, ctx, country, number)
            reprice_unpaid(session, ctx, customer, actor=f"staff:{staff.id}")
        return None

    problem = await run_in_threadpool(ask)
    if problem == "404":
        return error_page(request, 404)
    if problem:
        values = await run_in_threadpool(_values, ctx, customer_id, _(problem))
        return render(request, "vies/customer.html", values, 400)
    flash(request, _("VIES was asked again."), "ok")
    return RedirectResponse(f"/admin/vies/customers/{customer_id}", status_code=303)


def admin_routes() -> list[BaseRoute]:
    """Routes mounted under /admin."""
    return [
        Route("/vies/customers/{customer_id}", customer_page, methods=["GET"]),
        Route("/vies/customers/{customer_id}/override", override, methods=["POST"]),
        Route("/vies/customers/{customer_id}/revoke", revoke, methods=["POST"]),
        Route("/vies/customers/{customer_id}/check", check_now, methods=["POST"]),
    ]
