"""Mandates: signed by business customers in the client area, listed and revoked.

Domain logic only (no HTTP). ``sign_mandate`` checks every field first and raises
MandateError with one message per field, writing nothing.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from facturo.plugin import Context, Customer, audit_record

from .models import SCHEMES, Mandate
from .settings import clean_bic, clean_iban


@dataclass
class MandateError(Exception):
    """Field name → message (English msgids, translated by the page)."""

    errors: dict[str, str] = field(default_factory=dict)


def is_business(customer: Customer) -> bool:
    """Mandates are for business customers: those with a company name and a tax id."""
    return bool(customer.company.strip() and customer.tax_id.strip())


def customer_mandates(session: Session, customer_id: int) -> list[Mandate]:
    """The customer's mandates, newest first."""
    query = select(Mandate).where(Mandate.customer_id == customer_id).order_by(Mandate.id.desc())
    return list(session.scalars(query))


def active_mandate(session: Session, customer_id: int) -> Mandate | None:
    """The customer's newest active mandate, if any."""
    query = (
        select(Mandate)
        .where(Mandate.customer_id == customer_id, Mandate.status == "active")
        .order_by(Mandate.id.desc())
        .limit(1)
    )
    return session.scalars(query).first()


def _validate(customer: Customer, form: Mapping[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    errors: dict[str, str] = {}
    values: dict[str, str] = {}
    if not is_business(customer):
        errors["form"] = (
            "Direct debit is for business customers: add your company name and tax id to your details first."
        )
    name = " ".join(form.get("debtor_name", "").split())
    if not name:
        errors["debtor_name"] = "Enter the account holder's name."
    elif len(name) > 70:
        errors["debtor_name"] = "The account holder's name may have at most 70 characters."
    values["debtor_name"] = name
    try:
        iban = clean_iban(form.get("iban", ""))
        from schwifty import IBAN

        if not IBAN(iban).in_sepa_zone:
            errors["iban"] = "This account is outside the SEPA area."
        values["iban"] = iban
    except ValueError:
        errors["iban"] = "Enter a valid IBAN."
    bic = form.get("bic", "").strip()
    if bic:
        try:
            values["bic"] = clean_bic(bic)
        except ValueError:
            errors["bic"] = "Enter a valid BIC, or leave it empty."
    else:
        values["bic"] = ""
    scheme = form.get("scheme", "")
    if scheme not in SCHEMES:
        errors["scheme"] = "Choose the scheme: Core or B2B."
    values["scheme"] = scheme
    if form.get("accept") != "yes":
        errors["accept"] = "Tick the box to authorise the direct debits."
    return errors, values


def sign_mandate(
    session: Session, ctx: Context, customer: Customer, form: Mapping[str, str]
) -> Mandate:
    """Create an active mandate signed today with a new unique reference."""
    errors, values = _validate(customer, form)
    if errors:
        raise MandateError(errors)
    mandate = Mandate(
        customer_id=customer.id,
        reference=f"FAC-{customer.id:06d}-{secrets.token_hex(5).upper()}",
        debtor_name=values["debtor_name"],
        iban=values["iban"],
        bic=values["bic"],
        scheme=values["scheme"],
        signed_on=ctx.today(),
        status="active",
        created_at=ctx.now(),
    )
    session.add(mandate)
    session.flush()  # the unique reference is checked now
    audit_record(
        session,
        f"customer:{customer.id}",
        "sepa.mandate_signed",
        mandate,
        after={"reference": mandate.reference, "scheme": mandate.scheme},
    )
    return mandate


def revoke_mandate(session: Session, ctx: Context, mandate: Mandate, actor: str) -> bool:
    """Revoke an active mandate (one conditional UPDATE); False when it was not active."""
    from sqlalchemy import update

    done = session.execute(
        update(Mandate)
        .where(Mandate.id == mandate.id, Mandate.status == "active")
        .values(status="revoked", revoked_at=ctx.now())
    )
    changed = bool(getattr(done, "rowcount", 0))
    if changed:
        session.refresh(mandate)
        audit_record(session, actor, "sepa.mandate_revoked", mandate, after={"status": "revoked"})
    return changed
