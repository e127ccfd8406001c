"""What the SEPA plugin shows on other pages: the staff customer panel and the payment
option of a proforma."""

from __future__ import annotations

from markupsafe import escape
from sqlalchemy.orm import Session

from facturo.plugin import Context, Customer, Document, Panel, PaymentOption

from .mandates import active_mandate, customer_mandates
from .models import Mandate

TITLE = {"es": "Adeudo directo SEPA", "en": "SEPA direct debit"}
STATUS = {
    "es": {"active": "Activo", "revoked": "Revocado"},
    "en": {"active": "Active", "revoked": "Revoked"},
}


def _lang(language: str) -> str:
    return language if language in ("es", "en") else "es"


def _mandate_row(ctx: Context, mandate: Mandate, language: str) -> str:
    status = STATUS[_lang(language)].get(mandate.status, mandate.status)
    signed = ctx.templates.filters["date"](mandate.signed_on, _lang(language))
    return (
        f"<li><code>{escape(mandate.reference)}</code> · {escape(mandate.scheme)} · "
        f"{escape(mandate.masked_iban)} · {escape(mandate.debtor_name)} · "
        f"{escape(signed)} · {escape(status)}</li>"
    )


def customer_panel(ctx: Context, session: Session, customer: Customer, language: str) -> Panel:
    """The customer's mandates, for staff."""
    mandates = customer_mandates(session, customer.id)
    if not mandates:
        empty = "Sin mandatos." if _lang(language) == "es" else "No mandates."
        return Panel(TITLE, f'<p class="muted">{empty}</p>', order=70)
    rows = "".join(_mandate_row(ctx, m, language) for m in mandates)
    return Panel(TITLE, f"<ul>{rows}</ul>", order=70)


def payment_option(ctx: Context, document: Document, language: str) -> PaymentOption | None:
    """For a customer with an active mandate: the proforma will be debited."""
    with ctx.db.read_session() as session:
        mandate = active_mandate(session, document.customer_id)
        if mandate is None or document.currency != "EUR":
            return None
        gettext = ctx.translations(_lang(language)).gettext
        text = gettext(
            "This proforma will be collected by SEPA direct debit from %(iban)s "
            "(mandate %(reference)s). We email you before the collection."
        ) % {"iban": mandate.masked_iban, "reference": mandate.reference}
    html = f"<p>{escape(text)}</p>"
    return PaymentOption("sepa", TITLE, html, pdf_html=html, order=20)
