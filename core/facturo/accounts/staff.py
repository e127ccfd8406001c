"""Staff users: login checks, two-factor (TOTP + recovery codes), roles. Every change is
audited."""

from __future__ import annotations

import hashlib
import secrets
from typing import TYPE_CHECKING

import pyotp
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from facturo import audit
from facturo.accounts.customers import normalise_email, verify_password
from facturo.errors import FacturoError
from facturo.models import (
    StaffUser,
)
from facturo.models.accounts import STAFF_ROLES

if TYPE_CHECKING:
    from facturo.context import Context

RECOVERY_CODES = 8


class StaffError(FacturoError):
    """A staff operation was refused; ``field`` names the offending input when there is one."""


# --- login and two-factor -------------------------------------------------------------------


def authenticate(session: Session, email: str, password: str) -> StaffUser | None:
    """The active staff user with ``email`` and ``password``, or None."""
    staff = session.scalar(
        select(StaffUser).where(func.lower(StaffUser.email) == normalise_email(email))
    )
    if staff is None or staff.disabled or not verify_password(staff.password_hash, password):
        return None
    return staff


def two_factor_required(ctx: Context, staff: StaffUser) -> bool:
    """True when ``staff`` must set up two-factor before using the staff area."""
    return staff.role == "admin" and ctx.settings.admin_two_factor_required


def new_totp_secret() -> str:
    """A fresh base32 TOTP secret."""
    return pyotp.random_base32()


def totp_uri(ctx: Context, staff: StaffUser, secret: str) -> str:
    """The otpauth:// URI an authenticator app reads."""
    return pyotp.TOTP(secret).provisioning_uri(
        name=staff.email, issuer_name=ctx.settings.seller.legal_name
    )


def _code_hash(code: str) -> str:
    return hashlib.sha256(code.strip().lower().replace("-", "").encode()).hexdigest()


def enable_two_factor(
    session: Session, staff: StaffUser, secret: str, code: str, actor: str
) -> list[str]:
    """Turn on TOTP for ``staff`` when ``code`` is valid for ``secret``; return the recovery
    codes (shown once; stored hashed). StaffError when the code is wrong."""
    if not pyotp.TOTP(secret).verify(code.strip(), valid_window=1):
        raise StaffError("the code is not valid", field="code")
    codes = [secrets.token_hex(5) for _ in range(RECOVERY_CODES)]
    staff.totp_secret = secret
    staff.recovery_codes = [_code_hash(c) for c in codes]
    audit.record(
        session,
        actor,
        "staff.2fa_enable",
        staff,
        before={"two_factor": False},
        after={"two_factor": True},
    )
    return codes


def disable_two_factor(session: Session, staff: StaffUser, actor: str) -> None:
    """Turn off TOTP for ``staff`` (an admin action, or the user's own)."""
    staff.totp_secret = None
    staff.recovery_codes = []
    audit.record(
        session,
        actor,
        "staff.2fa_disable",
        staff,
        before={"two_factor": True},
        after={"two_factor": False},
    )


def check_second_factor(session: Session, staff: StaffUser, code: str) -> bool:
    """True when ``code`` is the current TOTP or an unused recovery code (which is spent)."""
    if not staff.totp_secret or not code.strip():
        return False
    if pyotp.TOTP(staff.totp_secret).verify(code.strip(), valid_window=1):
        return True
    hashed = _code_hash(code)
    if hashed in (staff.recovery_codes or []):
        staff.recovery_codes = [c for c in staff.recovery_codes if c != hashed]
        audit.record(
            session,
            f"staff:{staff.id}",
            "staff.recovery_code_used",
            staff,
            after={"left": len(staff.recovery_codes)},
        )
        return True
    return False


# --- staff accounts -------------------------------------------------------------------------


def update_staff(session: Session, staff: StaffUser, role: str, disabled: bool, actor: str) -> None:
    """Change a staff user's role or disable them (ends their sessions when disabled)."""

    if role not in STAFF_ROLES:
        raise StaffError(f"role must be one of {', '.join(STAFF_ROLES)}", field="role")
    before = {"role": staff.role, "disabled": staff.disabled}
    staff.role = role
    if disabled and not staff.disabled:
        staff.session_epoch += 1
    staff.disabled = disabled
    audit.record(
        session,
        actor,
        "staff.update",
        staff,
        before=before,
        after={"role": role, "disabled": disabled},
    )
