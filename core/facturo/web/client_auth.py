"""Registration, email verification, login, logout, forgotten and reset passwords."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from sqlalchemy import update
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from facturo import audit
from facturo.accounts import notices, two_factor
from facturo.accounts.customers import (
    AccountError,
    NewCustomer,
    create_customer,
    find_customer,
    normalise_email,
    set_customer_password,
)
from facturo.accounts.emails import InvalidEmail, clean_email
from facturo.accounts.passwords import explain, hash_password, verify_password, weakness
from facturo.accounts.resets import request_password_reset
from facturo.accounts.tokens import (
    TokenError,
    make_verify_token,
    read_reset_token,
    read_verify_token,
)
from facturo.context import Context
from facturo.delivery.outbox import enqueue_email
from facturo.models import Customer
from facturo.web import login_sessions
from facturo.web.client_common import (
    client_ip,
    countries,
    ctx_of,
    me,
    rate_limited,
    read_form,
    text_fields,
    wait_message,
)
from facturo.web.client_profile import clean_profile
from facturo.web.rendering import flash, gettext_for, render, request_language
from facturo.web.sections import open_page
from facturo.web.security import local_next
from facturo.web.signin import signed_in
from facturo.web.throttle import throttle

REGISTER_LIMIT = "5/hour"
RESET_LIMIT = "5/hour"
RESEND_LIMIT = "3/hour"
#: Where a verification link lands the customer it signs in: ready to order.
AFTER_VERIFY = "/client/catalog"


def send_verification(ctx: Context, session: Any, customer: Customer, key: str) -> None:
    """Queue the verify_email message with a fresh signed link."""
    link = ctx.url(f"/client/verify/{make_verify_token(ctx, customer)}")
    enqueue_email(
        session,
        ctx,
        "verify_email",
        to=customer.email,
        language=customer.language,
        context={"customer": customer, "link": link},
        dedupe_key=key,
        customer_id=customer.id,
    )


def _register_page(
    request: Request, values: dict[str, str], errors: dict[str, str], status: int = 200
) -> Response:
    lang = request_language(request)
    return render(
        request,
        "client/register.html",
        {"values": values, "errors": errors, "countries": countries(lang)},
        status,
    )


@open_page
def register(request: Request) -> Response:
    """GET: the registration form. POST: create the account (or, for a registered email,
    tell its owner by email) and answer the same neutral page either way."""
    ctx = ctx_of(request)
    _ = gettext_for(request)
    if request.method == "GET":
        lang = request_language(request)
        return _register_page(request, {"country": "ES", "language": lang}, {})
    raw = text_fields(read_form(request))
    values, errors = clean_profile(raw, _)
    email = normalise_email(raw.get("email", ""))
    try:
        email = clean_email(email)
    except InvalidEmail as exc:
        errors["email"] = _(str(exc))
    values["email"] = email
    password = raw.get("password", "")
    min_score = ctx.settings.security.password_min_score
    weak = weakness(password, (email, values.get("name", "")), min_score) if password else None
    if not password:
        errors["password"] = _("This field is required.")
    elif weak:
        errors["password"] = explain(weak, _)
    elif password != raw.get("password2", ""):
        errors["password2"] = _("The two passwords do not match.")
    if raw.get("terms") != "yes":
        errors["terms"] = _("Accept the terms to register.")
    if errors:
        return _register_page(request, values, errors, 400)
    refusal = rate_limited(request, REGISTER_LIMIT, "register", client_ip(request))
    if refusal:
        return _register_page(request, values, {"form": refusal}, 429)
    with ctx.db.transaction() as session:
        existing = find_customer(session, email)
        if existing is not None:
            hash_password(password)  # the same work as creating the account: timing tells nothing
            notices.account_exists(session, ctx, existing)
        else:
            data = NewCustomer(email=email, password=password, **values_without(values, "email"))
            try:
                customer = create_customer(session, ctx, data, actor="customer")
            except AccountError as error:
                return _register_page(request, values, {error.field or "form": _(str(error))}, 400)
            send_verification(ctx, session, customer, f"verify_email:{customer.id}:0")
    return render(request, "client/registered.html", {"email": email})


def values_without(values: dict[str, str], *names: str) -> dict[str, str]:
    """``values`` minus ``names``."""
    return {key: value for key, value in values.items() if key not in names}


@open_page
def verify(request: Request) -> Response:
    """Open the link from the verification email: mark the email verified and, the first time
    only, sign the customer in (a new session under a rotated cookie; a customer with a second
    factor still owes it) and go on to the catalog. A link used again verifies nothing more and
    signs nobody in: it says so and offers the login page."""
    ctx = ctx_of(request)
    _ = gettext_for(request)
    with ctx.db.transaction() as session:
        try:
            customer = read_verify_token(session, ctx, request.path_params["token"])
        except TokenError as error:
            message = (
                _("This link has expired. Log in and ask for a new one.")
                if error.reason == "expired"
                else _("This link is not valid.")
            )
            return render(
                request,
                "client/message.html",
                {"title": _("Email not verified"), "message": message},
                400,
            )
        if not mark_verified(session, ctx, customer):
            return render(
                request,
                "client/message.html",
                {
                    "title": _("Email verified"),
                    "message": _("Your email address is verified."),
                    "link": ("/client/login", _("Log in")),
                },
            )
        audit.record(session, f"customer:{customer.id}", "customer.verify_email", customer)
        owes = two_factor.has_second_factor(session, customer) or (
            ctx.settings.security.customer_two_factor_required
        )
        row = login_sessions.begin(request, session, ctx, customer, verified=not owes)
        if not owes:
            signed_in(request, session, ctx, customer, row, "email_link")
    if owes:
        return RedirectResponse(f"/client/login/2fa?next={quote(AFTER_VERIFY)}", status_code=303)
    flash(request, _("Your email address is verified and you are signed in."), "ok")
    return RedirectResponse(AFTER_VERIFY, status_code=303)


def mark_verified(session: Any, ctx: Context, customer: Customer) -> bool:
    """Set ``customer``'s email as verified with one conditional UPDATE; True only for the call
    that changed it, so a verification link signs in once however often it is opened."""
    changed = session.execute(
        update(Customer)
        .where(Customer.id == customer.id, Customer.email_verified_at.is_(None))
        .values(email_verified_at=ctx.now())
        .execution_options(synchronize_session=False)
    )
    if int(getattr(changed, "rowcount", 0)) != 1:
        return False
    session.refresh(customer)
    return True


def resend_verification(request: Request) -> Response:
    """Send the verification email again (rate-limited)."""
    ctx = ctx_of(request)
    customer = me(request)
    _ = gettext_for(request)
    if customer.is_verified:
        return RedirectResponse("/client/", status_code=303)
    refusal = rate_limited(request, RESEND_LIMIT, "resend", str(customer.id))
    if refusal:
        flash(request, refusal, "error")
        return RedirectResponse("/client/", status_code=303)
    with ctx.db.transaction() as session:
        fresh = session.get(Customer, customer.id)
        assert fresh is not None
        send_verification(ctx, session, fresh, f"verify_email:{fresh.id}:{ctx.now().isoformat()}")
    flash(request, _("We have sent the verification email again."), "ok")
    return RedirectResponse("/client/", status_code=303)


@open_page
def login(request: Request) -> Response:
    """GET: the login form. POST: check the password (limited per account, per address and per
    both), then start a session — fully verified, or owing a second factor."""
    ctx = ctx_of(request)
    _ = gettext_for(request)
    next_url = local_next(request.query_params.get("next"), "client")
    if request.method == "GET":
        return render(request, "client/login.html", {"next": next_url, "error": "", "email": ""})
    raw = text_fields(read_form(request))
    email = normalise_email(raw.get("email", ""))[:254]
    page = {"next": next_url, "email": email}
    ip = client_ip(request)
    guard = throttle(request.app.state, "customer-login")
    refusal = guard.check(email, ip)
    if refusal:
        message = wait_message(request, refusal.retry_after)
        return render(request, "client/login.html", {**page, "error": message}, 429)
    with ctx.db.transaction() as session:
        customer = find_customer(session, email) if email else None
        ok = verify_password(customer.password_hash if customer else "", raw.get("password", ""))
        if customer is None or customer.disabled or not ok:
            audit.record(
                session,
                "anonymous",
                "customer.login_failed",
                ("Customer", ""),
                after={"email": email[:100]},
                ip=ip,
            )
            if guard.failed(email, ip) and customer is not None:
                notices.notify(session, ctx, customer, "login_locked", {"ip": ip})
            return render(
                request, "client/login.html", {**page, "error": _("Wrong email or password.")}, 400
            )
        owes = two_factor.has_second_factor(session, customer) or (
            ctx.settings.security.customer_two_factor_required
        )
        row = login_sessions.begin(request, session, ctx, customer, verified=not owes)
        if not owes:
            signed_in(request, session, ctx, customer, row, "password")
    if owes:
        return RedirectResponse(f"/client/login/2fa?next={quote(next_url)}", status_code=303)
    return RedirectResponse(next_url, status_code=303)


@open_page
def logout(request: Request) -> Response:
    """End this session: its row is revoked, so a copy of the cookie is worth nothing."""
    login_sessions.end(request, "customer")
    return RedirectResponse("/client/login", status_code=303)


@open_page
def forgot(request: Request) -> Response:
    """GET: ask for the email. POST: send a reset link if the account exists; same answer."""
    ctx = ctx_of(request)
    _ = gettext_for(request)
    if request.method == "GET":
        return render(request, "client/forgot.html", {"error": "", "email": ""})
    email = normalise_email(text_fields(read_form(request)).get("email", ""))
    try:
        email = clean_email(email)
    except InvalidEmail as exc:
        return render(request, "client/forgot.html", {"error": _(str(exc)), "email": email}, 400)
    refusal = rate_limited(request, RESET_LIMIT, "reset", client_ip(request))
    if refusal:
        return render(request, "client/forgot.html", {"error": refusal, "email": email}, 429)
    with ctx.db.transaction() as session:
        # Known or not, the request path does the same: one queued event. The worker looks the
        # address up and sends the link (or nothing), so timing tells nothing.
        request_password_reset(session, ctx, email)
    return render(
        request,
        "client/message.html",
        {
            "title": _("Check your email"),
            "message": _(
                "If an account exists for that address, we have sent it a link to choose a "
                "new password. The link works once and expires in one hour."
            ),
        },
    )


def _token_refusal(request: Request, error: TokenError) -> Response:
    _ = gettext_for(request)
    message = {
        "expired": _("This link has expired."),
        "used": _("This link has already been used."),
    }.get(error.reason, _("This link is not valid."))
    return render(
        request,
        "client/message.html",
        {
            "title": _("Password not changed"),
            "message": message,
            "link": ("/client/password/forgot", _("Ask for a new link")),
        },
        400,
    )


@open_page
def reset(request: Request) -> Response:
    """GET: the new-password form for a valid link. POST: set it (the link then stops
    working, other sessions end) and go to the login page."""
    ctx = ctx_of(request)
    _ = gettext_for(request)
    token = request.path_params["token"]
    with ctx.db.transaction() as session:
        try:
            customer = read_reset_token(session, ctx, token)
        except TokenError as error:
            return _token_refusal(request, error)
        if request.method == "GET":
            return render(request, "client/reset.html", {"errors": {}, "token": token})
        raw = text_fields(read_form(request))
        password = raw.get("password", "")
        errors: dict[str, str] = {}
        min_score = ctx.settings.security.password_min_score
        weak = weakness(password, (customer.email, customer.name), min_score)
        if weak:
            errors["password"] = explain(weak, _)
        elif password != raw.get("password2", ""):
            errors["password2"] = _("The two passwords do not match.")
        if errors:
            return render(request, "client/reset.html", {"errors": errors, "token": token}, 400)
        try:
            set_customer_password(session, ctx, customer, password, f"customer:{customer.id}")
        except AccountError as error:
            return render(
                request,
                "client/reset.html",
                {"errors": {"password": _(str(error))}, "token": token},
                400,
            )
        if customer.email_verified_at is None:
            customer.email_verified_at = ctx.now()
        notices.notify(session, ctx, customer, "password_changed", {"ip": client_ip(request)})
    flash(request, _("Your password has been changed. Log in with the new one."), "ok")
    return RedirectResponse("/client/login", status_code=303)


def routes() -> list[Route]:
    """Authentication routes of the client section."""
    return [
        Route("/register", register, methods=["GET", "POST"]),
        Route("/verify/resend", resend_verification, methods=["POST"]),
        Route("/verify/{token}", verify, methods=["GET"]),
        Route("/login", login, methods=["GET", "POST"]),
        Route("/logout", logout, methods=["POST"]),
        Route("/password/forgot", forgot, methods=["GET", "POST"]),
        Route("/password/reset/{token}", reset, methods=["GET", "POST"]),
    ]
