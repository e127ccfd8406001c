"""Withdrawing from a contract in the client area: the statement page, then "confirm
withdrawal" (two steps, as Directive 2023/2673 asks); refused with the reason otherwise."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from facturo.billing.withdrawal import WithdrawalRefused, withdraw, withdrawal_status
from facturo.models import Customer, Document
from facturo.templating import date_filter, datetime_filter
from facturo.web.client_common import ctx_of, me, owned
from facturo.web.rendering import flash, gettext_for, render, request_language


def reason_text(request: Request, reason: str, params: dict[str, Any]) -> str:
    """A refusal reason in the request's language, dates formatted for people."""
    _ = gettext_for(request)
    ctx = ctx_of(request)
    lang = request_language(request)
    values = {key: _when(value, lang, ctx.settings.zone) for key, value in params.items()}
    text: str = _(reason)
    return text % values if values else text


def _when(value: Any, lang: str, zone: Any) -> Any:
    if isinstance(value, datetime):
        return datetime_filter(value, lang, zone)
    if isinstance(value, date):
        return date_filter(value, lang)
    return value


def withdraw_page(request: Request) -> Response:
    """The withdrawal statement: name, order, the email the acknowledgement goes to, and the
    "confirm withdrawal" button, or why withdrawal is not possible."""
    ctx = ctx_of(request)
    with ctx.db.read_session() as session:
        document = owned(session, Document, request.path_params["id"], me(request).id)
        status = withdrawal_status(session, ctx, document)
        customer = session.get(Customer, document.customer_id)
        refusal = "" if status.allowed else reason_text(request, status.reason, status.params)
        return render(
            request,
            "client/withdraw.html",
            {
                "document": document,
                "status": status,
                "refusal": refusal,
                "me": customer,
            },
        )


def withdraw_confirm(request: Request) -> Response:
    """Confirm the withdrawal: cancel or refund, credit note, services ended, email sent."""
    ctx = ctx_of(request)
    _ = gettext_for(request)
    customer = me(request)
    try:
        with ctx.db.transaction() as session:
            owned(session, Document, request.path_params["id"], customer.id)
            fresh = session.get(Customer, customer.id)
            assert fresh is not None
            withdraw(session, ctx, fresh, int(request.path_params["id"]))
    except WithdrawalRefused as refused:
        with ctx.db.read_session() as session:
            document = owned(session, Document, request.path_params["id"], customer.id)
            text = reason_text(request, refused.status.reason, refused.status.params)
            return render(
                request,
                "client/withdraw.html",
                {
                    "document": document,
                    "status": refused.status,
                    "refusal": text,
                    "me": customer,
                },
                409,
            )
    flash(
        request,
        _("You have withdrawn from this contract. We have emailed you the acknowledgement."),
        "ok",
    )
    return RedirectResponse(f"/client/documents/{request.path_params['id']}", status_code=303)


def routes() -> list[Route]:
    """Withdrawal routes of the client section."""
    return [
        Route("/documents/{id}/withdraw", withdraw_page, methods=["GET"]),
        Route("/documents/{id}/withdraw", withdraw_confirm, methods=["POST"]),
    ]
