"""A customer changes their email address: asked from the account page (with the password),
confirmed through a link sent to the new address; both addresses are told."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from facturo import audit
from facturo.accounts import notices
from facturo.accounts.customers import AccountError, find_customer
from facturo.accounts.emails import InvalidEmail, clean_email
from facturo.accounts.tokens import make_email_change_token
from facturo.delivery.outbox import enqueue_email
from facturo.models import Customer

if TYPE_CHECKING:
    from facturo.context import Context


def request_change(session: Session, ctx: Context, customer: Customer, raw_email: str) -> str:
    """Send a confirmation link to the new address; return it (normalised). AccountError when
    the address is invalid or the current one. A taken address gets the same answer, and its
    owner is told instead (no one learns who has an account)."""
    try:
        new_email = clean_email(raw_email)
    except InvalidEmail as exc:
        raise AccountError(str(exc), field="new_email") from None
    if new_email == customer.email:
        raise AccountError("This is already your email address.", field="new_email")
    owner = find_customer(session, new_email)
    if owner is not None:
        notices.account_exists(session, ctx, owner)
        return new_email
    link = ctx.url(f"/client/account/email/{make_email_change_token(ctx, customer, new_email)}")
    enqueue_email(
        session,
        ctx,
        "email_change_confirm",
        to=new_email,
        language=customer.language,
        context={"customer": customer, "link": link, "new_email": new_email},
        dedupe_key=f"email_change:{customer.id}:{new_email}:{ctx.now().isoformat()}",
        customer_id=customer.id,
    )
    audit.record(
        session,
        f"customer:{customer.id}",
        "customer.email_change_requested",
        customer,
        after={"new_email": new_email},
    )
    return new_email


def confirm_change(session: Session, ctx: Context, customer: Customer, new_email: str) -> None:
    """Move ``customer`` to ``new_email`` (proved by the link); tell the old and the new
    address. AccountError when another account took the address meanwhile."""
    other = find_customer(session, new_email)
    if other is not None and other.id != customer.id:
        raise AccountError("This email is already registered.", field="email")
    old = customer.email
    customer.email = new_email
    customer.email_verified_at = ctx.now()
    details = {"old_email": old, "new_email": new_email}
    when = ctx.now().isoformat()
    notices.notify(session, ctx, customer, "email_changed", details, to=old, key=f"{when}:old")
    notices.notify(
        session, ctx, customer, "email_changed", details, to=new_email, key=f"{when}:new"
    )
    audit.record(
        session,
        f"customer:{customer.id}",
        "customer.email_change",
        customer,
        before={"email": old},
        after={"email": new_email},
    )
