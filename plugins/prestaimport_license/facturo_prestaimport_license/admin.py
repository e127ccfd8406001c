"""Staff pages: find licences, change status, reset the binding, toggle add-ons and expiries,
manage suppliers and read the validation log."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from html import escape
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from facturo.plugin import (
    Context,
    Customer,
    Panel,
    StaffUser,
    audit_record,
    error_page,
    flash,
    is_confirmed,
    render,
    request_language,
    roles_required,
)

from .confirmations import reset_confirmation, status_confirmation
from .models import Addon, Licence, LicenceKey, Supplier, ValidationLog
from .service import (
    LicenceError,
    addon_rows,
    binding_of,
    customer_licences,
    licence_name,
    move_allowance,
    reset_binding,
    search_licences,
    set_status,
)
from .usage_views import licence_usage, usage_page
from .views import addon_views

ROLES = ("support", "billing")


def _actor(request: Request) -> str:
    staff: StaffUser = request.state.staff
    return f"staff:{staff.id}"


@roles_required(*ROLES)
def licences_page(request: Request) -> Response:
    """Search licences by key, customer or shop."""
    ctx: Context = request.app.state.ctx
    query = request.query_params.get("q", "")
    with ctx.db.read_session() as session:
        found = search_licences(session, ctx, query) if query else []
        rows = [
            (
                lic,
                session.get(Customer, lic.customer_id),
                binding_of(session, lic.id),
                licence_name(session, lic, request_language(request)),
            )
            for lic in found
        ]
    return render(request, "prestaimport_license/admin_licences.html", {"q": query, "rows": rows})


@roles_required(*ROLES)
def licence_page(request: Request) -> Response:
    """One licence: status, binding, add-ons, keys and the validation log."""
    ctx: Context = request.app.state.ctx
    with ctx.db.read_session() as session:
        licence = session.get(Licence, request.path_params["licence_id"])
        if licence is None:
            return error_page(request, 404, "Licence not found.")
        context = {
            "licence": licence,
            "name": licence_name(session, licence, request_language(request)),
            "customer": session.get(Customer, licence.customer_id),
            "binding": binding_of(session, licence.id),
            "allowance": move_allowance(session, ctx, licence.id),
            "addons": addon_views(ctx, addon_rows(session, licence.id), request_language(request)),
            "keys": list(
                session.scalars(
                    select(LicenceKey)
                    .where(LicenceKey.licence_id == licence.id)
                    .order_by(LicenceKey.id)
                )
            ),
            **licence_usage(session, ctx, licence.id, request_language(request)),
            "log": list(
                session.scalars(
                    select(ValidationLog)
                    .where(ValidationLog.licence_id == licence.id)
                    .order_by(ValidationLog.at.desc(), ValidationLog.id.desc())
                    .limit(100)
                )
            ),
        }
    return render(request, "prestaimport_license/admin_licence.html", context)


def _back(licence_id: int) -> Response:
    return RedirectResponse(f"/admin/licences/{licence_id}", status_code=303)


def change_status(request: Request) -> Response:
    """Suspend, reinstate or revoke the licence; suspending and revoking first show a
    confirmation step (GET, or a POST without ``confirm=yes``; nothing changes)."""
    ctx: Context = request.app.state.ctx
    form = request.state.form
    licence_id = request.path_params["licence_id"]
    status = str(form.get("status", ""))
    if status in ("SUSPENDED", "REVOKED") and not is_confirmed(request, form):
        with ctx.db.read_session() as session:
            licence = session.get(Licence, licence_id)
            if licence is None:
                return error_page(request, 404, "Licence not found.")
            if licence.status != status:
                reason = str(form.get("reason", ""))[:200]
                return status_confirmation(request, session, licence, status, reason)
    if request.method != "POST":
        return _back(licence_id)
    try:
        with ctx.db.transaction() as session:
            licence = session.get(Licence, licence_id)
            if licence is None:
                return error_page(request, 404, "Licence not found.")
            set_status(
                session,
                licence,
                str(form.get("status", "")),
                str(form.get("reason", "")),
                _actor(request),
            )
    except LicenceError as exc:
        flash(request, exc.detail, "error")
        return _back(licence_id)
    flash(request, "Licence status changed.", "ok")
    return _back(licence_id)


def reset(request: Request) -> Response:
    """Release the shop binding without counting a customer move, after a confirmation
    step (GET, or a POST without ``confirm=yes``, shows it; nothing changes)."""
    ctx: Context = request.app.state.ctx
    licence_id = request.path_params["licence_id"]
    if not is_confirmed(request, request.state.form):
        with ctx.db.read_session() as session:
            licence = session.get(Licence, licence_id)
            if licence is None:
                return error_page(request, 404, "Licence not found.")
            if binding_of(session, licence.id) is not None:
                return reset_confirmation(request, session, licence)
        flash(request, "The licence was not bound.", "ok")
        return _back(licence_id)
    with ctx.db.transaction() as session:
        licence = session.get(Licence, licence_id)
        if licence is None:
            return error_page(request, 404, "Licence not found.")
        done = reset_binding(session, ctx, licence, _actor(request))
    flash(request, "Binding reset." if done else "The licence was not bound.", "ok")
    return _back(licence_id)


def _addon(session: Session, request: Request) -> Addon | None:
    return session.get(Addon, request.path_params["addon_id"])


def toggle_addon(request: Request) -> Response:
    """Switch an add-on on or off."""
    ctx: Context = request.app.state.ctx
    with ctx.db.transaction() as session:
        addon = _addon(session, request)
        if addon is None:
            return error_page(request, 404, "Add-on not found.")
        before = addon.active
        addon.active = not addon.active
        addon.updated_at = ctx.now()
        audit_record(
            session,
            _actor(request),
            "licence.addon_toggle",
            addon,
            before={"active": before},
            after={"active": addon.active},
        )
        licence_id = addon.licence_id
    flash(request, "Add-on updated.", "ok")
    return _back(licence_id)


def set_expiry(request: Request) -> Response:
    """Set an add-on's expiry (a date, end of day UTC; empty for none)."""
    ctx: Context = request.app.state.ctx
    raw = str(request.state.form.get("expires_on", "")).strip()
    expires: datetime | None = None
    if raw:
        try:
            expires = datetime.combine(date.fromisoformat(raw), time(23, 59, 59), tzinfo=UTC)
        except ValueError:
            expires = None
            raw = "!"
    with ctx.db.transaction() as session:
        addon = _addon(session, request)
        if addon is None:
            return error_page(request, 404, "Add-on not found.")
        licence_id = addon.licence_id
        if raw == "!":
            flash(request, "Enter the expiry as YYYY-MM-DD.", "error")
            return _back(licence_id)
        before = addon.expires_at.isoformat() if addon.expires_at else None
        addon.expires_at = expires
        addon.updated_at = ctx.now()
        audit_record(
            session,
            _actor(request),
            "licence.addon_expiry",
            addon,
            before={"expires_at": before},
            after={"expires_at": raw or None},
        )
    flash(request, "Expiry changed.", "ok")
    return _back(licence_id)


