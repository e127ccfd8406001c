"""Security emails: the owner of an account hears of every change that matters — password
changed, a second factor added or removed, a sign-in from a device not seen before, the email
address changed (to the old and the new address), logins locked after repeated failures.

Each is queued in the outbox inside the transaction that makes the change (so it is sent
exactly when the change commits) and rendered from ``email/<lang>/security_notice.*``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from facturo.delivery.outbox import enqueue_email
from facturo.models import Customer, StaffUser

if TYPE_CHECKING:
    from facturo.context import Context

Person = Customer | StaffUser
EVENTS = (
    "password_changed",
    "factor_added",
    "factor_removed",
    "recovery_codes_renewed",
    "new_signin",
    "email_changed",
    "login_locked",
)
STAFF_LANGUAGE = "es"


def language_of(person: Person) -> str:
    """The language of ``person``'s emails (staff have none of their own: Spanish)."""
    return getattr(person, "language", None) or STAFF_LANGUAGE


def notify(
    session: Session,
    ctx: Context,
    person: Person,
    event: str,
    details: dict[str, Any] | None = None,
    to: str | None = None,
    key: str = "",
) -> bool:
    """Queue the security notice ``event`` for ``person`` (to ``to``, default their address);
    ``details`` fill the message (factor name, device, address…). ``key`` makes a repeat of
    the same notice a no-op (default: one per event and instant)."""
    if event not in EVENTS:
        raise ValueError(f"unknown security notice {event!r}")
    kind = "staff" if isinstance(person, StaffUser) else "customer"
    address = to or person.email
    return enqueue_email(
        session,
        ctx,
        "security_notice",
        to=address,
        language=language_of(person),
        context={
            "person": person,
            "event": event,
            "details": details or {},
            "when": ctx.now().astimezone(ctx.settings.zone).strftime("%Y-%m-%d %H:%M"),
            "account_url": ctx.url("/admin/account" if kind == "staff" else "/client/security"),
        },
        dedupe_key=f"security:{kind}:{person.id}:{event}:{key or ctx.now().isoformat()}:{address}",
        customer_id=person.id if kind == "customer" else None,
    )


def account_exists(session: Session, ctx: Context, customer: Customer) -> None:
    """Tell ``customer`` that someone tried to use their address for another account (the page
    answers as if it were free, so no one learns who has an account)."""
    enqueue_email(
        session,
        ctx,
        "account_exists",
        to=customer.email,
        language=customer.language,
        context={"customer": customer},
        dedupe_key=f"account_exists:{customer.id}:{ctx.now().isoformat()}",
        customer_id=customer.id,
    )
