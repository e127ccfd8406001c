"""The way back for staff signed in as a customer."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from facturo.accounts.impersonation import stop_impersonating
from facturo.models import AuthSession
from facturo.web import login_sessions
from facturo.web.client_common import ctx_of


def end_impersonation(request: Request) -> Response:
    """End the customer session staff opened and go back to that customer's staff page; for
    anyone else, nothing happens."""
    login = getattr(request.state, "login", None)
    if not isinstance(login, login_sessions.Login) or login.row.impersonator_id is None:
        return RedirectResponse("/client/", status_code=303)
    ctx = ctx_of(request)
    with ctx.db.transaction() as session:
        row = session.get(AuthSession, login.row.id)
        assert row is not None
        stop_impersonating(session, ctx, row)
        customer_id = row.customer_id
    request.session.pop(login_sessions.COOKIE_KEYS["customer"], None)
    return RedirectResponse(f"/admin/customers/{customer_id}", status_code=303)


def routes() -> list[BaseRoute]:
    """``POST /client/impersonation/end``."""
    return [Route("/impersonation/end", end_impersonation, methods=["POST"])]
