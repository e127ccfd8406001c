"""Staff accounts and API tokens (admins only)."""

from __future__ import annotations

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from facturo.accounts import api_tokens, notices, sessions
from facturo.accounts import staff as staff_ops
from facturo.accounts.customers import AccountError, create_staff
from facturo.errors import FacturoError
from facturo.models import ApiToken, StaffUser
from facturo.models.accounts import STAFF_ROLES
from facturo.web.admin_common import actor, ctx_of, form_data, get_or_404
from facturo.web.rendering import flash, gettext_for, render
from facturo.web.sections import roles_required


def _staff_page(
    request: Request,
    values: dict[str, str],
    errors: dict[str, str],
    created: str = "",
    status: int = 200,
) -> Response:
    with ctx_of(request).db.read_session() as session:
        people = list(session.scalars(select(StaffUser).order_by(StaffUser.id)))
    return render(
        request,
        "admin/staff.html",
        {
            "people": people,
            "roles": STAFF_ROLES,
            "values": values,
            "errors": errors,
            "created_password": created,
        },
        status,
    )


@roles_required("admin")
def staff_list(request: Request) -> Response:
    """GET: staff users. POST: create one (the generated password is shown once)."""
    _ = gettext_for(request)
    if request.method == "GET":
        return _staff_page(request, {}, {})
    form = form_data(request)
    try:
        with ctx_of(request).db.transaction() as session:
            _user, password = create_staff(
                session,
                form.get("email", ""),
                form.get("name", "").strip() or "-",
                form.get("role", ""),
                actor=actor(request),
            )
    except AccountError as exc:
        return _staff_page(request, form, {exc.field or "email": _(str(exc))}, status=400)
    return _staff_page(request, {}, {}, created=password)


@roles_required("admin")
def staff_update(request: Request) -> Response:
    """Change a staff user's role, disable them, or reset their two-factor."""
    _ = gettext_for(request)
    ctx = ctx_of(request)
    form = form_data(request)
    try:
        with ctx.db.transaction() as session:
            person = get_or_404(session, StaffUser, request.path_params["id"])
            if form.get("reset_2fa") == "1":
                staff_ops.disable_two_factor(session, person, actor(request))
                notices.notify(session, ctx, person, "factor_removed", {"factor": "totp"})
                sessions.revoke_all(session, ctx, person, "factor")
            else:
                staff_ops.update_staff(
                    session,
                    ctx,
                    person,
                    form.get("role", person.role),
                    form.get("disabled") == "1",
                    actor(request),
                )
    except FacturoError as exc:
        flash(request, _(str(exc)), "error")
    else:
        flash(request, _("Saved."), "ok")
    return RedirectResponse("/admin/staff", status_code=303)


def _tokens_page(
    request: Request, secret: str = "", errors: dict[str, str] | None = None, status: int = 200
) -> Response:
    with ctx_of(request).db.read_session() as session:
        tokens = list(session.scalars(select(ApiToken).order_by(ApiToken.id.desc())))
    return render(
        request,
        "admin/tokens.html",
        {"tokens": tokens, "secret": secret, "errors": errors or {}},
        status,
    )


@roles_required("admin")
def token_list(request: Request) -> Response:
    """GET: API tokens. POST: create one for oneself (the secret is shown once)."""
    _ = gettext_for(request)
    if request.method == "GET":
        return _tokens_page(request)
    form = form_data(request)
    try:
        with ctx_of(request).db.transaction() as session:
            me = session.get(StaffUser, request.state.staff.id)
            assert me is not None
            _token, secret = api_tokens.create_token(
                session, me, form.get("name", ""), form.get("scope", ""), actor(request)
            )
    except FacturoError as exc:
        return _tokens_page(request, errors={exc.field or "name": _(str(exc))}, status=400)
    return _tokens_page(request, secret=secret)


@roles_required("admin")
def token_revoke(request: Request) -> Response:
    """Revoke an API token."""
    _ = gettext_for(request)
    ctx = ctx_of(request)
    with ctx.db.transaction() as session:
        token = get_or_404(session, ApiToken, request.path_params["id"])
        api_tokens.revoke_token(session, ctx, token, actor(request))
    flash(request, _("Token revoked."), "ok")
    return RedirectResponse("/admin/tokens", status_code=303)


def routes() -> list[Route]:
    return [
        Route("/staff", staff_list, methods=["GET", "POST"]),
        Route("/staff/{id:int}", staff_update, methods=["POST"]),
        Route("/tokens", token_list, methods=["GET", "POST"]),
        Route("/tokens/{id:int}/revoke", token_revoke, methods=["POST"]),
    ]
