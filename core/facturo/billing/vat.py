"""The VAT treatment of a customer, with the online check of an EU VAT number as its proof.

Reverse charge needs a VAT number that a ``check_vat_number`` plugin (VIES) confirmed valid;
when the service cannot answer ("unknown") the customer is charged VAT like a consumer until a
later check says otherwise. With no plugin answering, the format check alone decides.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from facturo.billing.taxes import EU_COUNTRIES, TaxTreatment, treatment_for, valid_eu_vat_number
from facturo.contributions import VatCheck

if TYPE_CHECKING:
    from facturo.context import Context
    from facturo.models import Customer


def checkable(country: str, tax_id: str) -> bool:
    """True when ``tax_id`` is an EU VAT number valid in format outside Spain: the only kind
    :func:`vat_check` asks the plugins about (for any other the treatment needs no session)."""
    country = country.upper()
    return (
        bool(tax_id)
        and country != "ES"
        and country in EU_COUNTRIES
        and valid_eu_vat_number(country, tax_id)
    )


def vat_check(ctx: Context, session: Session | None, country: str, tax_id: str) -> VatCheck | None:
    """Ask the ``check_vat_number`` plugins about an EU VAT number valid in format; None when
    nothing needs checking (no number, Spain, outside the EU) or no plugin answers."""
    if not checkable(country, tax_id):
        return None
    answer = ctx.hook.check_vat_number(ctx=ctx, session=session, country=country, number=tax_id)
    if answer is None or isinstance(answer, VatCheck):
        return answer
    return VatCheck("valid" if answer else "invalid", source="plugin")


def treatment_of(
    ctx: Context,
    country: str,
    tax_id: str,
    postal_code: str,
    on: date,
    session: Session | None = None,
) -> TaxTreatment:
    """The VAT treatment of a customer given by its address data, with the check behind it."""
    check = vat_check(ctx, session, country, tax_id)
    vies = None if check is None else check.status == "valid"
    return replace(treatment_for(country, tax_id, postal_code, on, vies), vat_check=check)


def customer_treatment(
    ctx: Context, customer: Customer, on: date, session: Session | None = None
) -> TaxTreatment:
    """The VAT treatment of ``customer`` on ``on`` (see :func:`treatment_of`)."""
    return treatment_of(ctx, customer.country, customer.tax_id, customer.postal_code, on, session)


def legends_of(treatment: TaxTreatment, tax_id: str = "") -> list[str]:
    """The legends a document with ``treatment`` prints: the legal mention and, for reverse
    charge, the proof that the customer's VAT number was checked."""
    legends = [treatment.legend] if treatment.legend else []
    check = treatment.vat_check
    if treatment.code == "eu_reverse_charge" and check is not None and check.status == "valid":
        when = check.checked_at.strftime("%d/%m/%Y") if check.checked_at else ""
        if check.source == "override":
            legends.append(
                f"NIF-IVA {tax_id}: aceptado tras revisión del vendedor nº {check.reference} "
                f"({when}) / VAT number accepted after the seller's review no. {check.reference}"
            )
        else:
            legends.append(
                f"NIF-IVA {tax_id} válido en VIES el {when}, consulta nº {check.reference} / "
                f"VAT number valid in VIES on {when}, consultation no. {check.reference}"
            )
    return legends
