from __future__ import annotations

import base64
import io
from dataclasses import replace
from decimal import Decimal

import zxingcpp
from PIL import Image

from facturo_transfer import epc
from facturo_transfer.instructions import build_instructions
from facturo_transfer.settings import TransferSettings


def scan_data_uri(uri: str) -> str:
    png = base64.b64decode(uri.removeprefix("data:image/png;base64,"))
    (result,) = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    return result.bytes.decode("utf-8")


def test_spanish_instructions_show_exact_amount_grouped_iban_and_a_qr(
    settings: TransferSettings,
) -> None:
    info = build_instructions(settings, "PRO-2026-000123", Decimal("1234.5"), "eur")

    assert info.language == "es"
    assert info.iban_display == "ES91 2100 0418 4502 0005 1332"
    assert info.amount == Decimal("1234.50")
    assert info.amount_display == "1.234,50 EUR"
    assert info.reference == "PRO-2026-000123"
    assert info.rows() == [
        ("Titular", "Facturo Señalética SL"),
        ("IBAN", "ES91 2100 0418 4502 0005 1332"),
        ("BIC/SWIFT", "CAIXESBBXXX"),
        ("Banco", "CaixaBank"),
        ("Importe exacto", "1.234,50 EUR"),
        ("Concepto (obligatorio)", "PRO-2026-000123"),
    ]
    assert info.qr_data_uri is not None
    scanned = epc.decode(scan_data_uri(info.qr_data_uri))
    assert scanned.name == "Facturo Señalética SL"
    assert scanned.iban == settings.iban
    assert scanned.bic == "CAIXESBBXXX"
    assert scanned.amount == Decimal("1234.50")
    assert scanned.text == "PRO-2026-000123"
    assert scanned.reference == ""


def test_english_labels_for_other_languages(settings: TransferSettings) -> None:
    info = build_instructions(settings, "PRO-2026-000123", Decimal("99"), "EUR", language="fr-FR")
    assert info.language == "en"
    assert info.labels["amount"] == "Exact amount"
    assert info.amount_display == "EUR 99.00"
    assert ("Payment reference (required)", "PRO-2026-000123") in info.rows()


def test_locale_names_pick_spanish(settings: TransferSettings) -> None:
    info = build_instructions(settings, "X1", Decimal("1"), "EUR", language="es_ES")
    assert info.labels["holder"] == "Titular"


def test_no_qr_outside_euro_but_bank_details_stay(settings: TransferSettings) -> None:
    info = build_instructions(settings, "PRO-2026-000123", Decimal("250"), "USD", language="en")
    assert info.qr_data_uri is None
    assert info.qr_payload is None
    assert info.amount_display == "USD 250.00"
    assert info.iban_display.startswith("ES91 ")


def test_rf_reference_source_puts_a_structured_reference_in_the_qr(
    settings: TransferSettings,
) -> None:
    rf_settings = replace(settings, reference_source="rf_creditor_reference", bank_name="")
    info = build_instructions(rf_settings, "PRO-2026-000123", Decimal("10"), "EUR")

    assert info.reference == epc.creditor_reference("PRO-2026-000123")
    assert "Banco" not in [label for label, _ in info.rows()]
    assert info.qr_data_uri is not None
    scanned = epc.decode(scan_data_uri(info.qr_data_uri))
    assert scanned.reference == info.reference
    assert scanned.text == ""
