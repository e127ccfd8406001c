"""The customer's account: contact and billing data, language, password change."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from facturo import audit
from facturo.accounts import notices
from facturo.accounts.customers import AccountError, set_customer_password
from facturo.accounts.passwords import explain, verify_password, weakness
from facturo.models import Customer
from facturo.web import login_sessions
from facturo.web.client_common import (
    client_ip,
    countries,
    ctx_of,
    me,
    read_form,
    text_fields,
    wait_message,
)
from facturo.web.client_profile import PROFILE_FIELDS, clean_profile
from facturo.web.rendering import flash, gettext_for, render, request_language
from facturo.web.throttle import throttle


def _page(
    request: Request,
    values: dict[str, str],
    errors: dict[str, str],
    password_errors: dict[str, str],
    status: int = 200,
) -> Response:
    return render(
        request,
        "client/account.html",
        {
            "values": values,
            "errors": errors,
            "password_errors": password_errors,
            "countries": countries(request_language(request)),
        },
        status,
    )


def account(request: Request) -> Response:
    """GET: the account form. POST: save contact and billing data (issued invoices keep the
    data frozen on them; only future documents use the new data)."""
    ctx = ctx_of(request)
    _ = gettext_for(request)
    customer = me(request)
    if request.method == "GET":
        current = {name: str(getattr(customer, name) or "") for name in PROFILE_FIELDS}
        return _page(request, current, {}, {})
    values, errors = clean_profile(text_fields(read_form(request)), _)
    if errors:
        return _page(request, values, errors, {}, 400)
    with ctx.db.transaction() as session:
        row = session.get(Customer, customer.id)
        assert row is not None
        before = {name: getattr(row, name) for name in PROFILE_FIELDS}
        for name in PROFILE_FIELDS:
            setattr(row, name, values[name])
        changed = {name: values[name] for name in PROFILE_FIELDS if before[name] != values[name]}
        if changed:
            audit.record(
                session,
                f"customer:{row.id}",
                "customer.update",
                row,
                before={name: before[name] for name in changed},
                after=changed,
            )
    request.session["lang"] = values["language"]
    flash(request, gettext_for(request)("Your details have been saved."), "ok")
    return RedirectResponse("/client/account", status_code=303)


def change_password(request: Request) -> Response:
    """Change the password: the current one is required (and its checks are limited like a
    login); every other session ends and the customer is told by email."""
    ctx = ctx_of(request)
    _ = gettext_for(request)
    customer = me(request)
    raw = text_fields(read_form(request))
    current = {name: str(getattr(customer, name) or "") for name in PROFILE_FIELDS}
    errors: dict[str, str] = {}
    guard = throttle(request.app.state, "customer-password")
    refusal = guard.check(str(customer.id), client_ip(request))
    if refusal:
        return _page(
            request,
            current,
            {},
            {"current_password": wait_message(request, refusal.retry_after)},
            429,
        )
    if not verify_password(customer.password_hash, raw.get("current_password", "")):
        guard.failed(str(customer.id), client_ip(request))
        errors["current_password"] = _("The current password is wrong.")
    new = raw.get("new_password", "")
    min_score = ctx.settings.security.password_min_score
    weak = weakness(new, (customer.email, customer.name), min_score) if new else None
    if not new:
        errors["new_password"] = _("This field is required.")
    elif weak:
        errors["new_password"] = explain(weak, _)
    elif new != raw.get("new_password2", ""):
        errors["new_password2"] = _("The two passwords do not match.")
    if errors:
        return _page(request, current, {}, errors, 400)
    with ctx.db.transaction() as session:
        row = session.get(Customer, customer.id)
        assert row is not None
        try:
            set_customer_password(
                session,
                ctx,
                row,
                new,
                f"customer:{row.id}",
                keep_session=login_sessions.current_session_id(request),
            )
        except AccountError as error:
            return _page(request, current, {}, {"new_password": _(str(error))}, 400)
        notices.notify(session, ctx, row, "password_changed", {"ip": client_ip(request)})
    flash(request, _("Your password has been changed. Other sessions have been closed."), "ok")
    return RedirectResponse("/client/account", status_code=303)


def routes() -> list[Route]:
    """Account routes of the client section."""
    return [
        Route("/account", account, methods=["GET", "POST"]),
        Route("/account/password", change_password, methods=["POST"]),
    ]
