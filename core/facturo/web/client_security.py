"""The customer's security page: where they are signed in (sign out one, or all others),
two-factor (authenticator app, recovery codes), passkeys, and changing their email address.

Every change of a factor needs the fully verified session the section guard already demands,
ends the customer's other sessions and is emailed to them.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from facturo import audit
from facturo.accounts import email_change, notices, passkeys, sessions, two_factor
from facturo.accounts.customers import AccountError
from facturo.accounts.passwords import verify_password
from facturo.accounts.tokens import TokenError, read_email_change_token
from facturo.models import Customer
from facturo.web import login_sessions
from facturo.web.client_common import client_ip, ctx_of, me, read_form, text_fields, wait_message
from facturo.web.passkey_views import views as passkey_views
from facturo.web.rendering import flash, gettext_for, render
from facturo.web.sections import open_page
from facturo.web.throttle import throttle

SETUP_SECRET = "customer_totp_setup"
HOME = "/client/security"


def _page(request: Request, status: int = 200, **extra: Any) -> Response:
    ctx = ctx_of(request)
    with ctx.db.read_session() as session:
        customer = session.get(Customer, me(request).id)
        assert customer is not None
        values: dict[str, Any] = {
            "sessions": sessions.active_sessions(session, ctx, customer),
            "current_id": login_sessions.current_session_id(request),
            "passkeys": passkeys.passkeys_of(session, customer),
            "totp_on": bool(customer.totp_secret),
            "recovery_left": len(customer.recovery_codes or []),
            "required": ctx.settings.security.customer_two_factor_required,
            "errors": {},
            "codes": [],
        }
    values.update(extra)
    return render(request, "client/security.html", values, status)


def security(request: Request) -> Response:
    """GET: the security page."""
    return _page(request)


def _password_ok(request: Request, password: str) -> Response | None | bool:
    """Check the current password under the brute-force limits: True when right, a 429 page
    when limited, False when wrong (counted)."""
    customer = me(request)
    guard = throttle(request.app.state, "customer-password")
    refusal = guard.check(str(customer.id), client_ip(request))
    if refusal:
        return _page(request, 429, errors={"form": wait_message(request, refusal.retry_after)})
    if verify_password(customer.password_hash, password):
        return True
    guard.failed(str(customer.id), client_ip(request))
    return False


def revoke_session(request: Request) -> Response:
    """Sign out one of one's sessions (another device)."""
    ctx = ctx_of(request)
    _ = gettext_for(request)
    target = int(request.path_params["id"])
    with ctx.db.transaction() as session:
        done = sessions.revoke_one(session, ctx, me(request), target, "user")
    if not done:
        return _page(request, 404, errors={"form": _("That session is not open.")})
    if target == login_sessions.current_session_id(request):
        login_sessions.end(request, "customer")
        return RedirectResponse("/client/login", status_code=303)
    flash(request, _("That session has been signed out."), "ok")
    return RedirectResponse(HOME, status_code=303)


def revoke_others(request: Request) -> Response:
    """Sign out every session but this one."""
    _ = gettext_for(request)
    count = login_sessions.end_others(request, me(request))
    flash(request, _("Other sessions signed out: %(n)s.") % {"n": count}, "ok")
    return RedirectResponse(HOME, status_code=303)


def _factor_changed(
    session: Any, request: Request, customer: Customer, event: str, factor: str
) -> None:
    ctx = ctx_of(request)
    notices.notify(session, ctx, customer, event, {"factor": factor})
    sessions.revoke_all(
        session, ctx, customer, "factor", keep=login_sessions.current_session_id(request)
    )


def totp_setup(request: Request) -> Response:
    """GET: a new authenticator key. POST: turn it on with a code from the app; the recovery
    codes are shown once."""
    ctx = ctx_of(request)
    _ = gettext_for(request)
    customer = me(request)
    if customer.totp_secret:
        return RedirectResponse(HOME, status_code=303)
    secret = request.session.get(SETUP_SECRET) or two_factor.new_totp_secret()
    request.session[SETUP_SECRET] = secret
    page: dict[str, Any] = {
        "secret": secret,
        "uri": two_factor.totp_uri(ctx, customer.email, secret),
        "error": "",
        "codes": [],
        "action": "/client/security/totp",
        "mandatory": False,
        "link": HOME,
    }
    if request.method == "GET":
        return render(request, "client/totp_setup.html", page)
    code = text_fields(read_form(request)).get("code", "")
    with ctx.db.transaction() as session:
        row = session.get(Customer, customer.id)
        assert row is not None
        try:
            codes = two_factor.enable_totp(row, secret, code)
        except ValueError:
            page["error"] = _("That code is not valid.")
            return render(request, "client/totp_setup.html", page, 400)
        audit.record(session, f"customer:{row.id}", "customer.2fa_enable", row)
        _factor_changed(session, request, row, "factor_added", "totp")
    request.session.pop(SETUP_SECRET, None)
    return render(request, "client/totp_setup.html", {**page, "codes": codes})


