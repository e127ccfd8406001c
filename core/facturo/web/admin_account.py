"""The staff user's own page: two-factor, passkeys, and where they are signed in."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from facturo import audit
from facturo.accounts import notices, passkeys, sessions, two_factor
from facturo.accounts import staff as staff_ops
from facturo.models import StaffUser
from facturo.web import login_sessions
from facturo.web.admin_common import ctx_of
from facturo.web.passkey_views import views as passkey_views
from facturo.web.rendering import flash, gettext_for, render

HOME = "/admin/account"


def account(request: Request) -> Response:
    """Two-factor status, passkeys and active sessions."""
    ctx = ctx_of(request)
    with ctx.db.read_session() as session:
        staff = session.get(StaffUser, request.state.staff.id)
        assert staff is not None
        values = {
            "sessions": sessions.active_sessions(session, ctx, staff),
            "current_id": login_sessions.current_session_id(request),
            "passkeys": passkeys.passkeys_of(session, staff),
        }
    return render(request, "admin/account.html", values)


def revoke_session(request: Request) -> Response:
    """Sign out one of one's sessions."""
    ctx = ctx_of(request)
    _ = gettext_for(request)
    target = int(request.path_params["id"])
    with ctx.db.transaction() as session:
        done = sessions.revoke_one(session, ctx, request.state.staff, target, "user")
    if done and target == login_sessions.current_session_id(request):
        login_sessions.end(request, "staff")
        return RedirectResponse("/admin/login", status_code=303)
    flash(
        request,
        _("That session has been signed out.") if done else _("That session is not open."),
        "ok" if done else "error",
    )
    return RedirectResponse(HOME, status_code=303)


def revoke_others(request: Request) -> Response:
    """Sign out every session but this one."""
    _ = gettext_for(request)
    count = login_sessions.end_others(request, request.state.staff)
    flash(request, _("Other sessions signed out: %(n)s.") % {"n": count}, "ok")
    return RedirectResponse(HOME, status_code=303)


def passkey_remove(request: Request) -> Response:
    """Remove one of one's passkeys (not the last factor when two-factor is mandatory)."""
    ctx = ctx_of(request)
    _ = gettext_for(request)
    with ctx.db.transaction() as session:
        staff = session.get(StaffUser, request.state.staff.id)
        assert staff is not None
        key = passkeys.remove(session, staff, int(request.path_params["id"]))
        if key is None:
            flash(request, _("That passkey is not yours."), "error")
            return RedirectResponse(HOME, status_code=303)
        session.flush()
        if staff_ops.two_factor_required(ctx, staff) and not two_factor.has_second_factor(
            session, staff
        ):
            session.rollback()
            flash(request, _("Two-factor is mandatory for your role."), "error")
            return RedirectResponse(HOME, status_code=303)
        audit.record(session, f"staff:{staff.id}", "staff.passkey_remove", ("Passkey", key.id))
        notices.notify(session, ctx, staff, "factor_removed", {"factor": "passkey"})
        sessions.revoke_all(
            session, ctx, staff, "factor", keep=login_sessions.current_session_id(request)
        )
    flash(request, _("Passkey removed."), "ok")
    return RedirectResponse(HOME, status_code=303)


def routes() -> list[Route]:
    return [
        Route("/account", account),
        Route("/account/sessions/{id:int}/revoke", revoke_session, methods=["POST"]),
        Route("/account/sessions/revoke-others", revoke_others, methods=["POST"]),
        Route("/account/passkeys/{id:int}/remove", passkey_remove, methods=["POST"]),
        *passkey_views("admin"),
    ]
