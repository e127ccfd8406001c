"""Pages: the customer's mandates (sign, list, revoke) and the staff collections (pre-notify,
build, download the pain.008 file, mark sent and settled). Handlers are thin: the work is in
``mandates`` and ``collections``."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from facturo.plugin import (
    Context,
    Document,
    error_page,
    flash,
    owned_or_404,
    read_form,
    render,
    request_language,
    roles_required,
)

from .collections import CollectionError, build_collection, mark_sent, prenotify, settle
from .mandates import (
    MandateError,
    customer_mandates,
    is_business,
    revoke_mandate,
    sign_mandate,
)
from .models import SCHEMES, Collection, Mandate

MANDATES_URL = "/client/sepa/mandates"
COLLECTIONS_URL = "/admin/sepa/collections"


def _ctx(request: Request) -> Context:
    ctx: Context = request.app.state.ctx
    return ctx


def _t(request: Request, message: str) -> str:
    return str(_ctx(request).translations(request_language(request)).gettext(message))


def _fields(request: Request) -> dict[str, str]:
    form = read_form(request)
    return {k: v.strip() for k, v in form.items() if isinstance(v, str)}


# --- client ----------------------------------------------------------------------------------


def _mandates_page(
    request: Request, errors: dict[str, str], values: dict[str, str], status: int = 200
) -> Response:
    ctx = _ctx(request)
    customer = request.state.customer
    with ctx.db.read_session() as session:
        mandates = customer_mandates(session, customer.id)
    defaults = {"debtor_name": customer.company or customer.name, "scheme": "B2B"}
    return render(
        request,
        "sepa/mandates.html",
        {
            "mandates": mandates,
            "errors": {k: _t(request, v) for k, v in errors.items()},
            "values": {**defaults, **values},
            "business": is_business(customer),
            "schemes": SCHEMES,
            "creditor": ctx.settings_for("sepa"),
        },
        status_code=status,
    )


def mandates_page(request: Request) -> Response:
    """The customer's mandates and the form to sign a new one."""
    return _mandates_page(request, {}, {})


def sign(request: Request) -> Response:
    """Sign a mandate; bad fields re-render the form (400) with a message next to each."""
    ctx = _ctx(request)
    values = _fields(request)
    customer = request.state.customer
    try:
        with ctx.db.transaction() as session:
            mandate = sign_mandate(session, ctx, customer, values)
            reference = mandate.reference
    except MandateError as exc:
        return _mandates_page(request, exc.errors, values, status=400)
    flash(request, _t(request, "Mandate %(reference)s signed.") % {"reference": reference}, "ok")
    return RedirectResponse(MANDATES_URL, status_code=303)


def revoke(request: Request) -> Response:
    """Revoke one of the customer's mandates (another customer's is a 404)."""
    ctx = _ctx(request)
    customer = request.state.customer
    with ctx.db.transaction() as session:
        mandate = owned_or_404(session, Mandate, request.path_params["mandate_id"], customer.id)
        revoke_mandate(session, ctx, mandate, f"customer:{customer.id}")
    flash(request, _t(request, "Mandate revoked."), "ok")
    return RedirectResponse(MANDATES_URL, status_code=303)


# --- staff -----------------------------------------------------------------------------------


def _collections_page(
    request: Request, errors: dict[str, str], values: dict[str, str], status: int = 200
) -> Response:
    ctx = _ctx(request)
    with ctx.db.read_session() as session:
        found = list(session.scalars(select(Collection).order_by(Collection.id.desc()).limit(100)))
    defaults = {"scheme": "CORE", "collect_on": (ctx.today() + timedelta(days=2)).isoformat()}
    return render(
        request,
        "sepa/collections.html",
        {
            "collections": found,
            "errors": {k: _t(request, v) for k, v in errors.items()},
            "values": {**defaults, **values},
            "schemes": SCHEMES,
        },
        status_code=status,
    )


@roles_required("billing")
def collections_page(request: Request) -> Response:
    """Collections so far, and the forms to pre-notify and to build a new one."""
    return _collections_page(request, {}, {})


