from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from facturo_verifactu.records import (
    InvoiceId,
    Recipient,
    RegistrationRecord,
    SoftwareSystem,
    TaxLine,
)

MADRID_WINTER = timezone(timedelta(hours=1))
ISSUER_NIF = "89890001K"
ISSUER_NAME = "Empresa de Pruebas SL"


@pytest.fixture(scope="session")
def vectors() -> dict[str, Any]:
    path = Path(__file__).parent / "vectors" / "verifactu.json"
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


@pytest.fixture
def system() -> SoftwareSystem:
    return SoftwareSystem(
        producer_name="Facturo Software SL",
        producer_nif="B12345674",
        name="Facturo",
        system_id="FA",
        version="0.1.0",
        installation_number="1",
    )


@pytest.fixture
def make_alta(system: SoftwareSystem) -> Callable[..., RegistrationRecord]:
    """Build a 21 % domestic F1 alta; keyword arguments override any field."""

    def make(number: str = "F2026-000001", **overrides: Any) -> RegistrationRecord:
        fields: dict[str, Any] = {
            "invoice": InvoiceId(ISSUER_NIF, number, date(2026, 1, 15)),
            "issuer_name": ISSUER_NAME,
            "invoice_type": "F1",
            "description": "Licencia PrestaImport GUI (1 tienda, 1 año)",
            "recipients": (Recipient("Tienda Ejemplo SL", nif="B87654321"),),
            "tax_lines": (TaxLine.subject(Decimal("100.00"), Decimal("21"), Decimal("21.00")),),
            "tax_total": Decimal("21.00"),
            "total": Decimal("121.00"),
            "system": system,
            "generated_at": datetime(2026, 1, 15, 10, 0, 0, tzinfo=MADRID_WINTER),
        }
        fields.update(overrides)
        return RegistrationRecord(**fields)

    return make


@pytest.fixture
def issuer() -> tuple[str, str]:
    """Cabecera/ObligadoEmision of the test submissions: (name, NIF)."""
    return (ISSUER_NAME, ISSUER_NIF)
