"""The consumer's request for immediate supply (TRLGDCU art. 103 m), recorded with each order.

A consumer buying a licence (digital content supplied at once) keeps a 14-day right of
withdrawal unless, before ordering, they ticked a box asking for immediate supply and
acknowledging that they thereby lose that right. The box is never ticked in advance; what it
said (the text and its version) and when it was ticked are kept with the order and repeated in
the order email (the confirmation on a durable medium).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from facturo.models import Customer, Document, OrderTerms

if TYPE_CHECKING:
    from facturo.context import Context

#: The statement next to the box, per language (its version is ``[legal] consent_version``).
CONSENT_TEXT = {
    "es": (
        "Solicito que el suministro de la licencia (contenido digital) comience de inmediato, "
        "antes de que termine el plazo de desistimiento de 14 días, y reconozco que así pierdo "
        "mi derecho de desistimiento (art. 103 m del TRLGDCU)."
    ),
    "en": (
        "I ask for the licence (digital content) to be supplied immediately, before the 14-day "
        "withdrawal period ends, and I acknowledge that I thereby lose my right of withdrawal "
        "(art. 103 m of the Spanish consumer law, TRLGDCU)."
    ),
}


def consent_text(language: str) -> str:
    """The consent statement in ``language`` (Spanish unless English)."""
    return CONSENT_TEXT["en" if language == "en" else "es"]


def is_consumer(customer: Customer, treatment_code: str) -> bool:
    """A customer buying as a consumer: no company name, no tax ID other than a Spanish NIF
    (which consumers give too), and not reverse-charged as an EU business. ⚠ A sole trader
    with a Spanish NIF and no company name is taken as a consumer."""
    if customer.company.strip() or treatment_code == "eu_reverse_charge":
        return False
    return not customer.tax_id.strip() or customer.country.upper() == "ES"


@dataclass(frozen=True)
class OrderConsent:
    """What the customer answered at checkout: ``immediate_supply`` and when."""

    immediate_supply: bool
    at: datetime | None
    version: str
    statement: str
    language: str

    def email_values(self, withdrawal_days: int) -> dict[str, Any]:
        """The order email's values about consent and withdrawal."""
        return {
            "terms": {
                "immediate_supply": self.immediate_supply,
                "at": self.at,
                "version": self.version,
                "statement": self.statement,
                "days": withdrawal_days,
            }
        }


def checkout_consent(ctx: Context, customer: Customer, ticked: bool) -> OrderConsent:
    """The consent given (or not) at checkout by ``customer``, stamped now."""
    language = customer.language
    return OrderConsent(
        immediate_supply=ticked,
        at=ctx.now() if ticked else None,
        version=ctx.settings.legal.consent_version,
        statement=consent_text(language),
        language=language,
    )


def record_terms(
    session: Session, ctx: Context, document: Document, customer: Customer, consent: OrderConsent
) -> OrderTerms:
    """Keep ``consent`` with the order billed by ``document``."""
    terms = OrderTerms(
        document_id=document.id,
        customer_id=customer.id,
        immediate_supply=consent.immediate_supply,
        consent_at=consent.at,
        text_version=consent.version,
        statement=consent.statement if consent.immediate_supply else "",
        language=consent.language,
        created_at=ctx.now(),
    )
    session.add(terms)
    session.flush()
    return terms


def terms_of(session: Session, document_id: int) -> OrderTerms | None:
    """The order terms recorded with a document, if any."""
    return session.scalar(select(OrderTerms).where(OrderTerms.document_id == document_id))
