"""What an unpaid proforma shows for card payment: a button on the page, a line in the PDF."""

from __future__ import annotations

from html import escape

from facturo.plugin import Context, Document, PaymentOption


def pay_path(document: Document) -> str:
    """The client page that starts a card payment of ``document``."""
    return f"/client/ruralvia/pay/{document.id}"


def payment_option(ctx: Context, document: Document, language: str) -> PaymentOption:
    """A "Pay by card" button for the web page; the PDF only says it is available online."""
    _ = ctx.translations(language).gettext
    url = pay_path(document)
    html = (
        f"<p>{escape(_('Pay now by credit or debit card on the secure page of the bank.'))}</p>"
        f'<p><a class="button" href="{escape(url)}">{escape(_("Pay by card"))}</a></p>'
    )
    pdf_html = "<p>{}</p>".format(
        escape(
            _("Card payment is available online at %(url)s")
            % {"url": ctx.url(f"/client/documents/{document.id}")}
        )
    )
    return PaymentOption(
        gateway="ruralvia",
        title={"es": "Tarjeta", "en": "Card"},
        html=html,
        pdf_html=pdf_html,
        pay_url=url,
        order=20,
    )
