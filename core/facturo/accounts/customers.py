"""Customer and staff accounts: creation, passwords (argon2id), email verification."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from facturo import audit
from facturo.accounts import sessions
from facturo.accounts.emails import InvalidEmail, clean_email
from facturo.accounts.passwords import (
    DEFAULT_MIN_SCORE,
    MIN_PASSWORD_LENGTH,
    hash_password,
    verify_password,
    weakness,
)
from facturo.delivery.outbox import enqueue_event
from facturo.errors import FacturoError
from facturo.models import Customer, StaffUser
from facturo.models.accounts import STAFF_ROLES

if TYPE_CHECKING:
    from facturo.context import Context

# Re-exported: callers have long imported the password helpers from here.
__all__ = [
    "MIN_PASSWORD_LENGTH",
    "AccountError",
    "NewCustomer",
    "create_customer",
    "create_staff",
    "find_customer",
    "hash_password",
    "normalise_email",
    "password_problem",
    "set_customer_password",
    "verify_password",
]


class AccountError(FacturoError, ValueError):
    """An account operation was refused; ``field`` names the offending input, if any."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message, field)


def password_problem(
    password: str, email: str = "", name: str = "", min_score: int = DEFAULT_MIN_SCORE
) -> str | None:
    """Why ``password`` is refused (English, each reason a sentence), or None. Web pages use
    ``passwords.weakness`` and ``passwords.explain`` to show it in the reader's language."""
    problem = weakness(password, (email, name), min_score)
    return " ".join(problem) if problem else None


def normalise_email(email: str) -> str:
    """Trim and lowercase an email address."""
    return email.strip().lower()


def find_customer(session: Session, email: str) -> Customer | None:
    """The customer with ``email`` (case-insensitive), or None."""
    return session.scalar(
        select(Customer).where(func.lower(Customer.email) == normalise_email(email))
    )


@dataclass
class NewCustomer:
    email: str
    password: str
    name: str
    country: str
    language: str = "es"
    company: str = ""
    tax_id: str = ""
    address: str = ""
    postal_code: str = ""
    city: str = ""
    region: str = ""
    phone: str = ""


def create_customer(
    session: Session, ctx: Context, data: NewCustomer, verified: bool = False, actor: str = "system"
) -> Customer:
    """Create a customer; raise AccountError when the email is invalid or taken or the
    password weak."""
    try:
        email = clean_email(data.email)
    except InvalidEmail as exc:
        raise AccountError(str(exc), field="email") from None
    if find_customer(session, email) is not None:
        raise AccountError("This email is already registered.", field="email")
    problem = password_problem(
        data.password, email, data.name, ctx.settings.security.password_min_score
    )
    if problem:
        raise AccountError(problem, field="password")
    customer = Customer(
        email=email,
        password_hash=hash_password(data.password),
        name=data.name.strip(),
        company=data.company.strip(),
        tax_id=data.tax_id.strip().upper(),
        address=data.address.strip(),
        postal_code=data.postal_code.strip(),
        city=data.city.strip(),
        region=data.region.strip(),
        country=data.country.strip().upper(),
        phone=data.phone.strip(),
        language=data.language if data.language in ("es", "en") else "es",
        email_verified_at=ctx.now() if verified else None,
    )
    session.add(customer)
    session.flush()
    audit.record(session, actor, "customer.create", customer, after={"email": email})
    enqueue_event(
        session,
        ctx,
        "customer_registered",
        {"customer_id": customer.id},
        f"customer_registered:{customer.id}",
    )
    return customer


def set_customer_password(
    session: Session,
    ctx: Context,
    customer: Customer,
    password: str,
    actor: str,
    keep_session: int | None = None,
) -> None:
    """Change a customer's password and end their sessions but ``keep_session``; AccountError
    if weak."""
    problem = password_problem(
        password, customer.email, customer.name, ctx.settings.security.password_min_score
    )
    if problem:
        raise AccountError(problem, field="password")
    customer.password_hash = hash_password(password)
    sessions.revoke_all(session, ctx, customer, "password", keep=keep_session)
    audit.record(session, actor, "customer.password", customer)


def create_staff(
    session: Session,
    email: str,
    name: str,
    role: str,
    password: str | None = None,
    actor: str = "system",
) -> tuple[StaffUser, str]:
    """Create a staff user; return it and its password (generated when not given)."""
    if role not in STAFF_ROLES:
        raise AccountError(f"role must be one of {', '.join(STAFF_ROLES)}", field="role")
    try:
        email = clean_email(email)
    except InvalidEmail as exc:
        raise AccountError(str(exc), field="email") from None
    if session.scalar(select(StaffUser).where(func.lower(StaffUser.email) == email)) is not None:
        raise AccountError(f"a staff user with email {email} already exists", field="email")
    secret = password or secrets.token_urlsafe(12)
    problem = password_problem(secret, email, name)
    if problem:
        raise AccountError(problem, field="password")
    staff = StaffUser(
        email=email, name=name, role=role, password_hash=hash_password(secret), recovery_codes=[]
    )
    session.add(staff)
    session.flush()
    audit.record(session, actor, "staff.create", staff, after={"email": email, "role": role})
    return staff, secret
