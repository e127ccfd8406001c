"""The customer's payment history."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from facturo.billing.payments import payment_history
from facturo.web.client_common import ctx_of, me
from facturo.web.rendering import render


def payments(request: Request) -> Response:
    """Every payment with date, method, reference, amount and document."""
    ctx = ctx_of(request)
    with ctx.db.read_session() as session:
        rows = payment_history(session, me(request).id)
        return render(request, "client/payments.html", {"payments": rows})


def routes() -> list[Route]:
    """Payment history route of the client section."""
    return [Route("/payments", payments, methods=["GET"])]
