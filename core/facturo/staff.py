"""Staff-only operations: login checks, two-factor (TOTP + recovery codes), API tokens,
customer edits, catalog changes and hand-recorded bank transfers. Every change is audited."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

import pyotp
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from facturo import audit
from facturo.accounts import find_customer, normalise_email, verify_password
from facturo.documents import BillingError
from facturo.models import (
    ApiToken,
    Customer,
    Document,
    Product,
    ProductPrice,
    Service,
    StaffUser,
)
from facturo.models.catalog import CYCLES
from facturo.money import CENT, MAX_AMOUNT
from facturo.payments import PaymentOutcome, record_payment

if TYPE_CHECKING:
    from facturo.context import Context

RECOVERY_CODES = 8
TOKEN_SCOPES = ("read", "read-write")
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
PRODUCT_FIELDS = (
    "code",
    "name_es",
    "name_en",
    "description_es",
    "description_en",
    "provisioner",
    "provisioner_options",
    "tax_category",
    "parent_id",
    "retired",
)


class StaffError(ValueError):
    """A staff operation was refused; ``field`` names the offending input when there is one."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


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
    from facturo.models.accounts import STAFF_ROLES

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


# --- API tokens -----------------------------------------------------------------------------


def token_hash(token: str) -> str:
    """How API tokens are stored: their SHA-256 in hex."""
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(
    session: Session, staff: StaffUser, name: str, scope: str, actor: str
) -> tuple[ApiToken, str]:
    """A new API token for ``staff``; return it and the secret (shown once, stored hashed)."""
    if scope not in TOKEN_SCOPES:
        raise StaffError("scope must be read or read-write", field="scope")
    if not name.strip():
        raise StaffError("give the token a name", field="name")
    secret = "fct_" + secrets.token_urlsafe(32)
    token = ApiToken(
        name=name.strip()[:100],
        token_hash=token_hash(secret),
        prefix=secret[:12],
        scope=scope,
        staff_id=staff.id,
    )
    session.add(token)
    session.flush()
    audit.record(
        session,
        actor,
        "api_token.create",
        token,
        after={"name": token.name, "scope": scope, "prefix": token.prefix},
    )
    return token, secret


def revoke_token(session: Session, ctx: Context, token: ApiToken, actor: str) -> None:
    """Revoke ``token`` (idempotent)."""
    if token.revoked_at is not None:
        return
    token.revoked_at = ctx.now()
    audit.record(
        session,
        actor,
        "api_token.revoke",
        token,
        before={"revoked": False},
        after={"revoked": True},
    )


# --- customers ------------------------------------------------------------------------------


def search_customers(ctx: Context, session: Session, query: str, limit: int = 50) -> list[Customer]:
    """Customers matching ``query`` by name, company, email, tax id, document number or
    reference, plus those found by plugins' ``customer_search`` hook."""
    text = query.strip()
    base = select(Customer).order_by(Customer.id.desc()).limit(limit)
    if not text:
        return list(session.scalars(base))
    like = f"%{text.lower()}%"
    doc_owner = select(Document.customer_id).where(
        or_(
            func.lower(Document.number) == text.lower(),
            func.lower(Document.reference) == text.lower(),
        )
    )
    found = list(
        session.scalars(
            base.where(
                or_(
                    func.lower(Customer.name).like(like),
                    func.lower(Customer.company).like(like),
                    func.lower(Customer.email).like(like),
                    func.lower(Customer.tax_id).like(like),
                    Customer.id.in_(doc_owner),
                )
            )
        )
    )
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
    session: Session, customer: Customer, values: dict[str, str], actor: str
) -> None:
    """Change a customer's contact and billing data; StaffError on bad input, no change."""
    clean = {k: (values.get(k) or "").strip() for k in CUSTOMER_FIELDS if k in values}
    if "email" in clean:
        clean["email"] = normalise_email(clean["email"])
        if "@" not in clean["email"]:
            raise StaffError("not an email address", field="email")
        other = find_customer(session, clean["email"])
        if other is not None and other.id != customer.id:
            raise StaffError("another customer has that email", field="email")
    if "name" in clean and not clean["name"]:
        raise StaffError("the name is required", field="name")
    if "language" in clean and clean["language"] not in ("es", "en"):
        raise StaffError("language must be es or en", field="language")
    if "country" in clean:
        clean["country"] = clean["country"].upper()
        if len(clean["country"]) != 2 or not clean["country"].isalpha():
            raise StaffError("country must be a two-letter code", field="country")
    before = audit.snapshot(customer, tuple(clean))
    for key, value in clean.items():
        setattr(customer, key, value)
    audit.record(session, actor, "customer.update", customer, before=before, after=clean)


def set_customer_login(session: Session, customer: Customer, disabled: bool, actor: str) -> None:
    """Disable (ending their sessions) or re-enable a customer's login."""
    before = {"disabled": customer.disabled}
    if disabled and not customer.disabled:
        customer.session_epoch += 1
    customer.disabled = disabled
    audit.record(
        session, actor, "customer.login", customer, before=before, after={"disabled": disabled}
    )


# --- catalog --------------------------------------------------------------------------------


