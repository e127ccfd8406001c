"""The customer's second step at login: a code (TOTP or recovery) or a passkey; or, when the
shop requires two-factor and the customer has none yet, enrolling one right there."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from facturo import audit
from facturo.accounts import notices, two_factor
from facturo.models import Customer
from facturo.web import login_sessions
from facturo.web.client_common import client_ip, ctx_of, read_form, text_fields, wait_message
from facturo.web.rendering import gettext_for, render
from facturo.web.sections import open_page
from facturo.web.security import local_next
from facturo.web.signin import signed_in
from facturo.web.throttle import throttle

SETUP_SECRET = "customer_totp_setup"


def pending(request: Request) -> login_sessions.Login | None:
    """The customer session that passed the password and still owes its second factor."""
    return login_sessions.current(request, "customer", pending=True)


@open_page
def second_factor(request: Request) -> Response:
    """GET: ask for the code (or a passkey). POST: check the code; a customer who must have
    two-factor and has none enrols here instead (and only then)."""
    ctx = ctx_of(request)
    _ = gettext_for(request)
    next_url = local_next(request.query_params.get("next"), "client")
    login = pending(request)
    if login is None:
        return RedirectResponse("/client/login", status_code=303)
    with ctx.db.read_session() as session:
        customer = session.get(Customer, login.owner.id)
        assert customer is not None
        has_factor = two_factor.has_second_factor(session, customer)
        has_passkey = two_factor.passkey_count(session, customer) > 0
    if not has_factor:
        return enrol(request, login, next_url)
    page: dict[str, Any] = {"next": next_url, "error": "", "has_passkey": has_passkey}
    if request.method == "GET":
        return render(request, "client/login_2fa.html", page)
    code = text_fields(read_form(request)).get("code", "")
    guard = throttle(request.app.state, "customer-2fa")
    refusal = guard.check(str(customer.id), client_ip(request))
    if refusal:
        return render(
            request,
            "client/login_2fa.html",
            {**page, "error": wait_message(request, refusal.retry_after)},
            429,
        )
    with ctx.db.transaction() as session:
        row = session.get(type(login.row), login.row.id)
        fresh = session.get(Customer, customer.id)
        assert row is not None and fresh is not None
        used = two_factor.check_code(fresh, code)
        if used is None:
            audit.record(
                session, f"customer:{fresh.id}", "customer.2fa_failed", fresh, ip=client_ip(request)
            )
        else:
            login_sessions.upgrade(request, session, ctx, row)
            signed_in(request, session, ctx, fresh, row, used)
    if used is None:
        guard.failed(str(customer.id), client_ip(request))
        return render(
            request, "client/login_2fa.html", {**page, "error": _("That code is not valid.")}, 400
        )
    return RedirectResponse(next_url, status_code=303)


def enrol(request: Request, login: login_sessions.Login, next_url: str) -> Response:
    """Mandatory enrolment for a customer with no second factor (checked by the caller)."""
    ctx = ctx_of(request)
    _ = gettext_for(request)
    secret = request.session.get(SETUP_SECRET) or two_factor.new_totp_secret()
    request.session[SETUP_SECRET] = secret
    page: dict[str, Any] = {
        "secret": secret,
        "uri": two_factor.totp_uri(ctx, login.owner.email, secret),
        "error": "",
        "codes": [],
        "next": next_url,
        "action": f"/client/login/2fa?next={next_url}",
        "mandatory": True,
    }
    if request.method == "GET":
        return render(request, "client/totp_setup.html", page)
    code = text_fields(read_form(request)).get("code", "")
    with ctx.db.transaction() as session:
        row = session.get(type(login.row), login.row.id)
        customer = session.get(Customer, login.owner.id)
        assert row is not None and customer is not None
        if two_factor.has_second_factor(session, customer):  # enrolled meanwhile: not here
            return RedirectResponse("/client/login", status_code=303)
        try:
            codes = two_factor.enable_totp(customer, secret, code)
        except ValueError:
            page["error"] = _("That code is not valid.")
            return render(request, "client/totp_setup.html", page, 400)
        audit.record(session, f"customer:{customer.id}", "customer.2fa_enable", customer)
        notices.notify(session, ctx, customer, "factor_added", {"factor": "totp"})
        login_sessions.upgrade(request, session, ctx, row)
        signed_in(request, session, ctx, customer, row, "totp")
    request.session.pop(SETUP_SECRET, None)
    return render(request, "client/totp_setup.html", {**page, "codes": codes, "link": next_url})


def routes() -> list[Route]:
    """The second step of the customer login."""
    return [Route("/login/2fa", second_factor, methods=["GET", "POST"])]
