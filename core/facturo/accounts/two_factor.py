"""Second factors by code: TOTP (RFC 6238) and one-time recovery codes, for customers and staff.

A code is accepted once: the last TOTP time step used is stored, so a code seen over someone's
shoulder cannot be replayed within its window; recovery codes are stored hashed and spent.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from typing import TYPE_CHECKING

import pyotp
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from facturo.models import Customer, Passkey, StaffUser

if TYPE_CHECKING:
    from facturo.context import Context

Person = Customer | StaffUser
RECOVERY_CODES = 8
STEP_SECONDS = 30


def new_totp_secret() -> str:
    """A fresh base32 TOTP secret."""
    return pyotp.random_base32()


def totp_uri(ctx: Context, email: str, secret: str) -> str:
    """The otpauth:// URI an authenticator app reads."""
    return pyotp.TOTP(secret).provisioning_uri(
        name=email, issuer_name=ctx.settings.seller.legal_name
    )


def code_hash(code: str) -> str:
    """How recovery codes are stored (case, spaces and dashes do not matter)."""
    normal = code.strip().lower().replace("-", "").replace(" ", "")
    return hashlib.sha256(normal.encode()).hexdigest()


def _matching_step(secret: str, code: str, at: float) -> int | None:
    """The time step (±1) at which ``code`` is the TOTP of ``secret``, or None."""
    clean = code.strip().replace(" ", "")
    if not clean.isdigit() or len(clean) != 6:
        return None
    totp = pyotp.TOTP(secret)
    now_step = int(at // STEP_SECONDS)
    for step in (now_step - 1, now_step, now_step + 1):
        if secrets.compare_digest(totp.at(step * STEP_SECONDS), clean):
            return step
    return None


def new_recovery_codes() -> list[str]:
    """Fresh recovery codes, shown once (e.g. ``3f9a1-c27b0``)."""
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = secrets.token_hex(5)
        codes.append(f"{raw[:5]}-{raw[5:]}")
    return codes


def enable_totp(person: Person, secret: str, code: str, at: float | None = None) -> list[str]:
    """Store ``secret`` for ``person`` when ``code`` proves their authenticator holds it, with
    fresh recovery codes (returned, shown once); ValueError when the code is wrong."""
    step = _matching_step(secret, code, time.time() if at is None else at)
    if step is None:
        raise ValueError("the code is not valid")
    codes = new_recovery_codes()
    person.totp_secret = secret
    person.totp_last_step = step
    person.recovery_codes = [code_hash(c) for c in codes]
    return codes


def disable_totp(person: Person) -> None:
    """Remove TOTP and the recovery codes from ``person``."""
    person.totp_secret = None
    person.totp_last_step = 0
    person.recovery_codes = []


def regenerate_recovery_codes(person: Person) -> list[str]:
    """Replace ``person``'s recovery codes (the old ones stop working); return the new ones."""
    codes = new_recovery_codes()
    person.recovery_codes = [code_hash(c) for c in codes]
    return codes


def check_code(person: Person, code: str, at: float | None = None) -> str | None:
    """Check a second-factor ``code``: ``"totp"`` for a fresh TOTP (its step is then used up),
    ``"recovery"`` for an unused recovery code (now spent), None otherwise."""
    if not code.strip():
        return None
    if person.totp_secret:
        step = _matching_step(person.totp_secret, code, time.time() if at is None else at)
        if step is not None and step > (person.totp_last_step or 0):
            person.totp_last_step = step
            return "totp"
    hashed = code_hash(code)
    stored = list(person.recovery_codes or [])
    if hashed in stored:
        person.recovery_codes = [c for c in stored if c != hashed]
        return "recovery"
    return None


def passkey_count(session: Session, person: Person) -> int:
    """How many passkeys ``person`` has registered."""
    column = Passkey.staff_id if isinstance(person, StaffUser) else Passkey.customer_id
    return int(session.scalar(select(func.count()).where(column == person.id)) or 0)


def has_second_factor(session: Session, person: Person) -> bool:
    """True when ``person`` has TOTP or at least one passkey."""
    return bool(person.totp_secret) or passkey_count(session, person) > 0
