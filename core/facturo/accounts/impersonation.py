"""Staff signing in as a customer to see what they see ("sign in as this customer").

The customer session it opens is marked with the staff user who opened it, lives by staff
lifetimes, is audited when it starts and ends, and cannot change the customer's password,
email address or second factors (the web guard refuses those pages).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from facturo import audit
from facturo.accounts import sessions
from facturo.accounts.staff import StaffError
from facturo.models import AuthSession, Customer, StaffUser

if TYPE_CHECKING:
    from facturo.context import Context


def impersonate(
    session: Session,
    ctx: Context,
    staff: StaffUser,
    customer: Customer,
    ip: str = "",
    user_agent: str = "",
) -> tuple[AuthSession, str]:
    """Open a customer session for ``staff`` acting as ``customer``; return the row and the
    secret for the cookie. StaffError when the customer may not log in."""
    if customer.disabled:
        raise StaffError("This customer's login is disabled: enable it first.")
    row, token = sessions.open_session(
        session, ctx, customer, True, ip=ip, user_agent=f"staff {staff.id}: {user_agent}"
    )
    row.impersonator_id = staff.id
    audit.record(
        session, f"staff:{staff.id}", "customer.impersonate", customer, after={"session": row.id}
    )
    session.flush()
    return row, token


def stop_impersonating(session: Session, ctx: Context, row: AuthSession) -> None:
    """End the session ``row`` that staff opened as a customer (audited)."""
    sessions.revoke(session, ctx, row, "staff-done")
    audit.record(
        session,
        f"staff:{row.impersonator_id}",
        "customer.impersonate_end",
        ("Customer", row.customer_id),
        after={"session": row.id},
    )
