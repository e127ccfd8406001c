from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from facturo_transfer import camt053
from facturo_transfer.matching import (
    Confidence,
    OpenDocument,
    find_references,
    match_lines,
    reference_pattern,
)
from facturo_transfer.statement import Direction, StatementLine

DOCS = [
    OpenDocument(123, "PRO-2026-000123", Decimal("121.00"), "EUR"),
    OpenDocument(124, "PRO-2026-000124", Decimal("60.50"), "EUR"),
    OpenDocument(130, "PRO-2026-000130", Decimal("250.00"), "USD"),
]


def line(
    amount: str,
    text: str,
    *,
    currency: str = "EUR",
    direction: Direction = Direction.CREDIT,
    n: int = 1,
) -> StatementLine:
    return StatementLine(
        identity=f"test:{n}",
        account="ES9121000418450200051332",
        statement_id="S1",
        booking_date=date(2026, 3, 2),
        value_date=date(2026, 3, 2),
        amount=Decimal(amount),
        direction=direction,
        currency=currency,
        remittance=text,
    )


@pytest.mark.parametrize(
    "text",
    [
        "PRO-2026-000123",
        "Pago PRO-2026- 000123 gracias",
        "pro2026000123",
        "PRO 2026 000123",
        "pro-2026-123",
        "TRANSF CLIENTE SL CONCEPTO PRO-2026-\n000123",
        "FACTURA PRO/2026/000123.",
        "RF53PRO2026000123",
    ],
)
def test_reference_is_found_whatever_the_spelling(text: str) -> None:
    assert find_references(text, DOCS) == [DOCS[0]]


@pytest.mark.parametrize(
    "text",
    [
        "PRO-2026-0001234",  # a longer number is another document
        "PRO-2026-000125",
        "APRO-2026-000123",
        "PRO-2025-000123",
        "",
    ],
)
def test_reference_is_not_found_in_other_numbers(text: str) -> None:
    assert reference_pattern("PRO-2026-000123").search(text) is None


def test_exact_payment() -> None:
    (proposal,) = match_lines([line("121.00", "PRO-2026-000123")], DOCS)
    assert proposal.document_id == 123
    assert proposal.confidence is Confidence.EXACT
    assert proposal.amount == Decimal("121.00")
    assert proposal.difference == Decimal("0")


def test_partial_payments_add_up_to_exact() -> None:
    lines = [
        line("100.00", "PRO-2026-000123 primer pago", n=1),
        line("21.00", "pro2026000123 resto", n=2),
    ]
    first, second = match_lines(lines, DOCS)
    assert first.confidence is Confidence.PARTIAL
    assert first.difference == Decimal("-21.00")
    assert "21.00 still due" in first.reason
    assert second.confidence is Confidence.EXACT
    assert second.amount == Decimal("21.00")
    assert second.line.identity == "test:2"


def test_overpayment() -> None:
    (proposal,) = match_lines([line("130.00", "PRO 2026 000123")], DOCS)
    assert proposal.confidence is Confidence.OVERPAYMENT
    assert proposal.amount == Decimal("130.00")
    assert proposal.difference == Decimal("9.00")


def test_one_transfer_for_two_documents_is_shared_in_order() -> None:
    text = "PRO-2026-000124 y PRO-2026-000123"
    first, second = match_lines([line("181.50", text)], DOCS)
    assert (first.document_id, first.amount, first.confidence) == (
        124,
        Decimal("60.50"),
        Confidence.EXACT,
    )
    assert (second.document_id, second.amount, second.confidence) == (
        123,
        Decimal("121.00"),
        Confidence.EXACT,
    )


def test_amount_only_is_weak_and_nothing_is_none() -> None:
    weak, none = match_lines(
        [line("60.50", "TRANSFERENCIA", n=1), line("7.00", "TRANSFERENCIA", n=2)], DOCS
    )
    assert (weak.document_id, weak.confidence) == (124, Confidence.WEAK)
    assert (none.document_id, none.confidence) == (None, Confidence.NONE)
    assert none.line.identity == "test:2"


def test_weak_match_respects_currency() -> None:
    (proposal,) = match_lines([line("250.00", "INVOICE", currency="EUR")], DOCS)
    assert proposal.confidence is Confidence.NONE
    (proposal,) = match_lines([line("250.00", "INVOICE", currency="USD")], DOCS)
    assert (proposal.document_id, proposal.confidence) == (130, Confidence.WEAK)


def test_reference_in_another_currency_is_flagged() -> None:
    (proposal,) = match_lines([line("250.00", "PRO-2026-000123", currency="USD")], DOCS)
    assert proposal.confidence is Confidence.CURRENCY_MISMATCH
    assert proposal.amount == Decimal("0")


def test_debit_lines_are_ignored() -> None:
    debit = line("121.00", "DEVOLUCION PRO-2026-000123", direction=Direction.DEBIT)
    assert match_lines([debit], DOCS) == []


def test_plain_tuples_are_accepted() -> None:
    docs = [("doc-1", "F2026-000001", Decimal("10.00"), "EUR")]
    (proposal,) = match_lines([line("10.00", "f2026-1")], docs)
    assert (proposal.document_id, proposal.confidence) == ("doc-1", Confidence.EXACT)


def test_statement_to_proposals() -> None:
    xml = b"""<?xml version="1.0"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.04"><BkToCstmrStmt><Stmt>
<Id>S</Id><Acct><Id><IBAN>ES9121000418450200051332</IBAN></Id></Acct>
<Ntry><Amt Ccy="EUR">60.50</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts>
<BookgDt><Dt>2026-03-02</Dt></BookgDt><AcctSvcrRef>A1</AcctSvcrRef>
<NtryDtls><TxDtls><RmtInf><Ustrd>PRO-2026-00</Ustrd><Ustrd>0124</Ustrd></RmtInf></TxDtls>
</NtryDtls></Ntry>
<Ntry><Amt Ccy="EUR">60.50</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts>BOOK</Sts>
<BookgDt><Dt>2026-03-02</Dt></BookgDt><AcctSvcrRef>A2</AcctSvcrRef></Ntry>
</Stmt></BkToCstmrStmt></Document>"""
    (proposal,) = match_lines(camt053.parse(xml), DOCS)
    assert proposal.document_id == 124
    assert proposal.confidence is Confidence.EXACT
    assert proposal.line.identity == "camt:ES9121000418450200051332:A1"
