"""VERI*FACTU field formatting, record hash (huella) and QR code.

The hash follows the AEAT "Detalle de las especificaciones técnicas para generación de la huella
o hash de los registros de facturación" v0.1.2: ``name=value`` pairs joined with ``&``, each value
stripped of surrounding spaces, hashed with SHA-256 over UTF-8 and written as uppercase hex.

Amount rule. The AEAT hashes the amount *string* of the record, so ``2.10`` and ``2.1`` give
different hashes. A :class:`~decimal.Decimal` is written exactly as it is held, keeping its
trailing zeros (``Decimal("2.10")`` -> ``2.10``, ``Decimal("241.4")`` -> ``241.4``); a ``str`` is
taken as it is. Facturo keeps money as ``Numeric(12, 2)``, so its amounts always carry two
decimals, and the same string goes into the XML, the hash, the next record's chain and the QR.
"""

from __future__ import annotations

import hashlib
import io
import re
from datetime import date, datetime
from decimal import Decimal
from urllib.parse import urlencode

import segno

Amount = Decimal | str

HASH_TYPE_SHA256 = "01"

QR_BASE_TEST = "https://prewww2.aeat.es/wlpl/TIKE-CONT/"
QR_BASE_PRODUCTION = "https://www2.agenciatributaria.gob.es/wlpl/TIKE-CONT/"

_AMOUNT = re.compile(r"[+-]?\d{1,12}(\.\d{0,2})?")
_RATE = re.compile(r"\d{1,3}(\.\d{0,2})?")
_DATE = re.compile(r"\d{2}-\d{2}-\d{4}")


def format_date(value: date | str) -> str:
    """Return an AEAT date ``dd-mm-yyyy``; a string must already be in that form."""
    if isinstance(value, str):
        text = value.strip()
        if not _DATE.fullmatch(text):
            raise ValueError(f"date {value!r} is not dd-mm-yyyy")
        return text
    return value.strftime("%d-%m-%Y")


def format_amount(value: Amount) -> str:
    """Return the AEAT amount string: '.' separator, at most 12 integer digits and 2 decimals.

    A Decimal keeps its own exponent (trailing zeros are significant for the hash); a string is
    checked and returned stripped. Raises ValueError for anything the XSD pattern would reject.
    """
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"amount {value!r} is not finite")
        text = format(value, "f")
    else:
        text = value.strip()
    if not _AMOUNT.fullmatch(text):
        raise ValueError(f"amount {value!r} is not an AEAT amount (12 digits, 2 decimals)")
    return text


def format_rate(value: Amount) -> str:
    """Return a tax rate as the AEAT writes it (``21``, ``21.00``, ``10.5``; ≤ 3 digits + 2)."""
    text = format(value, "f") if isinstance(value, Decimal) else value.strip()
    if not _RATE.fullmatch(text):
        raise ValueError(f"tax rate {value!r} is not an AEAT rate")
    return text


def format_timestamp(value: datetime | str) -> str:
    """Return ``FechaHoraHusoGenRegistro``: ISO 8601 to the second with the UTC offset.

    A datetime must be timezone-aware (``2024-01-01T19:20:30+01:00``); a string is taken as is.
    """
    if isinstance(value, str):
        return value.strip()
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("generated_at must be timezone-aware")
    return value.replace(microsecond=0).isoformat()


def _join(pairs: list[tuple[str, str]]) -> str:
    return "&".join(f"{name}={value.strip()}" for name, value in pairs)


def _digest(pairs: list[tuple[str, str]]) -> str:
    return hashlib.sha256(_join(pairs).encode("utf-8")).hexdigest().upper()


def registration_hash_input(
    issuer_nif: str,
    number: str,
    issue_date: date | str,
    invoice_type: str,
    tax_total: Amount,
    total: Amount,
    previous_hash: str | None,
    generated_at: datetime | str,
) -> str:
    """Return the exact string the AEAT hashes for a registration record (registro de alta)."""
    return _join(
        _registration_pairs(
            issuer_nif,
            number,
            issue_date,
            invoice_type,
            tax_total,
            total,
            previous_hash,
            generated_at,
        )
    )


