"""Staff edits of customers: search, contact and billing data, login on or off. Audited."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from facturo import audit
from facturo.accounts import notices, sessions
from facturo.accounts.customer_search import newest_matching
from facturo.accounts.customers import find_customer
from facturo.accounts.emails import InvalidEmail, clean_email
from facturo.accounts.staff import StaffError
from facturo.models import (
    Customer,
    Document,
)

if TYPE_CHECKING:
    from facturo.context import Context

CUSTOMER_FIELDS = (
    "name",
    "company",
    "email",
    "tax_id",
    "address",
    "postal_code",
    "city",
    "region",
    "country",
    "phone",
    "language",
)


def search_customers(ctx: Context, session: Session, query: str, limit: int = 50) -> list[Customer]:
    """Customers matching ``query`` by name, company, email, tax id, document number or
    reference, plus those found by plugins' ``customer_search`` hook."""
    text = query.strip()
    if not text:
        return list(session.scalars(select(Customer).order_by(Customer.id.desc()).limit(limit)))
    # Numbers and references are written in capitals: an exact match on their unique
    # indexes (lower() on the column would read every document). Asked apart from the text
    # match, so that each query keeps its own index.
    spellings = {text, text.upper()}
    owners = select(Document.customer_id).where(
        or_(Document.number.in_(spellings), Document.reference.in_(spellings))
    )
    by_document = select(Customer).where(Customer.id.in_(owners))
    merged = {c.id: c for c in newest_matching(session, text, limit)}
    merged.update((c.id, c) for c in session.scalars(by_document))
    found = sorted(merged.values(), key=lambda customer: customer.id, reverse=True)[:limit]
    ids = {c.id for c in found}
    for hits in ctx.hook.customer_search(ctx=ctx, session=session, query=text):
        for hit in hits or []:
            if hit.customer_id not in ids:
                customer = session.get(Customer, hit.customer_id)
                if customer is not None:
                    found.append(customer)
                    ids.add(customer.id)
    return found


def update_customer(
    session: Session,
    customer: Customer,
    values: dict[str, str],
    actor: str,
    ctx: Context | None = None,
) -> None:
    """Change a customer's contact and billing data; StaffError on bad input, no change. A
    changed email address is told to the old and the new address (when ``ctx`` is given)."""
    clean = {k: (values.get(k) or "").strip() for k in CUSTOMER_FIELDS if k in values}
    if "email" in clean:
        try:
            clean["email"] = clean_email(clean["email"])
        except InvalidEmail:
            raise StaffError("Enter a valid email address.", field="email") from None
        other = find_customer(session, clean["email"])
        if other is not None and other.id != customer.id:
            raise StaffError("Another customer has that email address.", field="email")
    if "name" in clean and not clean["name"]:
        raise StaffError("The name is required.", field="name")
    if "language" in clean and clean["language"] not in ("es", "en"):
        raise StaffError("Choose Spanish (es) or English (en).", field="language")
    if "country" in clean:
        clean["country"] = clean["country"].upper()
        if len(clean["country"]) != 2 or not clean["country"].isalpha():
            raise StaffError("Enter the country as a two-letter code (ES, FR…).", field="country")
    before = audit.snapshot(customer, tuple(clean))
    old_email = customer.email
    for key, value in clean.items():
        setattr(customer, key, value)
    audit.record(session, actor, "customer.update", customer, before=before, after=clean)
    if ctx is not None and customer.email != old_email:
        details = {"old_email": old_email, "new_email": customer.email}
        when = ctx.now().isoformat()
        notices.notify(
            session, ctx, customer, "email_changed", details, to=old_email, key=f"{when}:old"
        )
        notices.notify(session, ctx, customer, "email_changed", details, key=f"{when}:new")


def set_customer_login(
    session: Session, ctx: Context, customer: Customer, disabled: bool, actor: str
) -> None:
    """Disable (ending their sessions) or re-enable a customer's login."""
    before = {"disabled": customer.disabled}
    if disabled and not customer.disabled:
        sessions.revoke_all(session, ctx, customer, "disabled")
    customer.disabled = disabled
    audit.record(
        session, actor, "customer.login", customer, before=before, after={"disabled": disabled}
    )
