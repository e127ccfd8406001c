"""The default document renderer: Jinja2 HTML turned into PDF by xhtml2pdf."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

from facturo.hookspecs import hookimpl

if TYPE_CHECKING:
    from facturo.context import Context
    from facturo.models import Document


def document_context(
    ctx: Context, document: Document, language: str | None = None, fmt: str = "html"
) -> dict[str, Any]:
    """Everything the invoice template shows: seller, customer, lines, taxes, payment options."""
    from dataclasses import asdict
    from decimal import Decimal

    lang = language or document.language or "es"
    customer = document.customer_data or document.customer.snapshot()
    seller = document.seller or asdict(ctx.settings.seller)
    options = []
    if document.status == "unpaid":
        for contributed in ctx.hook.invoice_payment_options(
            ctx=ctx, document=document, language=lang
        ):
            options.extend(contributed)
        options.sort(key=lambda option: option.order)
    breakdown = [
        {"rate": Decimal(row["rate"]), "base": Decimal(row["base"]), "tax": Decimal(row["tax"])}
        for row in document.tax_breakdown
    ]
    translations = ctx.translations(lang)
    return {
        "document": document,
        "lines": document.lines,
        "seller": seller,
        "customer": customer,
        "breakdown": breakdown,
        "options": options,
        "extras": invoice_extras(ctx, document, fmt),
        "lang": lang,
        "original": document.original,
        "gettext": translations.gettext,
        "ngettext": translations.ngettext,
        "_": translations.gettext,
        "num": lambda value: plain_number(value, lang),
        "zone": ctx.settings.zone,
    }


def plain_number(value: Any, language: str) -> str:
    """A quantity or rate without trailing zeros or exponent: ``20``, ``25,5`` (es), ``25.5``."""
    from decimal import Decimal

    text = f"{Decimal(value).normalize():f}"
    return text.replace(".", ",") if language == "es" else text


def invoice_extras(ctx: Context, document: Document, fmt: str) -> list[str]:
    """The HTML snippets plugins print at the start of ``document`` (e.g. the VERI*FACTU QR)."""
    extras: list[str] = []
    for contributed in ctx.hook.invoice_extras(ctx=ctx, document=document, fmt=fmt):
        extras.extend(contributed)
    return extras


def render_html(
    ctx: Context, document: Document, for_pdf: bool, language: str | None = None
) -> str:
    """The document as HTML (the PDF flavour inlines payment options' ``pdf_html``)."""
    values = document_context(ctx, document, language, "pdf" if for_pdf else "html")
    values["for_pdf"] = for_pdf
    return str(ctx.templates.get_template("invoice/document.html").render(values))


def html_to_pdf(html: str) -> bytes:
    """Convert HTML to PDF bytes with xhtml2pdf; raise RuntimeError if it reports errors."""
    from xhtml2pdf import pisa

    out = io.BytesIO()
    result = pisa.CreatePDF(html, dest=out, encoding="utf-8")
    if result.err:
        raise RuntimeError(f"xhtml2pdf reported {result.err} error(s)")
    return out.getvalue()


@hookimpl(trylast=True)
def render_invoice(ctx: Context, document: Document, fmt: str) -> bytes | None:
    """Render ``document`` as ``pdf`` or ``html`` (bytes)."""
    if fmt == "html":
        return render_html(ctx, document, for_pdf=False).encode("utf-8")
    if fmt == "pdf":
        return html_to_pdf(render_html(ctx, document, for_pdf=True))
    return None