@dataclass(frozen=True)
class PriceSpec:
    cycle: str
    amount: Decimal
    currency: str = "EUR"


def parse_money(raw: str, field: str) -> Decimal:
    """A non-negative amount with at most 2 decimals; StaffError otherwise."""
    try:
        value = Decimal(raw.strip().replace(",", "."))
    except (InvalidOperation, AttributeError):
        raise StaffError("not an amount", field=field) from None
    try:
        valid = value.is_finite() and 0 <= value <= MAX_AMOUNT and value == value.quantize(CENT)
    except InvalidOperation:  # more digits than the decimal context holds
        valid = False
    if not valid:
        raise StaffError("give an amount such as 149.00", field=field)
    return value.quantize(Decimal("0.01"))


def save_product(
    session: Session,
    product: Product | None,
    values: dict[str, Any],
    prices: list[PriceSpec],
    actor: str,
) -> Product:
    """Create (``product`` None) or update a product with its prices; StaffError on bad input."""
    code = str(values.get("code") or "").strip()
    if not code:
        raise StaffError("the code is required", field="code")
    if not str(values.get("name_es") or "").strip() or not str(values.get("name_en") or "").strip():
        raise StaffError("the name is required in both languages", field="name_es")
    clash = session.scalar(select(Product).where(Product.code == code))
    if clash is not None and (product is None or clash.id != product.id):
        raise StaffError("another product has that code", field="code")
    parent_id = values.get("parent_id")
    if parent_id is not None:
        parent = session.get(Product, parent_id)
        if parent is None or parent.parent_id is not None or (product and parent.id == product.id):
            raise StaffError("the parent must be an existing top-level product", field="parent_id")
    for price in prices:
        if price.cycle not in CYCLES:
            raise StaffError(f"unknown cycle {price.cycle}", field="prices")
    before = audit.snapshot(product, PRODUCT_FIELDS) if product is not None else None
    if before is not None and product is not None:
        before["prices"] = {p.cycle: str(p.amount) for p in product.prices}
    target = product or Product(code=code, name_es="", name_en="")
    for key in PRODUCT_FIELDS:
        if key in values:
            setattr(target, key, values[key])
    target.code = code
    wanted = {(p.cycle, p.currency): p for p in prices}
    for existing in list(target.prices):
        if (existing.cycle, existing.currency) not in wanted:
            target.prices.remove(existing)
    for (cycle, currency), spec in wanted.items():
        row = target.price_for(cycle, currency)
        if row is None:
            target.prices.append(
                ProductPrice(
                    cycle=cycle, months=CYCLES[cycle], currency=currency, amount=spec.amount
                )
            )
        else:
            row.amount = spec.amount
    if product is None:
        session.add(target)
    session.flush()
    after = audit.snapshot(target, PRODUCT_FIELDS)
    after["prices"] = {p.cycle: str(p.amount) for p in target.prices}
    audit.record(
        session,
        actor,
        "product.create" if product is None else "product.update",
        target,
        before=before,
        after=after,
    )
    return target


def product_in_use(session: Session, product: Product) -> bool:
    """True when a service, a document line or an add-on refers to ``product``."""
    if session.scalar(
        select(func.count()).select_from(Service).where(Service.product_id == product.id)
    ):
        return True
    if session.scalar(
        select(func.count()).select_from(Product).where(Product.parent_id == product.id)
    ):
        return True
    return False


def delete_product(session: Session, product: Product, actor: str) -> None:
    """Delete an unused product; StaffError when in use (retire it instead)."""
    if product_in_use(session, product):
        raise StaffError("the product is in use: retire it instead")
    audit.record(
        session, actor, "product.delete", product, before=audit.snapshot(product, PRODUCT_FIELDS)
    )
    session.delete(product)
    session.flush()


def set_retired(session: Session, product: Product, retired: bool, actor: str) -> None:
    """Retire (no new orders) or bring back a product."""
    before = {"retired": product.retired}
    product.retired = retired
    audit.record(
        session,
        actor,
        "product.retire" if retired else "product.unretire",
        product,
        before=before,
        after={"retired": retired},
    )


# --- payments -------------------------------------------------------------------------------


def record_transfer(
    session: Session,
    ctx: Context,
    document: Document,
    amount: Decimal,
    paid_on: date,
    bank_reference: str,
    actor: str,
) -> PaymentOutcome:
    """Record a bank transfer checked by hand: gateway ``transfer``, txn id = the bank
    reference; a repeat with the same reference changes nothing."""
    reference = bank_reference.strip()
    if not reference:
        raise StaffError("the bank reference is required", field="bank_reference")
    if amount <= 0:
        raise StaffError("the amount must be more than zero", field="amount")
    if paid_on > ctx.today():
        raise StaffError("the date cannot be in the future", field="paid_on")
    paid_at = datetime.combine(paid_on, time(12, 0), tzinfo=ctx.settings.zone)
    try:
        return record_payment(
            session,
            ctx,
            document,
            "transfer",
            reference,
            amount,
            document.currency,
            paid_at,
            raw={"source": "manual", "recorded_by": actor},
            actor=actor,
        )
    except BillingError as exc:
        raise StaffError(str(exc), field="amount") from exc
