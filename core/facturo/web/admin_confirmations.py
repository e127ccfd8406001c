"""Confirmation pages of the staff area's destructive actions: refunds, proforma
cancellation, disabling a customer's login. Each states the consequence; see web/confirm.py."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import selectinload
from starlette.requests import Request
from starlette.responses import Response

from facturo.billing.errors import BillingError
from facturo.billing.money import format_money, parse_money_field
from facturo.billing.refunds import plan_refund
from facturo.contributions import PaymentMethod
from facturo.models import Customer, Document, DocumentLine, Product, Service
from facturo.web.admin_common import ctx_of, get_or_404
from facturo.web.confirm import Confirmation, confirm_page
from facturo.web.rendering import gettext_for, request_language


def refund_confirmation(request: Request, document_id: int, params: dict[str, str]) -> Response:
    """The refund's confirmation page: the exact amount (an empty amount is shown as the
    whole remaining amount and sent on explicitly), where the money goes, what stops.
    Raises BillingError / FacturoError for an amount the refund would refuse."""
    _ = gettext_for(request)
    ctx = ctx_of(request)
    lang = request_language(request)
    manual = params.get("manual") == "1"
    deprovision = params.get("deprovision") == "1"
    raw = params.get("amount", "").strip()
    with ctx.db.read_session() as session:
        document = get_or_404(session, Document, document_id)
        amount = parse_money_field(raw, "amount") if raw else None
        plan = plan_refund(session, document, amount, through_gateway=not manual)
        billed = session.scalars(
            select(Service)
            .join(DocumentLine, DocumentLine.service_id == Service.id)
            .where(DocumentLine.document_id == document.id)
            .options(selectinload(Service.product))
        )
        names = ", ".join(
            s.product.name(lang) + (f" ({s.label})" if s.label else "") for s in billed
        )
        number = document.number or str(document.id)
    money = format_money(plan.amount, plan.currency, lang)
    consequences = [
        _(
            "%(amount)s of invoice %(number)s is refunded and a credit note for it is issued. "
            "This cannot be undone."
        )
        % {"amount": money, "number": number}
    ]
    if plan.whole:
        consequences.append(
            _("That is everything left on the invoice (%(remaining)s).")
            % {"remaining": format_money(plan.remaining, plan.currency, lang)}
        )
    method = _refunding_method(request, plan.gateway)
    if method is not None:
        consequences.append(
            _("The money goes back to the customer through %(gateway)s.")
            % {"gateway": method.label.get(lang) or method.gateway}
        )
    elif plan.gateway:
        consequences.append(
            _(
                "%(gateway)s is asked to send the money back; if it cannot, the refund is "
                "recorded as a manual refund and you send the money to the customer yourself."
            )
            % {"gateway": plan.gateway}
        )
    else:
        consequences.append(
            _("It is recorded as a manual refund: you send the money to the customer yourself.")
        )
    if names:
        consequences.append(
            _("These services are terminated and stop working: %(services)s.") % {"services": names}
            if deprovision
            else _("The services billed keep working: %(services)s.") % {"services": names}
        )
    fields = {
        "amount": str(plan.amount),
        "reason": params.get("reason", "")[:500],
        "manual": "1" if manual else "",
        "deprovision": "1" if deprovision else "",
    }
    return confirm_page(
        request,
        "admin",
        Confirmation(
            title=_("Refund %(amount)s of %(number)s?") % {"amount": money, "number": number},
            consequences=consequences,
            action=f"/admin/documents/{document_id}/refund",
            button=_("Yes, refund %(amount)s") % {"amount": money},
            back=f"/admin/documents/{document_id}",
            fields=fields,
        ),
    )


def _refunding_method(request: Request, gateway: str | None) -> PaymentMethod | None:
    """The payment method of ``gateway`` when its plugin says it refunds (else None)."""
    if gateway is None:
        return None
    ctx = ctx_of(request)
    for methods in ctx.hook.payment_methods(ctx=ctx):
        for method in methods or []:
            if isinstance(method, PaymentMethod) and method.gateway == gateway:
                return method if method.supports_refunds else None
    return None


def cancel_confirmation(request: Request, document_id: int, reason: str) -> Response:
    """The confirmation page of cancelling a proforma: its reference and total, for good.
    Raises BillingError when the document is not an unpaid proforma."""
    _ = gettext_for(request)
    ctx = ctx_of(request)
    lang = request_language(request)
    with ctx.db.read_session() as session:
        document = get_or_404(session, Document, document_id)
        if document.kind != "proforma" or document.status != "unpaid":
            raise BillingError(_("Only an unpaid proforma can be cancelled."))
        total = format_money(document.total, document.currency, lang)
        credit = format_money(document.credit_applied, document.currency, lang)
        has_credit = document.credit_applied > 0
        reference = document.reference or str(document.id)
    consequences = [
        _(
            "Proforma %(reference)s (%(total)s) is cancelled for good: it can no longer be paid "
            "and cannot be reopened."
        )
        % {"reference": reference, "total": total},
        _("A payment that still arrives for it is held for review instead of being applied."),
    ]
    if has_credit:
        consequences.append(
            _("The credit applied to it (%(credit)s) goes back to the customer's balance.")
            % {"credit": credit}
        )
    return confirm_page(
        request,
        "admin",
        Confirmation(
            title=_("Cancel proforma %(reference)s?") % {"reference": reference},
            consequences=consequences,
            action=f"/admin/documents/{document_id}/cancel",
            button=_("Yes, cancel the proforma"),
            back=f"/admin/documents/{document_id}",
            fields={"reason": reason},
        ),
    )


def disable_confirmation(request: Request, customer_id: int) -> Response:
    """The confirmation page of disabling a customer's login: who, and what stops."""
    _ = gettext_for(request)
    ctx = ctx_of(request)
    with ctx.db.read_session() as session:
        customer = get_or_404(session, Customer, customer_id)
        who = f"{customer.name} <{customer.email}>"
    consequences = [
        _("%(customer)s can no longer log in, and every session they have open ends now.")
        % {"customer": who},
        _(
            "They cannot use the client area (orders, payments, invoices, tickets, licence "
            "keys) until their login is enabled again."
        ),
        _("Their services and licences keep working; their invoices are not changed."),
    ]
    return confirm_page(
        request,
        "admin",
        Confirmation(
            title=_("Disable the login of %(customer)s?") % {"customer": who},
            consequences=consequences,
            action=f"/admin/customers/{customer_id}/login",
            button=_("Yes, disable the login"),
            back=f"/admin/customers/{customer_id}",
            fields={"disabled": "1"},
        ),
    )


def delete_product_confirmation(request: Request, product_id: int) -> Response:
    """The confirmation page of deleting a catalog product: for good, with its prices."""
    _ = gettext_for(request)
    ctx = ctx_of(request)
    with ctx.db.read_session() as session:
        product = get_or_404(session, Product, product_id)
        values = {"code": product.code, "name": product.name(request_language(request))}
    consequences = [
        _("Product %(code)s (%(name)s) is deleted with its prices; this cannot be undone.")
        % values,
        _("A product that was ever ordered is not deleted: retire it instead."),
    ]
    return confirm_page(
        request,
        "admin",
        Confirmation(
            title=_("Delete product %(code)s?") % values,
            consequences=consequences,
            action=f"/admin/products/{product_id}/delete",
            button=_("Yes, delete the product"),
            back="/admin/products",
        ),
    )
