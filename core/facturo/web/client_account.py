"""The customer's account: contact and billing data, language, password change."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from facturo import audit
from facturo.accounts.customers import (
    AccountError,
    password_problem,
    set_customer_password,
    verify_password,
)
from facturo.models import Customer
from facturo.web.client_common import countries, ctx_of, me, read_form, text_fields
from facturo.web.client_profile import PROFILE_FIELDS, clean_profile
from facturo.web.rendering import flash, gettext_for, render, request_language


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
    """Change the password: the current one is required; every other session ends."""
    ctx = ctx_of(request)
    _ = gettext_for(request)
    customer = me(request)
    raw = text_fields(read_form(request))
    current = {name: str(getattr(customer, name) or "") for name in PROFILE_FIELDS}
    errors: dict[str, str] = {}
    if not verify_password(customer.password_hash, raw.get("current_password", "")):
        errors["current_password"] = _("The current password is wrong.")
    new = raw.get("new_password", "")
    problem = password_problem(new, customer.email) if new else "This field is required."
    if problem:
        errors["new_password"] = _(problem)
    elif new != raw.get("new_password2", ""):
        errors["new_password2"] = _("The two passwords do not match.")
    if errors:
        return _page(request, current, {}, errors, 400)
    with ctx.db.transaction() as session:
        row = session.get(Customer, customer.id)
        assert row is not None
        try:
            set_customer_password(session, row, new, f"customer:{row.id}")
        except AccountError as error:
            return _page(request, current, {}, {"new_password": _(str(error))}, 400)
        epoch = row.session_epoch
    # This session stays; every other one carries the old epoch and ends.
    request.session["customer_epoch"] = epoch
    flash(request, _("Your password has been changed. Other sessions have been closed."), "ok")
    return RedirectResponse("/client/account", status_code=303)


def routes() -> list[Route]:
    """Account routes of the client section."""
    return [
        Route("/account", account, methods=["GET", "POST"]),
        Route("/account/password", change_password, methods=["POST"]),
    ]
