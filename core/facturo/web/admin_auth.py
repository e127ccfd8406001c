"""Staff login (password, then TOTP or a recovery code), two-factor setup, logout."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from facturo import audit
from facturo.accounts import staff as staff_ops
from facturo.errors import FacturoError
from facturo.models import StaffUser
from facturo.web.admin_common import actor, client_ip, ctx_of, form_data
from facturo.web.rendering import flash, gettext_for, render
from facturo.web.sections import open_page
from facturo.web.security import local_next, rotate_session

PENDING = "staff_pending_id"
SETUP_SECRET = "staff_totp_secret"


def _start_session(request: Request, staff: StaffUser, verified: bool) -> None:
    """Rotate the session (drop everything, new CSRF token) and bind it to ``staff``."""
    rotate_session(
        request.session, staff_id=staff.id, staff_epoch=staff.session_epoch, staff_verified=verified
    )


@open_page
def login(request: Request) -> Response:
    """GET: the login form. POST: check the password, then go on to two-factor if needed."""
    ctx = ctx_of(request)
    _ = gettext_for(request)
    next_url = local_next(request.query_params.get("next"), "admin")
    if request.method == "GET":
        return render(request, "admin/login.html", {"next": next_url, "error": ""})
    form = form_data(request)
    email = form.get("email", "")
    verdict = request.app.state.limiter.hit("10/minute", "staff-login", client_ip(request))
    if not verdict.allowed:
        return render(
            request,
            "admin/login.html",
            {"next": next_url, "error": _("Too many attempts. Try again later.")},
            429,
        )
    with ctx.db.transaction() as session:
        staff = staff_ops.authenticate(session, email, form.get("password", ""))
        if staff is None:
            audit.record(
                session,
                "anonymous",
                "staff.login_failed",
                ("StaffUser", ""),
                after={"email": email[:100]},
                ip=client_ip(request),
            )
            return render(
                request,
                "admin/login.html",
                {"next": next_url, "error": _("Wrong email or password.")},
                400,
            )
        needs_totp = bool(staff.totp_secret)
        must_setup = not needs_totp and staff_ops.two_factor_required(ctx, staff)
        if not needs_totp and not must_setup:
            audit.record(session, f"staff:{staff.id}", "staff.login", staff, ip=client_ip(request))
        _start_session(request, staff, verified=not (needs_totp or must_setup))
    if needs_totp:
        request.session[PENDING] = True
        return RedirectResponse(f"/admin/login/2fa?next={next_url}", status_code=303)
    if must_setup:
        request.session[PENDING] = True
        return RedirectResponse("/admin/2fa/setup", status_code=303)
    return RedirectResponse(next_url, status_code=303)


def _pending_staff(request: Request) -> StaffUser | None:
    staff_id = request.session.get("staff_id")
    if not staff_id or not request.session.get(PENDING):
        return None
    with ctx_of(request).db.read_session() as session:
        staff = session.get(StaffUser, staff_id)
    if staff is None or staff.disabled or staff.session_epoch != request.session.get("staff_epoch"):
        return None
    return staff


@open_page
def second_factor(request: Request) -> Response:
    """GET: ask for the authenticator code. POST: check it (or a recovery code)."""
    _ = gettext_for(request)
    next_url = local_next(request.query_params.get("next"), "admin")
    pending = _pending_staff(request)
    if pending is None or not pending.totp_secret:
        return RedirectResponse("/admin/login", status_code=303)
    if request.method == "GET":
        return render(request, "admin/login_2fa.html", {"next": next_url, "error": ""})
    code = form_data(request).get("code", "")
    verdict = request.app.state.limiter.hit("10/minute", "staff-2fa", str(pending.id))
    ctx = ctx_of(request)
    with ctx.db.transaction() as session:
        staff = session.get(StaffUser, pending.id)
        assert staff is not None
        ok = verdict.allowed and staff_ops.check_second_factor(session, staff, code)
        audit.record(
            session,
            f"staff:{staff.id}",
            "staff.login" if ok else "staff.2fa_failed",
            staff,
            ip=client_ip(request),
        )
    if not ok:
        return render(
            request,
            "admin/login_2fa.html",
            {"next": next_url, "error": _("That code is not valid.")},
            400,
        )
    _start_session(request, staff, verified=True)
    return RedirectResponse(next_url, status_code=303)


@open_page
def setup_two_factor(request: Request) -> Response:
    """Set up TOTP: for a logged-in user (optional) or a pending admin (mandatory)."""
    _ = gettext_for(request)
    ctx = ctx_of(request)
    current = getattr(request.state, "staff", None) or _pending_staff(request)
    if current is None:
        return RedirectResponse("/admin/login", status_code=303)
    secret = request.session.get(SETUP_SECRET) or staff_ops.new_totp_secret()
    request.session[SETUP_SECRET] = secret
    context: dict[str, Any] = {
        "secret": secret,
        "uri": staff_ops.totp_uri(ctx, current, secret),
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
    request.session.pop(SETUP_SECRET, None)
    _start_session(request, staff, verified=True)
    request.state.staff = staff
    context["codes"] = codes
    return render(request, "admin/2fa_setup.html", context)


def disable_two_factor(request: Request) -> Response:
    """Turn off one's own two-factor (not allowed when it is mandatory for one's role)."""
    _ = gettext_for(request)
    ctx = ctx_of(request)
    with ctx.db.transaction() as session:
        staff = session.get(StaffUser, request.state.staff.id)
        assert staff is not None
        if staff_ops.two_factor_required(ctx, staff):
            flash(request, _("Two-factor is mandatory for your role."), "error")
        else:
            staff_ops.disable_two_factor(session, staff, actor(request))
            flash(request, _("Two-factor turned off."), "ok")
    return RedirectResponse("/admin/account", status_code=303)


def account(request: Request) -> Response:
    """The logged-in user's own page: two-factor status."""
    return render(request, "admin/account.html", {})


@open_page
def logout(request: Request) -> Response:
    """End the staff session."""
    rotate_session(request.session)
    return RedirectResponse("/admin/login", status_code=303)


def routes() -> list[Route]:
    return [
        Route("/login", login, methods=["GET", "POST"]),
        Route("/login/2fa", second_factor, methods=["GET", "POST"]),
        Route("/2fa/setup", setup_two_factor, methods=["GET", "POST"]),
        Route("/2fa/disable", disable_two_factor, methods=["POST"]),
        Route("/account", account),
        Route("/logout", logout, methods=["POST"]),
    ]
