from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

import pytest
import zxingcpp
from PIL import Image
from stdnum import iso11649

from facturo_transfer import epc
from facturo_transfer.epc import EpcError, EpcPayment

IBAN = "ES9121000418450200051332"


def scan(png: bytes) -> tuple[str, str]:
    """Decode a QR PNG as a phone would; return (payload, error-correction level)."""
    results = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    assert len(results) == 1
    assert results[0].format == zxingcpp.BarcodeFormat.QRCode
    return results[0].bytes.decode("utf-8"), results[0].ec_level


def test_qr_image_decodes_to_every_epc_field() -> None:
    payment = EpcPayment(
        name="Señalética Ñandú SL",
        iban="ES91 2100 0418 4502 0005 1332",
        bic="CAIXESBBXXX",
        amount=Decimal("1234.50"),
        purpose="GDDS",
        text="PRO-2026-000123",
        information="Gracias por su pago",
    )
    payload = epc.encode(payment)

    scanned, level = scan(epc.qr_png(payload))

    assert scanned == payload
    assert level == "M"
    assert scanned.split("\n") == [
        "BCD",
        "002",
        "1",
        "SCT",
        "CAIXESBBXXX",
        "Señalética Ñandú SL",
        IBAN,
        "EUR1234.50",
        "GDDS",
        "",
        "PRO-2026-000123",
        "Gracias por su pago",
    ]
    assert epc.decode(scanned) == EpcPayment(
        name="Señalética Ñandú SL",
        iban=IBAN,
        bic="CAIXESBBXXX",
        amount=Decimal("1234.50"),
        purpose="GDDS",
        text="PRO-2026-000123",
        information="Gracias por su pago",
    )


def test_structured_reference_goes_in_field_ten_and_trailing_fields_are_left_out() -> None:
    reference = epc.creditor_reference("PRO-2026-000123")
    payload = epc.encode(
        EpcPayment(name="Facturo SL", iban=IBAN, amount=Decimal("5"), reference=reference)
    )

    scanned, _ = scan(epc.qr_png(payload, scale=3))

    lines = scanned.split("\n")
    assert len(lines) == 10  # text and information are empty, so they are not written
    assert lines[4] == ""  # BIC is optional in version 002
    assert lines[7] == "EUR5.00"
    assert lines[9] == reference
    assert not scanned.endswith("\n")


def test_creditor_reference_is_a_valid_iso_11649_reference() -> None:
    reference = epc.creditor_reference("pro-2026-000123")
    assert reference.startswith("RF")
    assert reference.endswith("PRO2026000123")
    assert iso11649.is_valid(reference)
    with pytest.raises(EpcError, match="does not fit"):
        epc.creditor_reference("F" * 22)


def test_qr_is_error_correction_m_and_svg_has_the_same_symbol() -> None:
    payload = epc.encode(EpcPayment(name="Facturo SL", iban=IBAN, amount=Decimal("10.00")))
    qr = epc.make_qr(payload)
    assert qr.error == "M"

    svg = epc.qr_svg(payload, scale=2)
    width, height = qr.symbol_size(scale=2, border=4)
    assert svg.startswith("<svg")
    assert f'width="{width}"' in svg and f'height="{height}"' in svg
    assert epc.qr_png_data_uri(payload).startswith("data:image/png;base64,")


@pytest.mark.parametrize(
    ("amount", "written"),
    [
        (Decimal("0.01"), "EUR0.01"),
        (Decimal("999999999.99"), "EUR999999999.99"),
        (Decimal("12.3"), "EUR12.30"),
        (Decimal("7"), "EUR7.00"),
    ],
)
def test_amount_format(amount: Decimal, written: str) -> None:
    payload = epc.encode(EpcPayment(name="Facturo SL", iban=IBAN, amount=amount))
    assert payload.split("\n")[7] == written


@pytest.mark.parametrize(
    "amount", [Decimal("0.00"), Decimal("-5"), Decimal("1000000000.00"), Decimal("1.005")]
)
def test_amount_out_of_limits_is_refused(amount: Decimal) -> None:
    with pytest.raises(EpcError, match="amount"):
        epc.encode(EpcPayment(name="Facturo SL", iban=IBAN, amount=amount))


def test_field_limits_at_the_edge_pass() -> None:
    payload = epc.encode(EpcPayment(name="N" * 70, iban=IBAN, text="T" * 140, information="I" * 70))
    assert payload.split("\n")[5] == "N" * 70
    assert payload.split("\n")[10] == "T" * 140


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": "N" * 71}, "name"),
        ({"name": ""}, "name"),
        ({"text": "T" * 141}, "text"),
        ({"information": "I" * 71}, "information"),
        ({"purpose": "GDD"}, "purpose"),
        ({"reference": "RF00PRO2026000123"}, "reference"),
        ({"reference": "RF53PRO2026000123", "text": "also text"}, "reference and text"),
        ({"text": "two\nlines"}, "text"),
        ({"iban": "ES9121000418450200051333"}, "iban"),
        ({"bic": "CAIXES"}, "bic"),
    ],
)
def test_field_over_its_limit_is_refused(change: dict[str, Any], field: str) -> None:
    fields: dict[str, Any] = {"name": "Facturo SL", "iban": IBAN, **change}
    with pytest.raises(EpcError) as info:
        epc.encode(EpcPayment(**fields))
    assert str(info.value).startswith(f"{field}:")


def test_payload_is_limited_to_331_bytes() -> None:
    # 70 two-byte characters fill the name; the text then takes the payload to the limit.
    base = EpcPayment(name="Ñ" * 70, iban=IBAN, bic="CAIXESBBXXX", amount=Decimal("123.45"))
    room = epc.MAX_PAYLOAD_BYTES - len(epc.encode(base).encode("utf-8")) - 3  # "\n\n\n"
    assert 0 < room < 140

    at_limit = epc.encode(EpcPayment(**{**base.__dict__, "text": "x" * room}))
    assert len(at_limit.encode("utf-8")) == 331
    with pytest.raises(EpcError, match="payload: 332 bytes"):
        epc.encode(EpcPayment(**{**base.__dict__, "text": "x" * (room + 1)}))


@pytest.mark.parametrize(
    ("payload", "words"),
    [
        ("BCD\n002\n1\nSCT\n\nFacturo SL", "at least 7"),
        (f"BCD\n002\n1\nINST\n\nFacturo SL\n{IBAN}", "not an EPC SCT"),
        (f"BCD\n003\n1\nSCT\n\nFacturo SL\n{IBAN}", "version"),
        (f"BCD\n002\n2\nSCT\n\nFacturo SL\n{IBAN}", "charset"),
        (f"BCD\n002\n1\nSCT\n\nFacturo SL\n{IBAN}\n12.50", "amount"),
    ],
)
def test_decode_refuses_malformed_payloads(payload: str, words: str) -> None:
    with pytest.raises(EpcError, match=words):
        epc.decode(payload)
