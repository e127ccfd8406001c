"""The default document renderer: Jinja2 HTML turned into PDF by xhtml2pdf."""

from __future__ import annotations

import io
import re
from datetime import datetime, tzinfo
from functools import cache
from typing import TYPE_CHECKING, Any

from facturo.billing.presentation import address_lines, load_logo
from facturo.builtin.pdf_blocks import BLOCK_TAG
from facturo.hookspecs import hookimpl

if TYPE_CHECKING:
    from facturo.context import Context
    from facturo.models import Document

#: Stands for the page count in the footer ("1/2"); replaced before xhtml2pdf sees the HTML.
PAGE_COUNT_MARK = "__FACTURO_PAGE_COUNT__"
_PAGES = re.compile(rb"/Count (\d+) /Kids \[[^\]]*\] /Type /Pages")
#: How a block ReportLab draws starts (see :mod:`facturo.builtin.pdf_blocks`).
BLOCK_MARK = f"<{BLOCK_TAG} "
#: Line breaks between two tags: whitespace xhtml2pdf would walk as text nodes for nothing.
_BETWEEN_TAGS = re.compile(r">\s*\n\s*<")
#: Page counts seen per document layout (see ``layout_key``): the first guess of the next one.
_pages_seen: dict[tuple[Any, ...], int] = {}


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
        "seller_address": address_lines(seller),
        "customer": customer,
        "customer_address": address_lines(customer),
        "logo": load_logo(ctx.settings.seller_logo),
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
        "paid_on": paid_on(ctx, document, lang),
        "page_count": PAGE_COUNT_MARK,
        "lines_pdf": lines_block_html(document, lang, translations.gettext) if fmt == "pdf" else "",
    }


def lines_block_html(document: Document, language: str, gettext: Any) -> str:
    """The PDF's lines table as one block ReportLab draws (see
    :class:`facturo.builtin.pdf_blocks.LinesBlock`), its cells written as the HTML's are."""
    from facturo.builtin.pdf_blocks import LinesBlock, pdf_block_html
    from facturo.templating import date_filter, money_filter

    currency = document.currency
    rows = []
    for line in document.lines:
        period = ""
        if line.period_start:
            start, end = (
                date_filter(day, language) for day in (line.period_start, line.period_end)
            )
            period = f"{gettext('Period')}: {start} – {end}"
        rows.append(
            (
                line.description,
                period,
                plain_number(line.quantity, language),
                money_filter(line.unit_price, currency, language),
                f"{plain_number(line.tax_rate, language)} %",
                money_filter(line.amount, currency, language),
            )
        )
    headings = ("Description", "Qty", "Unit price", "VAT", "Amount")
    return pdf_block_html(LinesBlock(tuple(gettext(title) for title in headings), tuple(rows)))


def paid_on(ctx: Context, document: Document, language: str) -> str:
    """When ``document`` was paid, as people read it: the value date alone when only the
    day is known (a bank transfer), else the instant in the business time zone."""
    from sqlalchemy.orm import object_session

    from facturo.billing.movements import settled_value_date
    from facturo.templating import date_filter

    session = object_session(document)
    value_date = settled_value_date(session, document) if session is not None else None
    if value_date is not None:
        return date_filter(value_date, language)
    return moment(document.paid_at, language, ctx.settings.zone)


def moment(value: datetime | None, language: str, zone: tzinfo) -> str:
    """An instant as the documents write it, in the business time zone: the date as the
    language writes dates (``02/03/2026``, ``2 Mar 2026``) and the time (``11:00``)."""
    if value is None:
        return ""
    from facturo.templating import date_filter

    local = value.astimezone(zone)
    return f"{date_filter(local.date(), language)} {local:%H:%M}"


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
    """The document as HTML (the PDF flavour inlines payment options' ``pdf_html`` and leaves
    :data:`PAGE_COUNT_MARK` where the page count goes)."""
    values = document_context(ctx, document, language, "pdf" if for_pdf else "html")
    values["for_pdf"] = for_pdf
    return str(ctx.templates.get_template("invoice/document.html").render(values))


@cache
def user_agent_css() -> str:
    """The stylesheet documents are converted with in place of xhtml2pdf's own: a trimmed
    user-agent stylesheet (xhtml2pdf's has rules for tables of contents, forms and lists in
    every script) followed by the documents' rules; parsed once per process (see
    :mod:`facturo.builtin.pdf_engine`)."""
    from facturo.builtin.pdf_engine import cache_stylesheet
    from facturo.templating import CORE_TEMPLATES

    folder = CORE_TEMPLATES / "invoice"
    return cache_stylesheet(
        (folder / "user-agent.css").read_text(encoding="utf-8")
        + (folder / "document.css").read_text(encoding="utf-8")
    )


def html_to_pdf(html: str, default_css: str | None = None) -> bytes:
    """Convert HTML to PDF bytes with xhtml2pdf (its own user-agent stylesheet unless
    ``default_css`` is given); raise RuntimeError if it reports errors."""
    from xhtml2pdf import pisa

    if BLOCK_MARK in html:
        from facturo.builtin.pdf_engine import require_blocks
        from facturo.builtin.pdf_flowables import block_flowable

        require_blocks(block_flowable)
    out = io.BytesIO()
    result = pisa.CreatePDF(html, dest=out, encoding="utf-8", default_css=default_css)
    if result.err:
        raise RuntimeError(f"xhtml2pdf reported {result.err} error(s)")
    return out.getvalue()


def page_count(pdf: bytes) -> int:
    """The number of pages of a PDF written by ReportLab (its one ``/Type /Pages`` node)."""
    found = _PAGES.search(pdf)
    if found is None:
        raise RuntimeError("no page tree in the PDF")
    return int(found.group(1))


def paginated_pdf(html: str, guess: int = 1) -> bytes:
    """Convert HTML whose footer says "page n/:data:`PAGE_COUNT_MARK`" in one xhtml2pdf pass
    when ``guess`` is right, two when it is not.

    xhtml2pdf's own ``<pdf:pagecount>`` always lays the document out twice. The footer is a
    fixed frame, so the digits written there never move the body: converting again with the
    count the first pass produced gives the same pages, now numbered right."""
    pages = max(guess, 1)
    html = _BETWEEN_TAGS.sub("><", html)
    for _ in range(3):
        pdf = html_to_pdf(html.replace(PAGE_COUNT_MARK, str(pages)), user_agent_css())
        produced = page_count(pdf)
        if produced == pages:
            return pdf
        pages = produced
    raise RuntimeError("the page count does not settle")


def layout_key(document: Document, html: str) -> tuple[Any, ...]:
    """What decides a document's page count, roughly: its kind, lines and size of markup."""
    return (document.kind, len(document.lines), len(html) // 4096)


def render_pdf(ctx: Context, document: Document) -> bytes:
    """The document as a PDF with "n/N" page numbers, laid out once in the usual case."""
    html = render_html(ctx, document, for_pdf=True)
    key = layout_key(document, html)
    pdf = paginated_pdf(html, _pages_seen.get(key, 1))
    if len(_pages_seen) > 1024:
        _pages_seen.clear()
    _pages_seen[key] = page_count(pdf)
    return pdf


@hookimpl(trylast=True)
def render_invoice(ctx: Context, document: Document, fmt: str) -> bytes | None:
    """Render ``document`` as ``pdf`` or ``html`` (bytes)."""
    if fmt == "html":
        return render_html(ctx, document, for_pdf=False).encode("utf-8")
    if fmt == "pdf":
        return render_pdf(ctx, document)
    return None
