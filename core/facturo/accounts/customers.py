"""Customer and staff accounts: creation, passwords (argon2id), email verification."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from facturo import audit
from facturo.delivery.outbox import enqueue_event
from facturo.models import Customer, StaffUser
from facturo.models.accounts import STAFF_ROLES

if TYPE_CHECKING:
    from facturo.context import Context

_hasher = PasswordHasher()
MIN_PASSWORD_LENGTH = 10
COMMON_PASSWORDS_FILE = Path(__file__).resolve().parent.parent / "data" / "common_passwords.txt"
_common: frozenset[str] | None = None


class AccountError(ValueError):
    """An account operation was refused; ``field`` names the offending input, if any."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def hash_password(password: str) -> str:
    """An argon2id hash of ``password``."""
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True when ``password`` matches ``password_hash`` (False for an empty or bad hash)."""
    if not password_hash:
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def common_passwords() -> frozenset[str]:
    """The list of common passwords that are refused (lowercase)."""
    global _common
    if _common is None:
        text = (
            COMMON_PASSWORDS_FILE.read_text(encoding="utf-8")
            if COMMON_PASSWORDS_FILE.exists()
            else ""
        )
        _common = frozenset(line.strip().lower() for line in text.splitlines() if line.strip())
    return _common


def password_problem(password: str, email: str = "") -> str | None:
    """Why ``password`` is refused, or None when it is acceptable."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"Use at least {MIN_PASSWORD_LENGTH} characters."
    lowered = password.lower()
    if lowered in common_passwords() or (email and lowered == email.lower()):
        return "This password is too common; choose another."
    if len(set(password)) < 4:
        return "This password is too easy to guess; choose another."
    return None


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
    """Create a customer; raise AccountError when the email is taken or the password weak."""
    email = normalise_email(data.email)
    if find_customer(session, email) is not None:
        raise AccountError("This email is already registered.", field="email")
    problem = password_problem(data.password, email)
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


def set_customer_password(session: Session, customer: Customer, password: str, actor: str) -> None:
    """Change a customer's password and end their other sessions; AccountError if weak."""
    problem = password_problem(password, customer.email)
    if problem:
        raise AccountError(problem, field="password")
    customer.password_hash = hash_password(password)
    customer.session_epoch += 1
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
    email = normalise_email(email)
    if "@" not in email:
        raise AccountError("not an email address", field="email")
    if session.scalar(select(StaffUser).where(func.lower(StaffUser.email) == email)) is not None:
        raise AccountError(f"a staff user with email {email} already exists", field="email")
    secret = password or secrets.token_urlsafe(12)
    problem = password_problem(secret, email)
    if problem:
        raise AccountError(problem, field="password")
    staff = StaffUser(
        email=email, name=name, role=role, password_hash=hash_password(secret), recovery_codes=[]
    )
    session.add(staff)
    session.flush()
    audit.record(session, actor, "staff.create", staff, after={"email": email, "role": role})
    return staff, secret
