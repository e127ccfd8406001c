from __future__ import annotations

import pytest

from facturo_transfer.importer import parse_statement
from facturo_transfer.statement import StatementError

# One account, one credit of 121.00 EUR (fields joined as the Cuaderno 43 layout lists them).
N43 = "\r\n".join(
    [
        "11"
        + "2100"
        + "0418"
        + "0200051332"
        + "260301"
        + "260331"
        + "2"
        + "0" * 14
        + "978"
        + "3"
        + "FACTURO SL".ljust(26)
        + "   ",
        "22"
        + "    "
        + "0418"
        + "260302"
        + "260302"
        + "02"
        + "000"
        + "2"
        + "12100".zfill(14)
        + "0000000001"
        + " " * 12
        + "PRO-2026-000123".ljust(16),
        "33"
        + "2100"
        + "0418"
        + "0200051332"
        + "00000"
        + "0" * 14
        + "00001"
        + "12100".zfill(14)
        + "2"
        + "12100".zfill(14)
        + "978"
        + "    ",
        "88" + "9" * 18 + "000003" + " " * 54,
    ]
)


def test_xml_is_read_as_camt053() -> None:
    xml = (
        b"\xef\xbb\xbf\n<Document xmlns='urn:iso:std:iso:20022:tech:xsd:camt.053.001.02'>"
        b"<BkToCstmrStmt><Stmt><Id>S</Id><Acct><Id><IBAN>ES9121000418450200051332</IBAN>"
        b"</Id></Acct></Stmt></BkToCstmrStmt></Document>"
    )
    assert parse_statement(xml) == []


def test_fixed_width_text_is_read_as_norma43() -> None:
    (line,) = parse_statement(N43.encode("latin-1"))
    assert line.remittance == "PRO-2026-000123"
    assert str(line.amount) == "121.00"


def test_garbage_is_refused_with_a_line() -> None:
    with pytest.raises(StatementError, match="line 1: unknown record code 'he'"):
        parse_statement(b"hello")


def test_a_returned_debit_carries_its_reason_code() -> None:
    xml = (
        b"<Document xmlns='urn:iso:std:iso:20022:tech:xsd:camt.053.001.02'><BkToCstmrStmt>"
        b"<Stmt><Id>S</Id><Acct><Id><IBAN>ES9121000418450200051332</IBAN></Id></Acct>"
        b"<Ntry><Amt Ccy='EUR'>121.00</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts>BOOK</Sts>"
        b"<BookgDt><Dt>2026-03-20</Dt></BookgDt><AcctSvcrRef>R1</AcctSvcrRef><NtryDtls><TxDtls>"
        b"<Refs><EndToEndId>E2E-1</EndToEndId></Refs><RtrInf><Rsn><Cd>AM04</Cd></Rsn></RtrInf>"
        b"</TxDtls></NtryDtls></Ntry></Stmt></BkToCstmrStmt></Document>"
    )
    (line,) = parse_statement(xml)
    assert (line.is_credit, line.end_to_end_id, line.return_reason) == (False, "E2E-1", "AM04")
