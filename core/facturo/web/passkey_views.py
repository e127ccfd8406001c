"""Passkey endpoints (JSON, for ``static/passkeys.js``), the same in the client and admin
sections: register one from a fully verified session, sign in with one (first factor), or use
one as the second factor of a password login. Challenges wait in the signed cookie and are
good for one answer."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import anyio.from_thread
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from facturo import audit
from facturo.accounts import notices, passkeys, sessions
from facturo.accounts.passkeys import PasskeyError
from facturo.context import Context
from facturo.models import AuthSession, Customer, StaffUser
from facturo.web import login_sessions
from facturo.web.rendering import gettext_for
from facturo.web.sections import api_error, open_page
from facturo.web.security import local_next
from facturo.web.signin import signed_in

CHALLENGE_KEY = "passkey_challenge"
SECTION_KIND = {"client": "customer", "admin": "staff"}


def _ctx(request: Request) -> Context:
    ctx: Context = request.app.state.ctx
    return ctx


def _body(request: Request) -> dict[str, Any]:
    """The JSON object posted (empty for anything else: the answer then fails to verify)."""
    if not request.headers.get("content-type", "").startswith("application/json"):
        return {}

    async def read() -> bytes:
        return await request.body()

    try:
        data = json.loads(anyio.from_thread.run(read) or b"{}")
    except (ValueError, UnicodeDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def _keep(request: Request, purpose: str, challenge: passkeys.Challenge) -> Response:
    request.session[CHALLENGE_KEY] = {"purpose": purpose, "challenge": challenge.challenge}
    return Response(challenge.options_json, media_type="application/json")


def _take(request: Request, purpose: str) -> str | None:
    kept = request.session.pop(CHALLENGE_KEY, None)
    if not isinstance(kept, dict) or kept.get("purpose") != purpose:
        return None
    value = kept.get("challenge")
    return value if isinstance(value, str) else None


def _refused(request: Request, message: str, status: int = 400) -> JSONResponse:
    _ = gettext_for(request)
    return api_error(status, "passkey", _(message))


def _person(session: Any, kind: str, owner_id: int) -> Customer | StaffUser | None:
    if kind == "staff":
        staff: StaffUser | None = session.get(StaffUser, owner_id)
        return staff
    customer: Customer | None = session.get(Customer, owner_id)
    return customer


def views(section: str) -> list[Route]:
    """The passkey routes of ``section`` (client or admin)."""
    kind = SECTION_KIND[section]
    home = f"/{section}/"

    def signed_in_user(request: Request) -> Customer | StaffUser:
        user: Customer | StaffUser = getattr(
            request.state, "customer" if kind == "customer" else "staff"
        )
        return user

    def register_options(request: Request) -> Response:
        ctx = _ctx(request)
        with ctx.db.read_session() as session:
            return _keep(
                request,
                "register",
                passkeys.registration_challenge(session, ctx, signed_in_user(request)),
            )

    def register(request: Request) -> Response:
        ctx = _ctx(request)
        body = _body(request)
        challenge = _take(request, "register")
        if challenge is None:
            return _refused(request, "Start again: the passkey request has expired.")
        user = signed_in_user(request)
        try:
            with ctx.db.transaction() as session:
                person = _person(session, kind, user.id)
                assert person is not None
                key = passkeys.register(
                    session,
                    ctx,
                    person,
                    body.get("credential"),
                    challenge,
                    str(body.get("name", "")),
                )
                audit.record(session, f"{kind}:{person.id}", f"{kind}.passkey_add", key)
                notices.notify(session, ctx, person, "factor_added", {"factor": "passkey"})
                sessions.revoke_all(
                    session, ctx, person, "factor", keep=login_sessions.current_session_id(request)
                )
        except PasskeyError as exc:
            return _refused(request, str(exc))
        return JSONResponse({"ok": True, "id": key.id})

    @open_page
    def login_options(request: Request) -> Response:
        ctx = _ctx(request)
        with ctx.db.read_session() as session:
            return _keep(request, "login", passkeys.login_challenge(session, ctx))

    @open_page
    def login(request: Request) -> Response:
        ctx = _ctx(request)
        body = _body(request)
        challenge = _take(request, "login")
        if challenge is None:
            return _refused(request, "Start again: the passkey request has expired.")
        next_url = local_next(str(body.get("next") or ""), section)
        try:
            with ctx.db.transaction() as session:
                key = passkeys.authenticate(session, ctx, body.get("credential"), challenge, kind)
                person = passkeys.owner_of(session, key)
                if person is None or person.disabled:
                    raise PasskeyError("This passkey is not registered here.")
                row = login_sessions.begin(request, session, ctx, person, verified=True)
                _signed_in(request, session, ctx, person, row)
        except PasskeyError as exc:
            return _refused(request, str(exc))
        return JSONResponse({"next": next_url})

    def _pending(request: Request) -> login_sessions.Login | None:
        return login_sessions.current(request, kind, pending=True)

    @open_page
    def second_options(request: Request) -> Response:
        ctx = _ctx(request)
        login_ = _pending(request)
        if login_ is None:
            return _refused(request, "Log in with your password first.", 401)
        with ctx.db.read_session() as session:
            person = _person(session, kind, login_.owner.id)
            assert person is not None
            return _keep(request, "second", passkeys.login_challenge(session, ctx, person))

    @open_page
    def second(request: Request) -> Response:
        ctx = _ctx(request)
        body = _body(request)
        login_ = _pending(request)
        challenge = _take(request, "second")
        if login_ is None:
            return _refused(request, "Log in with your password first.", 401)
        if challenge is None:
            return _refused(request, "Start again: the passkey request has expired.")
        next_url = local_next(str(body.get("next") or ""), section)
        try:
            with ctx.db.transaction() as session:
                person = _person(session, kind, login_.owner.id)
                row = session.get(AuthSession, login_.row.id)
                assert person is not None and row is not None
                passkeys.authenticate(
                    session, ctx, body.get("credential"), challenge, kind, person=person
                )
                login_sessions.upgrade(request, session, ctx, row)
                _signed_in(request, session, ctx, person, row)
        except PasskeyError as exc:
            return _refused(request, str(exc))
        return JSONResponse({"next": next_url or home})

    def route(path: str, endpoint: Callable[[Request], Response]) -> Route:
        return Route(path, endpoint, methods=["POST"])

    return [
        route("/passkeys/register/options", register_options),
        route("/passkeys/register", register),
        route("/login/passkey/options", login_options),
        route("/login/passkey", login),
        route("/login/2fa/passkey/options", second_options),
        route("/login/2fa/passkey", second),
    ]


def _signed_in(
    request: Request, session: Any, ctx: Context, person: Customer | StaffUser, row: AuthSession
) -> None:
    signed_in(request, session, ctx, person, row, "passkey")
