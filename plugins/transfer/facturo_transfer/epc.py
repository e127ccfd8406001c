"""EPC069-12 "SEPA Credit Transfer" QR code (the code banking apps scan to fill a transfer).

The payload is a list of newline-separated fields (version 002, UTF-8):

    BCD / 002 / 1 / SCT / BIC / name / IBAN / EUR<amount> / purpose /
    structured reference / unstructured text / information

Trailing empty fields are left out, the whole payload fits in 331 bytes, and the QR code uses
error-correction level M.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from decimal import Decimal

import segno
from stdnum import bic as stdnum_bic
from stdnum import iban as stdnum_iban
from stdnum import iso11649
from stdnum.exceptions import ValidationError
from stdnum.iso7064 import mod_97_10

from facturo.plugin import qr_image

SERVICE_TAG = "BCD"
VERSION = "002"
CHARSET_UTF8 = "1"
IDENTIFICATION = "SCT"
MAX_PAYLOAD_BYTES = 331
MIN_AMOUNT = Decimal("0.01")
MAX_AMOUNT = Decimal("999999999.99")

_MAX_NAME = 70
_MAX_STRUCTURED = 35
_MAX_TEXT = 140
_MAX_INFORMATION = 70
_PURPOSE = re.compile(r"[A-Z0-9]{4}")
_AMOUNT = re.compile(r"EUR(\d{1,9}(?:\.\d{1,2})?)")


class EpcError(ValueError):
    """A payment that cannot be written as (or read from) an EPC QR payload."""


@dataclass(frozen=True)
class EpcPayment:
    """The fields of an EPC QR code. Empty strings mean "not given".

    `reference` is an ISO 11649 structured creditor reference (RF...) and `text` the
    unstructured remittance; EPC allows one or the other, never both.
    """

    name: str
    iban: str
    bic: str = ""
    amount: Decimal | None = None
    purpose: str = ""
    reference: str = ""
    text: str = ""
    information: str = ""


def encode(payment: EpcPayment) -> str:
    """Return the EPC payload for `payment`; raises EpcError on any field over its limit."""
    name = _single_line("name", payment.name)
    if not name:
        raise EpcError("name: the beneficiary name is required")
    if len(name) > _MAX_NAME:
        raise EpcError(f"name: {len(name)} characters, at most {_MAX_NAME} allowed")
    try:
        iban = stdnum_iban.validate(payment.iban)
    except ValidationError as exc:
        raise EpcError(f"iban: {payment.iban!r} is not a valid IBAN ({exc})") from None
    bic = ""
    if payment.bic:
        try:
            bic = stdnum_bic.validate(payment.bic)
        except ValidationError as exc:
            raise EpcError(f"bic: {payment.bic!r} is not a valid BIC ({exc})") from None
    amount = ""
    if payment.amount is not None:
        amount = "EUR" + format_amount(payment.amount)
    purpose = payment.purpose
    if purpose and not _PURPOSE.fullmatch(purpose):
        raise EpcError(f"purpose: {purpose!r} is not a 4-character ISO 20022 purpose code")
    reference = _single_line("reference", payment.reference)
    text = _single_line("text", payment.text)
    if reference and text:
        raise EpcError("reference and text: EPC allows a structured reference or text, not both")
    if reference:
        if len(reference) > _MAX_STRUCTURED or not iso11649.is_valid(reference):
            raise EpcError(f"reference: {reference!r} is not a valid ISO 11649 RF reference")
        reference = iso11649.compact(reference)
    if len(text) > _MAX_TEXT:
        raise EpcError(f"text: {len(text)} characters, at most {_MAX_TEXT} allowed")
    information = _single_line("information", payment.information)
    if len(information) > _MAX_INFORMATION:
        raise EpcError(
            f"information: {len(information)} characters, at most {_MAX_INFORMATION} allowed"
        )
    fields = [SERVICE_TAG, VERSION, CHARSET_UTF8, IDENTIFICATION, bic, name, iban, amount]
    fields += [purpose, reference, text, information]
    while not fields[-1]:
        fields.pop()
    payload = "\n".join(fields)
    size = len(payload.encode("utf-8"))
    if size > MAX_PAYLOAD_BYTES:
        raise EpcError(f"payload: {size} bytes, at most {MAX_PAYLOAD_BYTES} allowed")
    return payload


def decode(payload: str) -> EpcPayment:
    """Parse an EPC payload (version 001 or 002, UTF-8) back into its fields.

    Raises EpcError when the header is not an SCT code or a field is malformed.
    """
    fields = payload.replace("\r\n", "\n").split("\n")
    if len(fields) < 7:
        raise EpcError(f"payload: {len(fields)} fields, at least 7 expected")
    fields += [""] * (12 - len(fields))
    tag, version, charset, ident, bic, name, iban, amount_text = fields[:8]
    if tag != SERVICE_TAG or ident != IDENTIFICATION:
        raise EpcError(f"header: {tag!r}/{ident!r} is not an EPC SCT code")
    if version not in ("001", "002"):
        raise EpcError(f"version: {version!r} is not 001 or 002")
    if charset != CHARSET_UTF8:
        raise EpcError(f"charset: {charset!r} is not supported (only 1, UTF-8)")
    amount: Decimal | None = None
    if amount_text:
        match = _AMOUNT.fullmatch(amount_text)
        if match is None:
            raise EpcError(f"amount: {amount_text!r} is not EUR followed by an amount")
        amount = Decimal(match.group(1))
    payment = EpcPayment(
        name=name,
        iban=iban,
        bic=bic,
        amount=amount,
        purpose=fields[8],
        reference=fields[9],
        text=fields[10],
        information=fields[11],
    )
    encode(payment)  # the same limits apply when reading
    return payment


def format_amount(amount: Decimal) -> str:
    """Return `amount` as EPC writes it (``123.45``); it must be 0.01..999999999.99 in cents."""
    if not isinstance(amount, Decimal) or not amount.is_finite():
        raise EpcError(f"amount: {amount!r} is not a finite Decimal")
    if amount != amount.quantize(Decimal("0.01")):
        raise EpcError(f"amount: {amount} has more than 2 decimals")
    if not MIN_AMOUNT <= amount <= MAX_AMOUNT:
        raise EpcError(f"amount: {amount} is outside {MIN_AMOUNT}..{MAX_AMOUNT}")
    return f"{amount:.2f}"


def creditor_reference(reference: str) -> str:
    """Build the ISO 11649 RF creditor reference for a document reference.

    Only letters and digits are kept (``PRO-2026-000123`` → ``RF..PRO2026000123``); raises
    EpcError when nothing or more than 21 characters remain.
    """
    body = re.sub(r"[^0-9A-Za-z]", "", reference).upper()
    if not 1 <= len(body) <= 21:
        raise EpcError(f"reference: {reference!r} does not fit an RF reference (1..21 characters)")
    return "RF" + mod_97_10.calc_check_digits(body + "RF") + body


def make_qr(payload: str) -> segno.QRCode:
    """Return the QR code for an EPC payload, at error-correction level M as EPC requires."""
    return segno.make_qr(payload, error="m", boost_error=False, encoding="utf-8")


def qr_png(payload: str, *, scale: int = 4) -> bytes:
    """Return the EPC QR code as PNG bytes (with the 4-module quiet zone)."""
    buffer = io.BytesIO()
    make_qr(payload).save(buffer, kind="png", scale=scale, border=4)
    return buffer.getvalue()


def qr_svg(payload: str, *, scale: int = 4) -> str:
    """Return the EPC QR code as an SVG document (text)."""
    buffer = io.BytesIO()
    make_qr(payload).save(buffer, kind="svg", scale=scale, border=4, xmldecl=False)
    return buffer.getvalue().decode("utf-8")


def qr_png_data_uri(payload: str, *, scale: int = 4) -> str:
    """Return the EPC QR code as a ``data:image/png;base64,...`` URI for HTML and PDF (the
    core's level-M encoder: the same code as :func:`make_qr`, several times faster)."""
    return qr_image(payload, scale=scale, border=4).data_uri


def _single_line(field: str, value: str) -> str:
    value = value.strip()
    if "\n" in value or "\r" in value:
        raise EpcError(f"{field}: must not contain line breaks")
    return value
