"""Paying a document: the attempt record and the signed form the browser posts to Redsys."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from html import escape

from .currency import currency, to_minor_units
from .orders import is_valid_order
from .redsys import signed_message
from .settings import RuralviaSettings

__all__ = ["PaymentAttempt", "PaymentForm", "build_payment_form", "new_attempt"]


@dataclass(frozen=True)
class PaymentAttempt:
    """One try at paying a document; what a notification is checked against.

    The core stores it (unique on ``terminal`` + ``order``) before showing the form.
    """

    order: str
    amount: Decimal
    currency: str
    merchant_code: str
    terminal: str
    transaction_type: str = "0"

    @property
    def amount_minor(self) -> int:
        """The amount in minor units, as Redsys writes it."""
        return to_minor_units(self.amount, self.currency)


def new_attempt(
    settings: RuralviaSettings, *, order: str, amount: Decimal, currency_code: str
) -> PaymentAttempt:
    """Return the attempt for paying ``amount`` under a fresh ``order`` with this terminal.

    Raises ``ValueError`` for an invalid order number, amount or currency.
    """
    if not is_valid_order(order):
        raise ValueError(f"invalid Redsys order number {order!r}")
    code = currency(currency_code).code
    to_minor_units(amount, code)  # validates the amount
    return PaymentAttempt(
        order=order,
        amount=amount,
        currency=code,
        merchant_code=settings.merchant_code,
        terminal=settings.terminal,
    )


@dataclass(frozen=True)
class PaymentForm:
    """The form the browser posts to the payment page: ``action`` and the three fields."""

    action: str
    fields: dict[str, str]

    def render_html(self, *, script_src: str | None = None, label: str = "Pagar / Pay") -> str:
        """Return the form as HTML with a visible submit button.

        No inline script (the site's CSP forbids it): pass ``script_src`` to load a script
        that submits forms marked ``data-autosubmit`` (see ``static/autosubmit.js``).
        """
        inputs = "".join(
            f'<input type="hidden" name="{escape(name)}" value="{escape(value)}">'
            for name, value in self.fields.items()
        )
        script = f'<script src="{escape(script_src)}" defer></script>' if script_src else ""
        return (
            f'<form method="post" action="{escape(self.action)}" data-autosubmit>'
            f'{inputs}<button type="submit">{escape(label)}</button></form>{script}'
        )


def build_payment_form(
    settings: RuralviaSettings,
    attempt: PaymentAttempt,
    *,
    notification_url: str,
    ok_url: str,
    ko_url: str,
    merchant_data: str | None = None,
    description: str | None = None,
    save_card: bool = False,
) -> PaymentForm:
    """Return the signed redirection form for ``attempt`` (transaction type 0).

    ``notification_url`` receives the server-to-server notification; the browser comes
    back to ``ok_url`` or ``ko_url``. ``merchant_data`` (max 1024 characters, e.g. the
    document reference) is echoed back as ``Ds_MerchantData``. ``save_card`` asks Redsys to
    store the card for later merchant-initiated charges: ``DS_MERCHANT_IDENTIFIER=REQUIRED``
    with the Credential-on-File initial flags (``COF_INI=S``, ``COF_TYPE=R`` recurring).
    """
    if merchant_data is not None and len(merchant_data) > 1024:
        raise ValueError("merchant_data is limited to 1024 characters")
    parameters: dict[str, str] = {
        "DS_MERCHANT_TRANSACTIONTYPE": attempt.transaction_type,
        "DS_MERCHANT_ORDER": attempt.order,
        "DS_MERCHANT_MERCHANTCODE": attempt.merchant_code,
        "DS_MERCHANT_TERMINAL": attempt.terminal,
        "DS_MERCHANT_AMOUNT": str(attempt.amount_minor),
        "DS_MERCHANT_CURRENCY": currency(attempt.currency).numeric,
        "DS_MERCHANT_MERCHANTURL": notification_url,
        "DS_MERCHANT_URLOK": ok_url,
        "DS_MERCHANT_URLKO": ko_url,
    }
    if save_card:
        parameters["DS_MERCHANT_IDENTIFIER"] = "REQUIRED"
        parameters["DS_MERCHANT_COF_INI"] = "S"
        parameters["DS_MERCHANT_COF_TYPE"] = "R"
    if settings.language_code is not None:
        parameters["DS_MERCHANT_CONSUMERLANGUAGE"] = settings.language_code
    if merchant_data is not None:
        parameters["DS_MERCHANT_MERCHANTDATA"] = merchant_data
    if description is not None:
        parameters["DS_MERCHANT_PRODUCTDESCRIPTION"] = description[:125]
    return PaymentForm(settings.payment_url, signed_message(settings.secret_key, parameters))
