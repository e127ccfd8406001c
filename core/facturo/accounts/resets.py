"""Password-reset requests: the request path queues one event whatever the address; the worker
looks the address up and sends the link only when an active account has it. Known and unknown
addresses thus cost the same in the request (no account enumeration by timing)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from facturo.accounts.customers import find_customer
from facturo.accounts.tokens import make_reset_token
from facturo.delivery.outbox import enqueue_email, enqueue_event

if TYPE_CHECKING:
    from facturo.context import Context

EVENT = "password_reset_requested"


def request_password_reset(session: Session, ctx: Context, email: str) -> None:
    """Queue the reset request for ``email`` (already validated)."""
    enqueue_event(session, ctx, EVENT, {"email": email}, f"{EVENT}:{email}:{ctx.now().isoformat()}")


def send_password_reset(ctx: Context, session: Session, payload: dict[str, Any]) -> None:
    """The event's handler: email a one-hour, single-use reset link to an active account."""
    customer = find_customer(session, str(payload.get("email", "")))
    if customer is None or customer.disabled:
        return
    link = ctx.url(f"/client/password/reset/{make_reset_token(ctx, customer)}")
    enqueue_email(
        session,
        ctx,
        "password_reset",
        to=customer.email,
        language=customer.language,
        context={"customer": customer, "link": link},
        dedupe_key=f"password_reset:{customer.id}:{ctx.now().isoformat()}",
        customer_id=customer.id,
    )
