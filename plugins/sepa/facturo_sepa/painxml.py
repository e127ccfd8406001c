"""The pain.008 file of a collection, built by sepaxml and validated against its XSD."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from facturo.plugin import Context

from .models import Collection, Mandate
from .settings import PLUGIN


@dataclass(frozen=True)
class Debit:
    """One debit of the file."""

    end_to_end_id: str
    amount: Decimal
    mandate: Mandate
    description: str


def build_pain008(ctx: Context, collection: Collection, debits: list[Debit]) -> tuple[str, bytes]:
    """The message id and XML of ``collection`` (schema from ``pain_version``), validated by
    sepaxml against the schema it ships.

    Raises ValueError when a value breaks the schema (nothing is stored then: the caller's
    transaction rolls back)."""
    from sepaxml import SepaDD
    from sepaxml.validation import ValidationError

    settings = ctx.settings_for(PLUGIN)
    config: dict[str, Any] = {
        "name": settings["creditor_name"],
        "IBAN": settings["iban"],
        "BIC": settings["bic"],
        "batch": True,
        "creditor_id": settings["creditor_id"],
        "currency": "EUR",
        "instrument": collection.scheme,
    }
    sepa = SepaDD(config, schema=settings["pain_version"], clean=True)
    for debit in debits:
        payment: dict[str, Any] = {
            "name": debit.mandate.debtor_name,
            "IBAN": debit.mandate.iban,
            "amount": int((debit.amount * 100).to_integral_exact()),
            "type": "RCUR",
            "collection_date": collection.collection_date,
            "mandate_id": debit.mandate.reference,
            "mandate_date": debit.mandate.signed_on,
            "description": debit.description,
            "endtoend_id": debit.end_to_end_id,
        }
        if debit.mandate.bic:
            payment["BIC"] = debit.mandate.bic
        sepa.add_payment(payment)
    try:
        data: bytes = sepa.export(validate=True)
    except ValidationError as exc:
        raise ValueError(f"the pain.008 file does not validate: {exc.__cause__ or exc}") from exc
    return str(sepa.msg_id), data
