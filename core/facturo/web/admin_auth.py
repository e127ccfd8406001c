"""Staff login (password, then TOTP, a recovery code or a passkey; or a passkey alone),
two-factor setup, logout.

Enrolling or changing a second factor needs a fully verified session; the one exception is a
staff user who must have two-factor and has no factor at all yet, who enrols right after the
password (a session that passed only the password can never replace an existing factor).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from facturo import audit
from facturo.accounts import notices, sessions, two_factor
from facturo.accounts import staff as staff_ops
from facturo.accounts.passwords import verify_password
from facturo.errors import FacturoError
from facturo.models import AuthSession, StaffUser
from facturo.web import login_sessions
from facturo.web.admin_common import actor, client_ip, ctx_of, form_data
from facturo.web.client_common import wait_message
from facturo.web.rendering import flash, gettext_for, render
from facturo.web.sections import open_page
from facturo.web.security import local_next
from facturo.web.signin import signed_in
from facturo.web.throttle import throttle

SETUP_SECRET = "staff_totp_secret"


@open_page
def login(request: Request) -> Response:
    """GET: the login form. POST: check the password (limited per account, per address and
    per both), then go on to two-factor (or its mandatory setup) when due."""
    ctx = ctx_of(request)
    _ = gettext_for(request)
    next_url = local_next(request.query_params.get("next"), "admin")
    if request.method == "GET":
        return render(request, "admin/login.html", {"next": next_url, "error": ""})
    form = form_data(request)
    email = form.get("email", "").strip().lower()[:254]
    ip = client_ip(request)
    guard = throttle(request.app.state, "staff-login")
    refusal = guard.check(email, ip)
    if refusal:
        message = wait_message(request, refusal.retry_after)
        return render(request, "admin/login.html", {"next": next_url, "error": message}, 429)
    with ctx.db.transaction() as session:
        staff = staff_ops.find_staff(session, email) if email else None
        ok = verify_password(staff.password_hash if staff else "", form.get("password", ""))
        if staff is None or staff.disabled or not ok:
            audit.record(
                session,
                "anonymous",
                "staff.login_failed",
                ("StaffUser", ""),
                after={"email": email[:100]},
                ip=ip,
            )
            if guard.failed(email, ip) and staff is not None:
                notices.notify(session, ctx, staff, "login_locked", {"ip": ip})
            return render(
                request,
                "admin/login.html",
                {"next": next_url, "error": _("Wrong email or password.")},
                400,
            )
        has_factor = two_factor.has_second_factor(session, staff)
        must_setup = not has_factor and staff_ops.two_factor_required(ctx, staff)
        verified = not (has_factor or must_setup)
        row = login_sessions.begin(request, session, ctx, staff, verified=verified)
        if verified:
            signed_in(request, session, ctx, staff, row, "password")
    if has_factor:
        return RedirectResponse(f"/admin/login/2fa?next={quote(next_url)}", status_code=303)
    if must_setup:
        return RedirectResponse("/admin/2fa/setup", status_code=303)
    return RedirectResponse(next_url, status_code=303)


def _pending(request: Request) -> login_sessions.Login | None:
    return login_sessions.current(request, "staff", pending=True)


@open_page
def second_factor(request: Request) -> Response:
    """GET: ask for the authenticator code (or a passkey). POST: check it (or a recovery
    code), limited per user and address."""
    ctx = ctx_of(request)
    _ = gettext_for(request)
    next_url = local_next(request.query_params.get("next"), "admin")
    login_ = _pending(request)
    if login_ is None:
        return RedirectResponse("/admin/login", status_code=303)
    with ctx.db.read_session() as session:
        has_passkey = two_factor.passkey_count(session, login_.owner) > 0
    if not login_.owner.totp_secret and not has_passkey:
        return RedirectResponse("/admin/login", status_code=303)
    page: dict[str, Any] = {"next": next_url, "error": "", "has_passkey": has_passkey}
    if request.method == "GET":
        return render(request, "admin/login_2fa.html", page)
    code = form_data(request).get("code", "")
    guard = throttle(request.app.state, "staff-2fa")
    refusal = guard.check(str(login_.owner.id), client_ip(request))
    if refusal:
        page["error"] = wait_message(request, refusal.retry_after)
        return render(request, "admin/login_2fa.html", page, 429)
    with ctx.db.transaction() as session:
        staff = session.get(StaffUser, login_.owner.id)
        row = session.get(AuthSession, login_.row.id)
        assert staff is not None and row is not None
        ok = staff_ops.check_second_factor(session, staff, code)
        if ok:
            login_sessions.upgrade(request, session, ctx, row)
            signed_in(request, session, ctx, staff, row, "totp")
        else:
            audit.record(
                session, f"staff:{staff.id}", "staff.2fa_failed", staff, ip=client_ip(request)
            )
    if not ok:
        guard.failed(str(login_.owner.id), client_ip(request))
        page["error"] = _("That code is not valid.")
        return render(request, "admin/login_2fa.html", page, 400)
    return RedirectResponse(next_url, status_code=303)


def _who_may_enrol(request: Request) -> tuple[StaffUser, login_sessions.Login | None] | None:
    """Who may set up TOTP now: a fully verified user (``None`` pending login), or a pending
    one who must have two-factor and has no factor at all. None for anyone else."""
    ctx = ctx_of(request)
    staff = getattr(request.state, "staff", None)
    if staff is not None:
        return staff, None
    login_ = _pending(request)
    if login_ is None:
        return None
    with ctx.db.read_session() as session:
        person = session.get(StaffUser, login_.owner.id)
        assert person is not None
        if two_factor.has_second_factor(session, person) or not staff_ops.two_factor_required(
            ctx, person
        ):
            return None
    return person, login_


@open_page
def setup_two_factor(request: Request) -> Response:
    """Set up TOTP: from a fully verified session, or as the mandatory first enrolment."""
    _ = gettext_for(request)
    ctx = ctx_of(request)
    who = _who_may_enrol(request)
    if who is None:
        return RedirectResponse("/admin/login", status_code=303)
    current, pending_login = who
    if current.totp_secret:
        flash(request, _("Turn off two-factor first to set up a new authenticator."), "error")
        return RedirectResponse("/admin/account", status_code=303)
    secret = request.session.get(SETUP_SECRET) or two_factor.new_totp_secret()
    request.session[SETUP_SECRET] = secret
    context: dict[str, Any] = {
        "secret": secret,
        "uri": two_factor.totp_uri(ctx, current.email, secret),
        "error": "",
        "codes": [],
    }
    if request.method == "GET":
        return render(request, "admin/2fa_setup.html", context)
    code = form_data(request).get("code", "")
    with ctx.db.transaction() as session:
        staff = session.get(StaffUser, current.id)
        assert staff is not None
        try:
            codes = staff_ops.enable_two_factor(session, staff, secret, code, f"staff:{staff.id}")
        except FacturoError:
            context["error"] = _("That code is not valid.")
            return render(request, "admin/2fa_setup.html", context, 400)
        notices.notify(session, ctx, staff, "factor_added", {"factor": "totp"})
        if pending_login is not None:
            row = session.get(AuthSession, pending_login.row.id)
            assert row is not None
            login_sessions.upgrade(request, session, ctx, row)
            signed_in(request, session, ctx, staff, row, "totp")
        else:
            sessions.revoke_all(
                session, ctx, staff, "factor", keep=login_sessions.current_session_id(request)
            )
    request.session.pop(SETUP_SECRET, None)
    request.state.staff = staff
    context["codes"] = codes
    return render(request, "admin/2fa_setup.html", context)


def disable_two_factor(request: Request) -> Response:
    """Turn off one's own two-factor (not allowed when it is mandatory for one's role and no
    passkey remains); other sessions end and the user is told by email."""
    _ = gettext_for(request)
    ctx = ctx_of(request)
    with ctx.db.transaction() as session:
        staff = session.get(StaffUser, request.state.staff.id)
        assert staff is not None
        keeps_factor = two_factor.passkey_count(session, staff) > 0
        if staff_ops.two_factor_required(ctx, staff) and not keeps_factor:
            flash(request, _("Two-factor is mandatory for your role."), "error")
        else:
            staff_ops.disable_two_factor(session, staff, actor(request))
            notices.notify(session, ctx, staff, "factor_removed", {"factor": "totp"})
            sessions.revoke_all(
                session, ctx, staff, "factor", keep=login_sessions.current_session_id(request)
            )
            flash(request, _("Two-factor turned off."), "ok")
    return RedirectResponse("/admin/account", status_code=303)


@open_page
def logout(request: Request) -> Response:
    """End the staff session: its row is revoked, so a copy of the cookie is worth nothing."""
    login_sessions.end(request, "staff")
    return RedirectResponse("/admin/login", status_code=303)


def routes() -> list[Route]:
    return [
        Route("/login", login, methods=["GET", "POST"]),
        Route("/login/2fa", second_factor, methods=["GET", "POST"]),
        Route("/2fa/setup", setup_two_factor, methods=["GET", "POST"]),
        Route("/2fa/disable", disable_two_factor, methods=["POST"]),
        Route("/logout", logout, methods=["POST"]),
    ]
