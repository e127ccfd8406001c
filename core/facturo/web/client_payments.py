"""The customer's payment history."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from facturo.billing.movements import customer_history
from facturo.web.client_common import ctx_of, me
from facturo.web.rendering import render


def payments(request: Request) -> Response:
    """Every payment and every refund (a line of its own, negative) with date, method,
    reference, amount and document (a refund's credit note and the invoice it corrects)."""
    ctx = ctx_of(request)
    with ctx.db.read_session() as session:
        rows = customer_history(session, me(request).id)
        return render(request, "client/payments.html", {"payments": rows})


def routes() -> list[Route]:
    """Payment history route of the client section."""
    return [Route("/payments", payments, methods=["GET"])]
