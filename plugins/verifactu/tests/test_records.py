from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from facturo_verifactu.records import (
    CancellationRecord,
    ChainLink,
    ForeignId,
    InvoiceId,
    Recipient,
    RegistrationRecord,
    SoftwareSystem,
    TaxLine,
    choose_invoice_type,
)

PLUS_ONE = timezone(timedelta(hours=1))


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"simplified": False}, "F1"),
        ({"simplified": True}, "F2"),
        ({"simplified": False, "replaces_simplified": True}, "F3"),
        ({"simplified": False, "rectifies": True}, "R1"),
        ({"simplified": False, "rectifies": True, "cause": "insolvency"}, "R2"),
        ({"simplified": False, "rectifies": True, "cause": "bad_debt"}, "R3"),
        ({"simplified": False, "rectifies": True, "cause": "other"}, "R4"),
        ({"simplified": True, "rectifies": True}, "R5"),
        ({"simplified": True, "rectifies": True, "cause": "bad_debt"}, "R5"),
    ],
)
def test_choose_invoice_type(kwargs: dict[str, Any], expected: str) -> None:
    assert choose_invoice_type(**kwargs) == expected


def test_chaining_two_records_and_a_cancellation_reproduces_the_aeat_vectors(
    vectors: dict[str, Any], system: SoftwareSystem
) -> None:
    expected = [v["sha256"] for v in vectors["hash_vectors"]]

    def alta(number: str, second: int, previous: ChainLink | None) -> RegistrationRecord:
        return RegistrationRecord(
            invoice=InvoiceId("89890001K", number, date(2024, 1, 1)),
            issuer_name="Empresa de Pruebas SL",
            invoice_type="F1",
            description="Venta",
            recipients=(Recipient("Cliente SL", nif="B87654321"),),
            tax_lines=(TaxLine.subject(Decimal("111.10"), Decimal("11.12"), Decimal("12.35")),),
            tax_total=Decimal("12.35"),
            total=Decimal("123.45"),
            system=system,
            generated_at=datetime(2024, 1, 1, 19, 20, second, tzinfo=PLUS_ONE),
            previous=previous,
        )

    first = alta("12345678/G33", 30, None)
    second = alta("12345679/G34", 35, ChainLink.of(first))
    cancel = CancellationRecord(
        invoice=second.invoice,
        system=system,
        generated_at=datetime(2024, 1, 1, 19, 20, 40, tzinfo=PLUS_ONE),
        previous=ChainLink.of(second),
    )
    assert [first.hash, second.hash, cancel.hash] == expected
    assert ChainLink.of(cancel) == ChainLink(second.invoice, expected[2])
    assert first.hash_type == "01"


def test_simplified_invoices_carry_no_recipient(
    make_alta: Callable[..., RegistrationRecord],
) -> None:
    with pytest.raises(ValueError, match="must not carry a recipient"):
        make_alta(invoice_type="F2")
    assert make_alta(invoice_type="F2", recipients=()).recipients == ()
    with pytest.raises(ValueError, match="must identify its recipient"):
        make_alta(recipients=())


def test_corrective_invoices_need_their_type(make_alta: Callable[..., RegistrationRecord]) -> None:
    original = InvoiceId("89890001K", "F2026-000001", date(2026, 1, 15))
    with pytest.raises(ValueError, match="rectification_type"):
        make_alta("R2026-000001", invoice_type="R1", rectified=(original,))
    with pytest.raises(ValueError, match="rectified_amounts"):
        make_alta("R2026-000001", invoice_type="R1", rectification_type="S")
    with pytest.raises(ValueError, match="not a corrective invoice"):
        make_alta(rectified=(original,))


def test_tax_line_rules() -> None:
    not_subject = TaxLine.not_subject(Decimal("100.00"))
    assert (not_subject.operation, not_subject.rate, not_subject.tax_amount) == ("N2", None, None)
    reverse = TaxLine.domestic_reverse_charge(Decimal("100.00"))
    assert (reverse.operation, reverse.rate, reverse.tax_amount) == ("S2", 0, 0)
    with pytest.raises(ValueError, match="no rate and no quota"):
        TaxLine(base=Decimal("100.00"), operation="N2", rate=Decimal("21"))
    with pytest.raises(ValueError, match="carry a rate and a quota"):
        TaxLine(base=Decimal("100.00"), operation="S1")
    with pytest.raises(ValueError, match="exactly one of operation and exemption"):
        TaxLine(base=Decimal("100.00"))


def test_identifier_checks() -> None:
    with pytest.raises(ValueError, match="ASCII"):
        InvoiceId("89890001K", "FACTURA-Ñ1", date(2026, 1, 1))
    with pytest.raises(ValueError, match="9 characters"):
        InvoiceId("8989K", "F1", date(2026, 1, 1))
    with pytest.raises(ValueError, match="exactly one"):
        Recipient("X", nif="B87654321", foreign_id=ForeignId("FR", "02", "FR40303265045"))
    with pytest.raises(ValueError, match="by NIF"):
        ForeignId("ES", "02", "ESB87654321")