@roles_required(*ROLES)
def suppliers_page(request: Request) -> Response:
    """The supplier catalog."""
    ctx: Context = request.app.state.ctx
    with ctx.db.read_session() as session:
        suppliers = list(session.scalars(select(Supplier).order_by(Supplier.code)))
    return render(request, "prestaimport_license/admin_suppliers.html", {"suppliers": suppliers})


def save_supplier(request: Request) -> Response:
    """Add a supplier or rename one (by code), in Spanish (``name``) and English
    (``name_en``, optional: empty means the same)."""
    ctx: Context = request.app.state.ctx
    code = str(request.state.form.get("code", "")).strip().lower()
    name = str(request.state.form.get("name", "")).strip()
    name_en = str(request.state.form.get("name_en", "")).strip()
    if not code or not name or len(code) > 64 or len(name) > 200 or len(name_en) > 200:
        flash(request, "A supplier needs a code (up to 64 characters) and a name.", "error")
        return RedirectResponse("/admin/licences/suppliers", status_code=303)
    with ctx.db.transaction() as session:
        supplier = session.scalar(select(Supplier).where(Supplier.code == code))
        english = "" if name_en == name else name_en
        if supplier is None:
            session.add(Supplier(code=code, name=name, name_en=english))
        else:
            supplier.name, supplier.name_en = name, english
    flash(request, "Supplier saved.", "ok")
    return RedirectResponse("/admin/licences/suppliers", status_code=303)


def _post(handler: Any) -> Any:
    @roles_required(*ROLES)
    async def endpoint(request: Request) -> Response:
        if request.method == "POST":
            request.state.form = dict(await request.form())
        else:
            request.state.form = dict(request.query_params)
        return await run_in_threadpool(handler, request)

    endpoint.__name__ = handler.__name__
    return endpoint


#: Licence statuses for people (English message ids).
STATUS_WORDS = {"ACTIVE": "Active", "SUSPENDED": "Suspended", "REVOKED": "Revoked"}


def customer_panel(
    ctx: Context, session: Session, customer: Customer, language: str = "es"
) -> Panel | None:
    """The customer's licences on the staff customer page, in ``language``."""
    licences = customer_licences(session, customer.id)
    if not licences:
        return None
    gettext = ctx.translations(language).gettext
    items = []
    for licence in licences:
        status = gettext(STATUS_WORDS.get(licence.status, licence.status))
        binding = binding_of(session, licence.id)
        shop = escape(binding.shop_host) if binding else "—"
        name = escape(licence_name(session, licence))
        items.append(
            f'<li><a href="/admin/licences/{licence.id}">{name}</a> (lic_{licence.id}) '
            f"{escape(status)} · {shop}</li>"
        )
    return Panel(title={"es": "Licencias", "en": "Licences"}, html=f"<ul>{''.join(items)}</ul>")


def admin_routes() -> list[BaseRoute]:
    """Routes mounted under /admin."""
    return [
        Route("/licences", licences_page),
        Route("/licences/suppliers", suppliers_page),
        Route("/licences/usage", usage_page),
        Route("/licences/suppliers", _post(save_supplier), methods=["POST"]),
        Route("/licences/{licence_id:int}", licence_page),
        Route("/licences/{licence_id:int}/status", _post(change_status), methods=["GET", "POST"]),
        Route("/licences/{licence_id:int}/reset", _post(reset), methods=["GET", "POST"]),
        Route("/licences/addons/{addon_id:int}/toggle", _post(toggle_addon), methods=["POST"]),
        Route("/licences/addons/{addon_id:int}/expiry", _post(set_expiry), methods=["POST"]),
    ]