def totp_disable(request: Request) -> Response:
    """Turn the authenticator off (the current password is required; not when the shop
    requires two-factor and this is the only factor)."""
    ctx = ctx_of(request)
    _ = gettext_for(request)
    checked = _password_ok(request, text_fields(read_form(request)).get("password", ""))
    if isinstance(checked, Response):
        return checked
    if not checked:
        return _page(request, 400, errors={"password": _("The current password is wrong.")})
    with ctx.db.transaction() as session:
        row = session.get(Customer, me(request).id)
        assert row is not None
        others = two_factor.passkey_count(session, row)
        if ctx.settings.security.customer_two_factor_required and not others:
            return _page(
                request, 400, errors={"form": _("Two-factor is required; add a passkey first.")}
            )
        two_factor.disable_totp(row)
        audit.record(session, f"customer:{row.id}", "customer.2fa_disable", row)
        _factor_changed(session, request, row, "factor_removed", "totp")
    flash(request, _("Two-factor with an authenticator app is off."), "ok")
    return RedirectResponse(HOME, status_code=303)


def recovery_codes(request: Request) -> Response:
    """Make new recovery codes (the old ones stop working), shown once."""
    ctx = ctx_of(request)
    with ctx.db.transaction() as session:
        row = session.get(Customer, me(request).id)
        assert row is not None
        if not row.totp_secret:
            return RedirectResponse(HOME, status_code=303)
        codes = two_factor.regenerate_recovery_codes(row)
        audit.record(session, f"customer:{row.id}", "customer.recovery_codes", row)
        notices.notify(session, ctx, row, "recovery_codes_renewed")
    return _page(request, codes=codes)


def passkey_remove(request: Request) -> Response:
    """Remove one of one's passkeys."""
    ctx = ctx_of(request)
    _ = gettext_for(request)
    with ctx.db.transaction() as session:
        row = session.get(Customer, me(request).id)
        assert row is not None
        key = passkeys.remove(session, row, int(request.path_params["id"]))
        if key is None:
            return _page(request, 404, errors={"form": _("That passkey is not yours.")})
        session.flush()
        if ctx.settings.security.customer_two_factor_required and not two_factor.has_second_factor(
            session, row
        ):
            session.rollback()
            return _page(
                request, 400, errors={"form": _("Two-factor is required; keep one factor.")}
            )
        audit.record(session, f"customer:{row.id}", "customer.passkey_remove", ("Passkey", key.id))
        _factor_changed(session, request, row, "factor_removed", "passkey")
    flash(request, _("Passkey removed."), "ok")
    return RedirectResponse(HOME, status_code=303)


def change_email(request: Request) -> Response:
    """Ask to move the account to a new address (the current password is required); a link is
    sent to the new address, and nothing changes until it is opened."""
    ctx = ctx_of(request)
    _ = gettext_for(request)
    raw = text_fields(read_form(request))
    checked = _password_ok(request, raw.get("password", ""))
    if isinstance(checked, Response):
        return checked
    if not checked:
        return _page(request, 400, errors={"email_password": _("The current password is wrong.")})
    try:
        with ctx.db.transaction() as session:
            row = session.get(Customer, me(request).id)
            assert row is not None
            new_email = email_change.request_change(session, ctx, row, raw.get("new_email", ""))
    except AccountError as exc:
        return _page(
            request, 400, errors={"new_email": _(str(exc))}, new_email=raw.get("new_email", "")
        )
    flash(
        request,
        _("We have sent a link to %(email)s. Your address changes when you open it.")
        % {"email": new_email},
        "ok",
    )
    return RedirectResponse(HOME, status_code=303)


@open_page
def confirm_email(request: Request) -> Response:
    """Open the link sent to the new address: the account moves to it."""
    ctx = ctx_of(request)
    _ = gettext_for(request)
    title = _("Email address not changed")
    try:
        with ctx.db.transaction() as session:
            customer, new_email = read_email_change_token(
                session, ctx, request.path_params["token"]
            )
            email_change.confirm_change(session, ctx, customer, new_email)
    except TokenError as error:
        message = {
            "expired": _("This link has expired."),
            "used": _("This link has already been used."),
        }.get(error.reason, _("This link is not valid."))
        return render(request, "client/message.html", {"title": title, "message": message}, 400)
    except AccountError as exc:
        return render(request, "client/message.html", {"title": title, "message": _(str(exc))}, 400)
    return render(
        request,
        "client/message.html",
        {
            "title": _("Email address changed"),
            "message": _("Your account now uses %(email)s.") % {"email": new_email},
            "link": ("/client/", _("Go to your client area")),
        },
    )


def routes() -> list[Route]:
    """The customer's security routes."""
    return [
        Route("/security", security, methods=["GET"]),
        Route("/security/sessions/{id:int}/revoke", revoke_session, methods=["POST"]),
        Route("/security/sessions/revoke-others", revoke_others, methods=["POST"]),
        Route("/security/totp", totp_setup, methods=["GET", "POST"]),
        Route("/security/totp/disable", totp_disable, methods=["POST"]),
        Route("/security/recovery-codes", recovery_codes, methods=["POST"]),
        Route("/security/passkeys/{id:int}/remove", passkey_remove, methods=["POST"]),
        Route("/security/email", change_email, methods=["POST"]),
        Route("/account/email/{token}", confirm_email, methods=["GET"]),
        *passkey_views("client"),
    ]