def _registration_pairs(
    issuer_nif: str,
    number: str,
    issue_date: date | str,
    invoice_type: str,
    tax_total: Amount,
    total: Amount,
    previous_hash: str | None,
    generated_at: datetime | str,
) -> list[tuple[str, str]]:
    return [
        ("IDEmisorFactura", issuer_nif),
        ("NumSerieFactura", number),
        ("FechaExpedicionFactura", format_date(issue_date)),
        ("TipoFactura", invoice_type),
        ("CuotaTotal", format_amount(tax_total)),
        ("ImporteTotal", format_amount(total)),
        ("Huella", previous_hash or ""),
        ("FechaHoraHusoGenRegistro", format_timestamp(generated_at)),
    ]


def registration_hash(
    issuer_nif: str,
    number: str,
    issue_date: date | str,
    invoice_type: str,
    tax_total: Amount,
    total: Amount,
    previous_hash: str | None,
    generated_at: datetime | str,
) -> str:
    """Return the uppercase hex SHA-256 huella of a registration record.

    ``previous_hash`` is the huella of the previous record of the chain, or None/"" for the
    first record.
    """
    return _digest(
        _registration_pairs(
            issuer_nif,
            number,
            issue_date,
            invoice_type,
            tax_total,
            total,
            previous_hash,
            generated_at,
        )
    )


def _cancellation_pairs(
    issuer_nif: str,
    number: str,
    issue_date: date | str,
    previous_hash: str | None,
    generated_at: datetime | str,
) -> list[tuple[str, str]]:
    return [
        ("IDEmisorFacturaAnulada", issuer_nif),
        ("NumSerieFacturaAnulada", number),
        ("FechaExpedicionFacturaAnulada", format_date(issue_date)),
        ("Huella", previous_hash or ""),
        ("FechaHoraHusoGenRegistro", format_timestamp(generated_at)),
    ]


def cancellation_hash_input(
    issuer_nif: str,
    number: str,
    issue_date: date | str,
    previous_hash: str | None,
    generated_at: datetime | str,
) -> str:
    """Return the exact string the AEAT hashes for a cancellation record (registro de anulación)."""
    return _join(_cancellation_pairs(issuer_nif, number, issue_date, previous_hash, generated_at))


def cancellation_hash(
    issuer_nif: str,
    number: str,
    issue_date: date | str,
    previous_hash: str | None,
    generated_at: datetime | str,
) -> str:
    """Return the uppercase hex SHA-256 huella of a cancellation record.

    The identifiers are those of the cancelled invoice; ``previous_hash`` chains as for altas.
    """
    return _digest(_cancellation_pairs(issuer_nif, number, issue_date, previous_hash, generated_at))


def qr_url(
    issuer_nif: str,
    number: str,
    issue_date: date | str,
    total: Amount,
    production: bool,
    *,
    verifactu: bool = True,
) -> str:
    """Return the AEAT invoice-check URL printed as the invoice's tax QR code.

    Exactly the parameters nif, numserie, fecha, importe (ImporteTotal) in this order, values
    URL-encoded in UTF-8. ``production`` picks www2.agenciatributaria.gob.es over the prewww2
    test host; ``verifactu=False`` gives the ValidarQRNoVerifactu service.
    """
    base = QR_BASE_PRODUCTION if production else QR_BASE_TEST
    service = "ValidarQR" if verifactu else "ValidarQRNoVerifactu"
    query = urlencode(
        [
            ("nif", issuer_nif.strip()),
            ("numserie", number.strip()),
            ("fecha", format_date(issue_date)),
            ("importe", format_amount(total)),
        ]
    )
    return f"{base}{service}?{query}"


def qr_code(url: str) -> segno.QRCode:
    """Return the QR code of ``url`` at error correction level M, as the Orden requires.

    ``boost_error`` is off so segno never silently raises the level above M.
    """
    return segno.make_qr(url, error="m", boost_error=False)


def qr_png(url: str, *, scale: int = 4, border: int = 4) -> bytes:
    """Return a PNG of the tax QR code; ``scale`` is pixels per module, ``border`` quiet modules."""
    out = io.BytesIO()
    qr_code(url).save(out, kind="png", scale=scale, border=border)
    return out.getvalue()


def qr_svg(url: str, *, scale: int = 4, border: int = 4) -> str:
    """Return an SVG document (text) of the tax QR code, for HTML pages and PDF templates."""
    out = io.BytesIO()
    qr_code(url).save(out, kind="svg", scale=scale, border=border, xmldecl=False)
    return out.getvalue().decode("utf-8")