@roles_required("billing")
def build(request: Request) -> Response:
    """Build a collection of the due proformas; bad fields re-render the page (400)."""
    ctx = _ctx(request)
    values = _fields(request)
    errors: dict[str, str] = {}
    scheme = values.get("scheme", "")
    if scheme not in SCHEMES:
        errors["scheme"] = "Choose the scheme: Core or B2B."
    try:
        collect_on: date | None = date.fromisoformat(values.get("collect_on", ""))
    except ValueError:
        collect_on = None
        errors["collect_on"] = "Enter the collection date as YYYY-MM-DD."
    if errors or collect_on is None:
        return _collections_page(request, errors, values, status=400)
    staff = request.state.staff
    try:
        with ctx.db.transaction() as session:
            collection = build_collection(session, ctx, scheme, collect_on, f"staff:{staff.id}")
            collection_id = collection.id
    except CollectionError as exc:
        return _collections_page(request, {"collect_on": str(exc)}, values, status=400)
    flash(request, _t(request, "Collection built."), "ok")
    return RedirectResponse(f"{COLLECTIONS_URL}/{collection_id}", status_code=303)


@roles_required("billing")
def send_notices(request: Request) -> Response:
    """Queue the pre-notifications due now (the worker job does it too)."""
    ctx = _ctx(request)
    with ctx.db.transaction() as session:
        count = prenotify(session, ctx)
    flash(request, _t(request, "Pre-notifications queued: %(count)d.") % {"count": count}, "ok")
    return RedirectResponse(COLLECTIONS_URL, status_code=303)


def _collection(request: Request, session: Any) -> Collection | None:
    found: Collection | None = session.get(Collection, int(request.path_params["collection_id"]))
    return found


@roles_required("billing")
def collection_page(request: Request) -> Response:
    """One collection: its debits and what can be done with it."""
    ctx = _ctx(request)
    with ctx.db.read_session() as session:
        found = _collection(request, session)
        if found is None:
            return error_page(request, 404)
        items = [(item, item.mandate) for item in found.items]
        references = {
            d.id: d.reference
            for d in session.scalars(
                select(Document).where(Document.id.in_([i.document_id for i, _ in items]))
            )
        }
        return render(
            request,
            "sepa/collection.html",
            {"collection": found, "items": items, "references": references},
        )


@roles_required("billing")
def download(request: Request) -> Response:
    """The collection's pain.008 XML, as a file to upload to the bank."""
    ctx = _ctx(request)
    with ctx.db.read_session() as session:
        found = _collection(request, session)
        if found is None:
            return error_page(request, 404)
        name = f"{found.message_id}.xml"
        return Response(
            found.xml.encode("utf-8"),
            media_type="application/xml",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )


@roles_required("billing")
def sent(request: Request) -> Response:
    """Mark the collection as uploaded to the bank."""
    ctx = _ctx(request)
    collection_id = int(request.path_params["collection_id"])
    with ctx.db.transaction() as session:
        changed = mark_sent(session, ctx, collection_id, f"staff:{request.state.staff.id}")
    message = "Collection marked as sent." if changed else "Only an open collection can be sent."
    flash(request, _t(request, message), "ok" if changed else "error")
    return RedirectResponse(f"{COLLECTIONS_URL}/{collection_id}", status_code=303)


@roles_required("billing")
def settled(request: Request) -> Response:
    """Mark the collection as credited by the bank: its debits become payments."""
    ctx = _ctx(request)
    collection_id = int(request.path_params["collection_id"])
    try:
        with ctx.db.transaction() as session:
            count = settle(session, ctx, collection_id, f"staff:{request.state.staff.id}")
    except CollectionError as exc:
        flash(request, _t(request, str(exc)), "error")
    else:
        flash(request, _t(request, "Payments recorded: %(count)d.") % {"count": count}, "ok")
    return RedirectResponse(f"{COLLECTIONS_URL}/{collection_id}", status_code=303)


def client_routes() -> list[BaseRoute]:
    """Routes of the client section."""
    return [
        Route("/sepa/mandates", mandates_page, methods=["GET"]),
        Route("/sepa/mandates", sign, methods=["POST"]),
        Route("/sepa/mandates/{mandate_id:int}/revoke", revoke, methods=["POST"]),
    ]


def admin_routes() -> list[BaseRoute]:
    """Routes of the admin section."""
    return [
        Route("/sepa/collections", collections_page, methods=["GET"]),
        Route("/sepa/collections", build, methods=["POST"]),
        Route("/sepa/prenotify", send_notices, methods=["POST"]),
        Route("/sepa/collections/{collection_id:int}", collection_page, methods=["GET"]),
        Route("/sepa/collections/{collection_id:int}/xml", download, methods=["GET"]),
        Route("/sepa/collections/{collection_id:int}/sent", sent, methods=["POST"]),
        Route("/sepa/collections/{collection_id:int}/settled", settled, methods=["POST"]),
    ]
