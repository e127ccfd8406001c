"""Signed tokens for links sent by email: email verification and password reset.

Both are itsdangerous ``URLSafeTimedSerializer`` tokens with their own salt, timed by the
Context's clock. The verification token names the customer and the email it was sent to (a
changed email invalidates it). The reset token also carries a fingerprint of the current
password hash, so it stops working as soon as the password changes: it works once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer
from sqlalchemy.orm import Session

from facturo.errors import FacturoError
from facturo.models import Customer

if TYPE_CHECKING:
    from facturo.context import Context

VERIFY_SALT = "facturo.client.verify-email"
RESET_SALT = "facturo.client.password-reset"
VERIFY_MAX_AGE = 48 * 3600
RESET_MAX_AGE = 3600


class TokenError(FacturoError, ValueError):
    """A token was refused; ``reason`` is ``invalid``, ``expired`` or ``used``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason, code=reason)
        self.reason = reason


def _clocked_signer(clock: Callable[[], datetime]) -> type[TimestampSigner]:
    class ClockedSigner(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(clock().timestamp())

    return ClockedSigner


def _serializer(ctx: Context, salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(
        str(ctx.settings.secret_key), salt=salt, signer=_clocked_signer(ctx.now)
    )


def _load(ctx: Context, salt: str, token: str, max_age: int) -> Any:
    try:
        return _serializer(ctx, salt).loads(token, max_age=max_age)
    except SignatureExpired as exc:
        raise TokenError("expired") from exc
    except BadSignature as exc:
        raise TokenError("invalid") from exc


def password_fingerprint(customer: Customer) -> str:
    """A short digest of the customer's current password hash (changes with the password)."""
    return hashlib.sha256(customer.password_hash.encode("utf-8")).hexdigest()[:16]


def make_verify_token(ctx: Context, customer: Customer) -> str:
    """A signed token proving ``customer`` received mail at their current email address."""
    return str(_serializer(ctx, VERIFY_SALT).dumps({"c": customer.id, "e": customer.email}))


def read_verify_token(session: Session, ctx: Context, token: str) -> Customer:
    """The customer a verification token is for; TokenError when forged, stale or expired."""
    data = _load(ctx, VERIFY_SALT, token, VERIFY_MAX_AGE)
    if not isinstance(data, dict):
        raise TokenError("invalid")
    customer = session.get(Customer, data.get("c"))
    if customer is None or customer.email != data.get("e") or customer.disabled:
        raise TokenError("invalid")
    return customer


def make_reset_token(ctx: Context, customer: Customer) -> str:
    """A password-reset token valid one hour and only while the password is unchanged."""
    return str(
        _serializer(ctx, RESET_SALT).dumps({"c": customer.id, "p": password_fingerprint(customer)})
    )


def read_reset_token(session: Session, ctx: Context, token: str) -> Customer:
    """The customer a reset token is for; TokenError invalid/expired/used (password changed)."""
    data = _load(ctx, RESET_SALT, token, RESET_MAX_AGE)
    if not isinstance(data, dict):
        raise TokenError("invalid")
    customer = session.get(Customer, data.get("c"))
    if customer is None or customer.disabled:
        raise TokenError("invalid")
    if data.get("p") != password_fingerprint(customer):
        raise TokenError("used")
    return customer


EMAIL_CHANGE_SALT = "facturo.client.email-change"
EMAIL_CHANGE_MAX_AGE = 24 * 3600


def make_email_change_token(ctx: Context, customer: Customer, new_email: str) -> str:
    """A token, sent to ``new_email``, that moves ``customer`` to it when opened (valid one
    day, and only while the account still has the address it had when asked)."""
    payload = {"c": customer.id, "o": customer.email, "n": new_email}
    return str(_serializer(ctx, EMAIL_CHANGE_SALT).dumps(payload))


def read_email_change_token(session: Session, ctx: Context, token: str) -> tuple[Customer, str]:
    """The customer and the new address of an email-change token; TokenError when forged,
    expired or stale (the address changed since)."""
    data = _load(ctx, EMAIL_CHANGE_SALT, token, EMAIL_CHANGE_MAX_AGE)
    if not isinstance(data, dict) or not isinstance(data.get("n"), str):
        raise TokenError("invalid")
    customer = session.get(Customer, data.get("c"))
    if customer is None or customer.disabled:
        raise TokenError("invalid")
    if customer.email != data.get("o"):
        raise TokenError("used")
    return customer, data["n"]
