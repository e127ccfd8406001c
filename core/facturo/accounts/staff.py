"""Staff users: login checks, two-factor (TOTP + recovery codes), roles. Every change is
audited."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from facturo import audit
from facturo.accounts import sessions, two_factor
from facturo.accounts.customers import normalise_email
from facturo.accounts.passwords import verify_password
from facturo.errors import FacturoError
from facturo.models import (
    StaffUser,
)
from facturo.models.accounts import STAFF_ROLES

if TYPE_CHECKING:
    from facturo.context import Context


class StaffError(FacturoError):
    """A staff operation was refused; ``field`` names the offending input when there is one."""


# --- login and two-factor -------------------------------------------------------------------


def authenticate(session: Session, email: str, password: str) -> StaffUser | None:
    """The active staff user with ``email`` and ``password``, or None. Unknown and disabled
    users cost the same password check as real ones (no timing difference)."""
    staff = find_staff(session, email)
    ok = verify_password(staff.password_hash if staff is not None else "", password)
    if staff is None or staff.disabled or not ok:
        return None
    return staff


def find_staff(session: Session, email: str) -> StaffUser | None:
    """The staff user with ``email`` (case-insensitive), or None."""
    return session.scalar(
        select(StaffUser).where(func.lower(StaffUser.email) == normalise_email(email))
    )


def two_factor_required(ctx: Context, staff: StaffUser) -> bool:
    """True when ``staff`` must set up two-factor before using the staff area."""
    return staff.role == "admin" and ctx.settings.admin_two_factor_required


def enable_two_factor(
    session: Session, staff: StaffUser, secret: str, code: str, actor: str
) -> list[str]:
    """Turn on TOTP for ``staff`` when ``code`` is valid for ``secret``; return the recovery
    codes (shown once; stored hashed). StaffError when the code is wrong."""
    try:
        codes = two_factor.enable_totp(staff, secret, code)
    except ValueError:
        raise StaffError("the code is not valid", field="code") from None
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
    two_factor.disable_totp(staff)
    audit.record(
        session,
        actor,
        "staff.2fa_disable",
        staff,
        before={"two_factor": True},
        after={"two_factor": False},
    )


def check_second_factor(session: Session, staff: StaffUser, code: str) -> bool:
    """True when ``code`` is a fresh TOTP or an unused recovery code (which is spent)."""
    used = two_factor.check_code(staff, code)
    if used == "recovery":
        audit.record(
            session,
            f"staff:{staff.id}",
            "staff.recovery_code_used",
            staff,
            after={"left": len(staff.recovery_codes)},
        )
    return used is not None


# --- staff accounts -------------------------------------------------------------------------


def update_staff(
    session: Session, ctx: Context, staff: StaffUser, role: str, disabled: bool, actor: str
) -> None:
    """Change a staff user's role or disable them (ends their sessions when disabled)."""

    if role not in STAFF_ROLES:
        raise StaffError(f"role must be one of {', '.join(STAFF_ROLES)}", field="role")
    before = {"role": staff.role, "disabled": staff.disabled}
    staff.role = role
    if disabled and not staff.disabled:
        sessions.revoke_all(session, ctx, staff, "disabled")
    staff.disabled = disabled
    audit.record(
        session,
        actor,
        "staff.update",
        staff,
        before=before,
        after={"role": role, "disabled": disabled},
    )


#: Kept for callers that set up TOTP through this module.
new_totp_secret = two_factor.new_totp_secret
