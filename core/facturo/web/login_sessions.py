"""The web side of server-side sessions: the signed cookie carries, per kind of user, only the
random secret of a row in ``auth_sessions``; everything about the login lives in that row.

The cookie (Starlette's signed session) also keeps what is not authority: the language, the
CSRF token, one-shot messages and in-progress two-factor challenges.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from facturo.accounts import sessions
from facturo.context import Context
from facturo.models import AuthSession, Customer, StaffUser
from facturo.web.request_reads import reader_of

COOKIE_KEYS = {"customer": "customer_session", "staff": "staff_session"}
DEVICE_COOKIE = "facturo_device"
DEVICE_MAX_AGE = 400 * 24 * 3600


@dataclass
class Login:
    """A live session and its owner, as found for a request."""

    row: AuthSession
    owner: Customer | StaffUser


def client_ip(request: Request) -> str:
    """The caller's address (already resolved from trusted proxies by the middleware)."""
    return request.client.host if request.client else ""


def user_agent(request: Request) -> str:
    return request.headers.get("user-agent", "")[:300]


def device_id(request: Request) -> str:
    """This browser's device id (a long-lived random cookie), made on first use; the guard
    sends it back with the response."""
    known = getattr(request.state, "device_id", None)
    if isinstance(known, str):
        return known
    value = request.cookies.get(DEVICE_COOKIE, "")
    if not (20 <= len(value) <= 64 and value.replace("-", "").replace("_", "").isalnum()):
        value = secrets.token_urlsafe(24)
        request.state.new_device_cookie = value
    request.state.device_id = value
    return value


def set_device_cookie(request: Request, response: Response, https: bool) -> None:
    """Send the device cookie made during this request, if any."""
    value = getattr(request.state, "new_device_cookie", None)
    if value:
        response.set_cookie(
            DEVICE_COOKIE,
            value,
            max_age=DEVICE_MAX_AGE,
            httponly=True,
            samesite="lax",
            secure=https,
        )


def rotate_cookie(request: Request, keep_kind: str | None = None) -> None:
    """Drop everything in the cookie (a new CSRF token follows) but the language and, when
    ``keep_kind`` is given, that kind's session secret."""
    data = request.session
    kept = {key: data[key] for key in ("lang",) if key in data}
    if keep_kind and COOKIE_KEYS[keep_kind] in data:
        kept[COOKIE_KEYS[keep_kind]] = data[COOKIE_KEYS[keep_kind]]
    data.clear()
    data.update(kept)


def begin(
    request: Request, session: Any, ctx: Context, owner: Customer | StaffUser, verified: bool
) -> AuthSession:
    """Start a session for ``owner`` (inside the caller's transaction): a new row, a rotated
    cookie holding its secret; the other kind's login in this browser stays."""
    kind = sessions.kind_of(owner)
    row, token = sessions.open_session(
        session,
        ctx,
        owner,
        verified,
        ip=client_ip(request),
        user_agent=user_agent(request),
        device=device_id(request),
    )
    rotate_cookie(request, keep_kind="staff" if kind == "customer" else "customer")
    request.session[COOKIE_KEYS[kind]] = token
    return row


def upgrade(request: Request, session: Any, ctx: Context, row: AuthSession) -> None:
    """The second factor passed: the row becomes a full session under a new secret."""
    token = sessions.mark_verified(session, ctx, row)
    rotate_cookie(request, keep_kind="staff" if row.kind == "customer" else "customer")
    request.session[COOKIE_KEYS[row.kind]] = token


def token_of(request: Request, kind: str) -> str:
    value = request.session.get(COOKIE_KEYS[kind]) if "session" in request.scope else None
    return value if isinstance(value, str) else ""


def current(request: Request, kind: str, pending: bool = False) -> Login | None:
    """The live session of ``kind`` for this request: fully verified ones, or (``pending``)
    only one still owing its second factor. One indexed read; ``last_seen_at`` is written at
    most once a minute."""
    token = token_of(request, kind)
    if not token:
        return None
    ctx: Context = request.app.state.ctx
    with ctx.db.read_session() as session:
        found = sessions.find_live(session, ctx, kind, token)
    if found is None:
        request.session.pop(COOKIE_KEYS[kind], None)
        return None
    row, owner = found
    if row.verified == pending:
        return None
    ip = client_ip(request)
    if sessions.needs_touch(ctx, row, ip):
        with ctx.db.transaction() as session:
            sessions.touch(session, ctx, row.id, ip)
    return Login(row, owner)


async def current_on_loop(request: Request, kind: str) -> Login | None:
    """:func:`current` (fully verified sessions) for the section guard, which runs on the event
    loop: the lookup through the request's reader (:mod:`facturo.web.request_reads`: this
    thread's pinned connection, one indexed read, no hop to the threadpool), the once-a-minute
    write of ``last_seen_at`` in the threadpool."""
    token = token_of(request, kind)
    if not token:
        return None
    ctx: Context = request.app.state.ctx
    found = sessions.find_live_read(reader_of(request, token), ctx, kind, token)
    if found is None:
        request.session.pop(COOKIE_KEYS[kind], None)
        return None
    row, owner = found
    if not row.verified:
        return None
    ip = client_ip(request)
    if sessions.needs_touch(ctx, row, ip):
        await run_in_threadpool(_touch, ctx, row.id, ip)
    return Login(row, owner)


def _touch(ctx: Context, session_id: int, ip: str) -> None:
    with ctx.db.transaction() as session:
        sessions.touch(session, ctx, session_id, ip)


def end(request: Request, kind: str, reason: str = "logout") -> None:
    """Log out ``kind`` in this browser: revoke the row, forget the secret, rotate the cookie."""
    token = token_of(request, kind)
    if token:
        ctx: Context = request.app.state.ctx
        with ctx.db.transaction() as session:
            sessions.revoke_token(session, ctx, kind, token, reason)
    rotate_cookie(request, keep_kind="staff" if kind == "customer" else "customer")


def current_session_id(request: Request) -> int | None:
    """The id of the session row the guard found for this request."""
    login = getattr(request.state, "login", None)
    return login.row.id if isinstance(login, Login) else None


def end_others(request: Request, owner: Customer | StaffUser) -> int:
    """Sign ``owner`` out everywhere but in this request's session; return how many ended."""
    ctx: Context = request.app.state.ctx
    with ctx.db.transaction() as session:
        return sessions.revoke_all(session, ctx, owner, "user", keep=current_session_id(request))
