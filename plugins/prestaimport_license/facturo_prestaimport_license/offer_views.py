"""The public renewal page a lease's payment link opens: the proforma and the enabled payment
methods, without login. The link is spent when the page is opened (one use, checked by the
server), refused once expired, used, forged or aimed at another proforma."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from facturo.plugin import (
    Context,
    Document,
    PaymentOption,
    error_page,
    open_page,
    render,
    request_language,
)

from .offers import LinkRefused, redeem
from .settings import config

REFUSALS = {
    "unknown": (404, "This payment link is not valid."),
    "other": (404, "This payment link is not valid."),
    "expired": (410, "This payment link has expired. Open PrestaImport GUI again for a new one."),
    "used": (410, "This payment link was already used. Open PrestaImport GUI again for a new one."),
}


def _options(ctx: Context, document: Document, language: str) -> list[PaymentOption]:
    groups = ctx.hook.invoice_payment_options(ctx=ctx, document=document, language=language)
    options = [option for group in groups for option in group]
    return sorted(options, key=lambda option: option.order)


@open_page
def renew_page(request: Request) -> Response:
    """Spend the link and show the renewal proforma with its payment options."""
    ctx: Context = request.app.state.ctx
    try:
        document_id = redeem(
            ctx, config(ctx), request.path_params["reference"], request.path_params["token"]
        )
    except LinkRefused as refused:
        status, message = REFUSALS[refused.reason]
        return error_page(request, status, message)
    language = request_language(request)
    with ctx.db.read_session() as session:
        document = session.get(Document, document_id)
        assert document is not None
        lines = list(document.lines)
        options = _options(ctx, document, language) if document.status == "unpaid" else []
        response = render(
            request,
            "prestaimport_license/renew.html",
            {"document": document, "lines": lines, "options": options},
        )
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def offer_routes() -> list[BaseRoute]:
    """Routes mounted under /public."""
    return [Route("/licences/renew/{reference}/{token}", renew_page)]
