"""The catalog in the staff area: products, prices per cycle, add-ons, provisioner, tax
category; a product in use cannot be deleted, only retired."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from facturo.billing import catalog
from facturo.billing.money import parse_money_field
from facturo.errors import FacturoError
from facturo.models import Product
from facturo.models.catalog import CYCLES
from facturo.plugins import implementers
from facturo.web.admin_common import actor, ctx_of, form_data, get_or_404
from facturo.web.admin_confirmations import delete_product_confirmation
from facturo.web.confirm import is_confirmed
from facturo.web.rendering import flash, gettext_for, render
from facturo.web.sections import roles_required


def _products(session: Any) -> list[Product]:
    return list(
        session.scalars(
            select(Product)
            .options(selectinload(Product.prices))
            .order_by(Product.parent_id.is_not(None), Product.position, Product.id)
        )
    )


def _provisioners(request: Request) -> list[str]:
    """Only plugins that implement ``provision_product`` can be a product's provisioner."""
    return implementers(ctx_of(request).plugins, "provision_product")


def _page(
    request: Request,
    product: Product | None,
    values: dict[str, Any],
    errors: dict[str, str],
    status: int = 200,
) -> Response:
    with ctx_of(request).db.read_session() as session:
        parents = [p for p in _products(session) if p.parent_id is None]
    return render(
        request,
        "admin/product_form.html",
        {
            "product": product,
            "values": values,
            "errors": errors,
            "cycles": list(CYCLES),
            "parents": parents,
            "provisioners": _provisioners(request),
        },
        status,
    )


@roles_required("billing")
def product_list(request: Request) -> Response:
    """Every product and add-on with its prices."""
    with ctx_of(request).db.read_session() as session:
        products = _products(session)
    return render(request, "admin/products.html", {"products": products})


def _values(form: dict[str, str]) -> tuple[dict[str, Any], list[catalog.PriceSpec]]:
    parent = form.get("parent_id", "").strip()
    values: dict[str, Any] = {
        key: form.get(key, "").strip()
        for key in (
            "code",
            "name_es",
            "name_en",
            "description_es",
            "description_en",
            "provisioner_options",
            "tax_category",
        )
    }
    values["tax_category"] = values["tax_category"] or "digital_service"
    values["provisioner"] = form.get("provisioner", "").strip() or None
    values["parent_id"] = int(parent) if parent.isdigit() else None
    prices = []
    for cycle in CYCLES:
        raw = form.get(f"price_{cycle}", "").strip()
        if raw:
            prices.append(catalog.PriceSpec(cycle, parse_money_field(raw, f"price_{cycle}")))
    return values, prices


@roles_required("billing")
def product_new(request: Request) -> Response:
    """GET: an empty product form. POST: create the product."""
    if request.method == "GET":
        return _page(request, None, {}, {})
    return _save(request, None)


@roles_required("billing")
def product_edit(request: Request) -> Response:
    """GET: the product's form. POST: save it."""
    ctx = ctx_of(request)
    with ctx.db.read_session() as session:
        product = get_or_404(session, Product, request.path_params["id"])
        values = {key: getattr(product, key) for key in catalog.PRODUCT_FIELDS}
        for price in product.prices:
            values[f"price_{price.cycle}"] = price.amount
    if request.method == "GET":
        return _page(request, product, values, {})
    return _save(request, product.id)


def _save(request: Request, product_id: int | None) -> Response:
    _ = gettext_for(request)
    ctx = ctx_of(request)
    form = form_data(request)
    try:
        values, prices = _values(form)
        if values["provisioner"] and values["provisioner"] not in _provisioners(request):
            raise FacturoError(
                "no enabled plugin provisions products by that name", field="provisioner"
            )
        with ctx.db.transaction() as session:
            product = get_or_404(session, Product, product_id) if product_id else None
            saved = catalog.save_product(session, product, values, prices, actor(request))
            saved_id = saved.id
    except FacturoError as exc:
        return _page(request, None, dict(form), {exc.field or "code": _(str(exc))}, 400)
    flash(request, _("Saved."), "ok")
    return RedirectResponse(f"/admin/products/{saved_id}", status_code=303)


@roles_required("billing")
def product_retire(request: Request) -> Response:
    """Retire a product (or bring it back)."""
    _ = gettext_for(request)
    ctx = ctx_of(request)
    retired = form_data(request).get("retired", "1") == "1"
    with ctx.db.transaction() as session:
        product = get_or_404(session, Product, request.path_params["id"])
        catalog.set_retired(session, product, retired, actor(request))
    flash(request, _("Product retired.") if retired else _("Product available again."), "ok")
    return RedirectResponse("/admin/products", status_code=303)


@roles_required("billing")
def product_delete(request: Request) -> Response:
    """Delete an unused product, after a confirmation step (GET, or a POST without
    ``confirm=yes``, shows it and changes nothing); one in use is refused with a message."""
    _ = gettext_for(request)
    ctx = ctx_of(request)
    form = form_data(request) if request.method == "POST" else {}
    if not is_confirmed(request, form):
        return delete_product_confirmation(request, int(request.path_params["id"]))
    try:
        with ctx.db.transaction() as session:
            product = get_or_404(session, Product, request.path_params["id"])
            catalog.delete_product(session, product, actor(request))
    except FacturoError as exc:
        flash(request, _(str(exc)), "error")
        return RedirectResponse("/admin/products", status_code=303)
    flash(request, _("Product deleted."), "ok")
    return RedirectResponse("/admin/products", status_code=303)


def routes() -> list[Route]:
    return [
        Route("/products", product_list),
        Route("/products/new", product_new, methods=["GET", "POST"]),
        Route("/products/{id:int}", product_edit, methods=["GET", "POST"]),
        Route("/products/{id:int}/retire", product_retire, methods=["POST"]),
        Route("/products/{id:int}/delete", product_delete, methods=["GET", "POST"]),
    ]
