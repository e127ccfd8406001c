"""Staff API tokens for the REST API: created with a scope, stored hashed, revoked."""

from __future__ import annotations

import hashlib
import secrets
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from facturo import audit
from facturo.accounts.staff import StaffError
from facturo.models import (
    ApiToken,
    StaffUser,
)

if TYPE_CHECKING:
    from facturo.context import Context

TOKEN_SCOPES = ("read", "read-write")


def token_hash(token: str) -> str:
    """How API tokens are stored: their SHA-256 in hex."""
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(
    session: Session, staff: StaffUser, name: str, scope: str, actor: str
) -> tuple[ApiToken, str]:
    """A new API token for ``staff``; return it and the secret (shown once, stored hashed)."""
    if scope not in TOKEN_SCOPES:
        raise StaffError("scope must be read or read-write", field="scope")
    if not name.strip():
        raise StaffError("give the token a name", field="name")
    secret = "fct_" + secrets.token_urlsafe(32)
    token = ApiToken(
        name=name.strip()[:100],
        token_hash=token_hash(secret),
        prefix=secret[:12],
        scope=scope,
        staff_id=staff.id,
    )
    session.add(token)
    session.flush()
    audit.record(
        session,
        actor,
        "api_token.create",
        token,
        after={"name": token.name, "scope": scope, "prefix": token.prefix},
    )
    return token, secret


def revoke_token(session: Session, ctx: Context, token: ApiToken, actor: str) -> None:
    """Revoke ``token`` (idempotent)."""
    if token.revoked_at is not None:
        return
    token.revoked_at = ctx.now()
    audit.record(
        session,
        actor,
        "api_token.revoke",
        token,
        before={"revoked": False},
        after={"revoked": True},
    )
