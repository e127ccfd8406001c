"""The VIES proof on the staff customer page and the staff document page."""

from __future__ import annotations

from datetime import datetime, tzinfo

from markupsafe import escape
from sqlalchemy import select
from sqlalchemy.orm import Session

from facturo.plugin import Context, Customer, Document, Panel, TaxEvidence

from .models import Consultation
from .protocol import split_number
from .service import active_override, latest_consultations

TITLE = {"es": "VIES (NIF-IVA)", "en": "VIES (VAT number)"}
STATUS = {
    "valid": "válido / valid",
    "invalid": "no válido / invalid",
    "unavailable": "sin respuesta / no answer",
    "error": "error",
    "unknown": "sin respuesta / no answer",
}


def _when(moment: datetime | None, zone: tzinfo) -> str:
    return moment.astimezone(zone).strftime("%d/%m/%Y %H:%M") if moment else ""


def consultation_row(consultation: Consultation, zone: tzinfo) -> str:
    """One consultation as a table row."""
    status = STATUS.get(consultation.status, consultation.status)
    detail = consultation.fault_code or consultation.trader_name
    return (
        f"<tr><td>{escape(_when(consultation.checked_at, zone))}</td><td>{escape(consultation.full_number)}</td>"
        f"<td>{escape(status)}</td><td>{escape(consultation.request_identifier)}</td>"
        f"<td>{escape(detail)}</td></tr>"
    )


def table(consultations: list[Consultation], zone: tzinfo) -> str:
    """Consultations as a table (date, number, result, consultation number, name or fault)."""
    head = (
        "<tr><th>Fecha / Date</th><th>NIF-IVA / VAT no.</th><th>Resultado / Result</th>"
        "<th>Nº consulta / Consultation no.</th><th>Nombre o error / Name or fault</th></tr>"
    )
    rows = "".join(consultation_row(c, zone) for c in consultations)
    return f'<div class="table-wrap"><table>{head}{rows}</table></div>'


def customer_panel(ctx: Context, session: Session, customer: Customer) -> Panel | None:
    """The latest consultations of the customer's VAT number and any override."""
    if not customer.tax_id or customer.country.upper() == "ES":
        return None
    country, number = split_number(customer.country, customer.tax_id)
    consultations = latest_consultations(session, country, number, limit=5)
    override = active_override(session, country, number)
    parts = []
    if override is not None:
        parts.append(
            f"<p><strong>Excepción / Override #{override.id}: "
            f"{escape(STATUS[override.decision])}</strong> — {escape(override.reason)}</p>"
        )
    zone = ctx.settings.zone
    parts.append(
        table(consultations, zone) if consultations else "<p>Sin consultas / No checks</p>"
    )
    parts.append(
        f'<p><a href="/admin/vies/customers/{customer.id}">'
        "Prueba, nueva consulta y excepción / Proof, check again and override</a></p>"
    )
    return Panel(title=TITLE, html="".join(parts), order=30)


def document_panel(ctx: Context, session: Session, document: Document) -> Panel | None:
    """The check the document's VAT was decided with, and that consultation's proof."""
    evidence = session.scalar(select(TaxEvidence).where(TaxEvidence.document_id == document.id))
    if evidence is None or not evidence.vat_status:
        return None
    consultation = None
    if evidence.vat_source == "vies" and evidence.vat_reference:
        consultation = session.scalar(
            select(Consultation)
            .where(Consultation.request_identifier == evidence.vat_reference)
            .limit(1)
        )
    when = _when(evidence.vat_checked_at, ctx.settings.zone)
    parts = [
        "<dl>",
        f"<dt>NIF-IVA / VAT no.</dt><dd>{escape(evidence.vat_number)}</dd>",
        f"<dt>Resultado / Result</dt><dd>{escape(STATUS.get(evidence.vat_status, ''))}"
        f" ({escape(evidence.vat_source)})</dd>",
        f"<dt>Nº consulta / Consultation no.</dt><dd>{escape(evidence.vat_reference)}</dd>",
        f"<dt>Fecha / Date</dt><dd>{escape(when)}</dd>",
    ]
    if evidence.vat_detail:
        parts.append(f"<dt>Detalle / Detail</dt><dd>{escape(evidence.vat_detail)}</dd>")
    parts.append("</dl>")
    if consultation is not None:
        parts.append(table([consultation], ctx.settings.zone))
    parts.append(
        f'<p><a href="/admin/vies/customers/{document.customer_id}">'
        "Prueba, nueva consulta y excepción / Proof, check again and override</a></p>"
    )
    return Panel(title=TITLE, html="".join(parts), order=30)
