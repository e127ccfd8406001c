"""What every successful sign-in does, whatever the path (password, second factor, passkey):
audit it and tell the owner about a device not seen before."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from facturo import audit
from facturo.accounts import notices, sessions
from facturo.context import Context
from facturo.models import AuthSession, Customer, StaffUser
from facturo.web.login_sessions import client_ip, device_id, user_agent


def signed_in(
    request: Request,
    session: Any,
    ctx: Context,
    owner: Customer | StaffUser,
    row: AuthSession,
    method: str,
) -> None:
    """Record a completed sign-in of ``owner`` through ``method`` (password, totp, recovery,
    passkey) and email them when this browser never signed in to their account before."""
    kind = sessions.kind_of(owner)
    audit.record(
        session,
        f"{kind}:{owner.id}",
        f"{kind}.login",
        owner,
        after={"method": method},
        ip=client_ip(request),
    )
    if sessions.seen_device(session, owner, device_id(request), before=row.id) is False:
        notices.notify(
            session,
            ctx,
            owner,
            "new_signin",
            {"ip": client_ip(request), "device": user_agent(request)[:120]},
        )
