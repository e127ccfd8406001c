from __future__ import annotations

import io
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import zxingcpp
from PIL import Image

from facturo_verifactu.hashing import (
    cancellation_hash,
    cancellation_hash_input,
    format_amount,
    format_date,
    format_timestamp,
    qr_code,
    qr_png,
    qr_svg,
    qr_url,
    registration_hash,
    registration_hash_input,
)

PLUS_ONE = timezone(timedelta(hours=1))


def parse_input(text: str) -> dict[str, str]:
    """Split an AEAT hash input string back into its fields (the values hold no '&')."""
    return dict(pair.split("=", 1) for pair in text.split("&"))


def test_first_registration_vector(vectors: dict[str, Any]) -> None:
    vector = vectors["hash_vectors"][0]
    f = parse_input(vector["input"])
    args = (
        f["IDEmisorFactura"],
        f["NumSerieFactura"],
        date(2024, 1, 1),
        f["TipoFactura"],
        Decimal(f["CuotaTotal"]),
        Decimal(f["ImporteTotal"]),
        None,
        datetime(2024, 1, 1, 19, 20, 30, tzinfo=PLUS_ONE),
    )
    assert registration_hash_input(*args) == vector["input"]
    assert registration_hash(*args) == vector["sha256"]


def test_chained_registration_vector(vectors: dict[str, Any]) -> None:
    first, second = vectors["hash_vectors"][0], vectors["hash_vectors"][1]
    args = (
        "89890001K",
        "12345679/G34",
        date(2024, 1, 1),
        "F1",
        Decimal("12.35"),
        Decimal("123.45"),
        first["sha256"],
        datetime(2024, 1, 1, 19, 20, 35, tzinfo=PLUS_ONE),
    )
    assert registration_hash_input(*args) == second["input"]
    assert registration_hash(*args) == second["sha256"]


def test_cancellation_vector(vectors: dict[str, Any]) -> None:
    second, third = vectors["hash_vectors"][1], vectors["hash_vectors"][2]
    args = (
        "89890001K",
        "12345679/G34",
        date(2024, 1, 1),
        second["sha256"],
        datetime(2024, 1, 1, 19, 20, 40, tzinfo=PLUS_ONE),
    )
    assert cancellation_hash_input(*args) == third["input"]
    assert cancellation_hash(*args) == third["sha256"]


def test_strings_as_they_appear_in_the_record_hash_the_same(vectors: dict[str, Any]) -> None:
    vector = vectors["hash_vectors"][0]
    digest = registration_hash(
        "  89890001K  ",
        "12345678/G33",
        "01-01-2024",
        "F1",
        "12.35",
        "123.45",
        "",
        "2024-01-01T19:20:30+01:00",
    )
    assert digest == vector["sha256"]


def test_trailing_zeros_are_part_of_the_hashed_amount() -> None:
    at = datetime(2025, 6, 1, 10, 20, 30, tzinfo=timezone(timedelta(hours=2)))
    two_decimals = registration_hash(
        "A00000000", "PRUEBA-0001", date(2025, 6, 1), "F2",
        Decimal("2.10"), Decimal("12.10"), None, at,
    )  # fmt: skip
    one_decimal = registration_hash(
        "A00000000", "PRUEBA-0001", date(2025, 6, 1), "F2",
        Decimal("2.1"), Decimal("12.1"), None, at,
    )  # fmt: skip
    assert format_amount(Decimal("2.10")) == "2.10"
    assert format_amount(Decimal("2.1")) == "2.1"
    assert two_decimals != one_decimal


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("-163.00"), "-163.00"),
        (Decimal("0.00"), "0.00"),
        (Decimal("241.4"), "241.4"),
        ("123.45", "123.45"),
        (Decimal("999999999999.99"), "999999999999.99"),
    ],
)
def test_format_amount(value: Decimal | str, expected: str) -> None:
    assert format_amount(value) == expected


@pytest.mark.parametrize(
    "value", [Decimal("1.005"), Decimal("1000000000000"), "1,50", "1e3", Decimal("NaN")]
)
def test_format_amount_refuses_what_the_aeat_rejects(value: Decimal | str) -> None:
    with pytest.raises(ValueError):
        format_amount(value)


def test_format_date_and_timestamp() -> None:
    assert format_date(date(2024, 1, 1)) == "01-01-2024"
    with pytest.raises(ValueError):
        format_date("2024-01-01")
    summer = datetime(2024, 7, 1, 9, 5, 3, 999, tzinfo=timezone(timedelta(hours=2)))
    assert format_timestamp(summer) == "2024-07-01T09:05:03+02:00"
    with pytest.raises(ValueError, match="timezone-aware"):
        format_timestamp(datetime(2024, 7, 1, 9, 5, 3))


def test_qr_url_vector(vectors: dict[str, Any]) -> None:
    vector = vectors["qr_vectors"][0]
    params = vector["params"]
    url = qr_url(
        params["nif"], params["numserie"], params["fecha"], params["importe"], production=False
    )
    assert url == vector["url"]


def test_qr_url_production_encodes_slashes_and_uses_the_record_total() -> None:
    url = qr_url("59962470K", "INV/2019/00001", date(2019, 1, 30), Decimal("1100.00"), True)
    assert url == (
        "https://www2.agenciatributaria.gob.es/wlpl/TIKE-CONT/ValidarQR"
        "?nif=59962470K&numserie=INV%2F2019%2F00001&fecha=30-01-2019&importe=1100.00"
    )
    assert "ValidarQRNoVerifactu?" in qr_url("A86018322", "F1", date(2025, 10, 1), "1", False,
                                              verifactu=False)  # fmt: skip


def test_qr_png_decodes_back_to_the_url() -> None:
    url = qr_url("89890001K", "12345678&G33", date(2024, 1, 1), Decimal("241.40"), False)
    png = qr_png(url, scale=4)
    assert png.startswith(b"\x89PNG")
    barcode = zxingcpp.read_barcode(Image.open(io.BytesIO(png)))
    assert barcode is not None
    assert barcode.format == zxingcpp.BarcodeFormat.QRCode
    assert barcode.text == url
    assert barcode.ec_level == "M"
    assert dict(parse_qsl(urlsplit(barcode.text).query))["numserie"] == "12345678&G33"


def test_qr_uses_level_m_even_when_a_higher_level_would_fit() -> None:
    assert qr_code("https://www2.agenciatributaria.gob.es/").error == "M"


def test_qr_svg_is_an_svg_document() -> None:
    svg = qr_svg("https://prewww2.aeat.es/wlpl/TIKE-CONT/ValidarQR?nif=89890001K")
    assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>")
