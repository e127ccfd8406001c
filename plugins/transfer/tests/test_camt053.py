from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from facturo_transfer import camt053
from facturo_transfer.statement import Direction, StatementError

IBAN = "ES9121000418450200051332"

# A camt.053.001.02 statement as a Spanish bank sends it: a customer transfer whose reference
# is split over two Ustrd elements, a bank fee, a structured RF reference without AcctSvcrRef,
# a batch of two transfers in one entry, a pending entry and a USD credit.
CAMT_02 = f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">
  <BkToCstmrStmt>
    <GrpHdr><MsgId>MSG-2026-03-31</MsgId><CreDtTm>2026-03-31T20:00:00</CreDtTm></GrpHdr>
    <Stmt>
      <Id>STMT-2026-03</Id>
      <CreDtTm>2026-03-31T20:00:00</CreDtTm>
      <Acct><Id><IBAN>{IBAN}</IBAN></Id><Ccy>EUR</Ccy></Acct>
      <Ntry>
        <NtryRef>1</NtryRef>
        <Amt Ccy="EUR">1210.00</Amt>
        <CdtDbtInd>CRDT</CdtDbtInd>
        <Sts>BOOK</Sts>
        <BookgDt><Dt>2026-03-02</Dt></BookgDt>
        <ValDt><Dt>2026-03-03</Dt></ValDt>
        <AcctSvcrRef>2026030200047</AcctSvcrRef>
        <BkTxCd><Prtry><Cd>02</Cd></Prtry></BkTxCd>
        <NtryDtls><TxDtls>
          <Refs><EndToEndId>E2E-CLIENTE-1</EndToEndId></Refs>
          <RmtInf>
            <Ustrd>Pago factura PRO-2026-</Ustrd>
            <Ustrd>000123 gracias</Ustrd>
          </RmtInf>
        </TxDtls></NtryDtls>
      </Ntry>
      <Ntry>
        <Amt Ccy="EUR">45.30</Amt>
        <CdtDbtInd>DBIT</CdtDbtInd>
        <Sts>BOOK</Sts>
        <BookgDt><Dt>2026-03-03</Dt></BookgDt>
        <ValDt><Dt>2026-03-03</Dt></ValDt>
        <AcctSvcrRef>2026030300001</AcctSvcrRef>
        <AddtlNtryInf>COMISION MANTENIMIENTO</AddtlNtryInf>
      </Ntry>
      <Ntry>
        <NtryRef>3</NtryRef>
        <Amt Ccy="EUR">500.00</Amt>
        <CdtDbtInd>CRDT</CdtDbtInd>
        <Sts>BOOK</Sts>
        <BookgDt><Dt>2026-03-05</Dt></BookgDt>
        <ValDt><Dt>2026-03-05</Dt></ValDt>
        <NtryDtls><TxDtls>
          <Refs><EndToEndId>NOTPROVIDED</EndToEndId></Refs>
          <RmtInf><Strd><CdtrRefInf><Ref>RF53PRO2026000123</Ref></CdtrRefInf></Strd></RmtInf>
        </TxDtls></NtryDtls>
      </Ntry>
      <Ntry>
        <Amt Ccy="EUR">300.00</Amt>
        <CdtDbtInd>CRDT</CdtDbtInd>
        <Sts>BOOK</Sts>
        <BookgDt><Dt>2026-03-06</Dt></BookgDt>
        <ValDt><Dt>2026-03-06</Dt></ValDt>
        <AcctSvcrRef>2026030600010</AcctSvcrRef>
        <NtryDtls><Btch><NbOfTxs>2</NbOfTxs></Btch>
          <TxDtls>
            <Refs><EndToEndId>E2E-A</EndToEndId></Refs>
            <AmtDtls><TxAmt><Amt Ccy="EUR">100.00</Amt></TxAmt></AmtDtls>
            <RmtInf><Ustrd>PRO-2026-000140</Ustrd></RmtInf>
          </TxDtls>
          <TxDtls>
            <Refs><EndToEndId>E2E-B</EndToEndId></Refs>
            <AmtDtls><TxAmt><Amt Ccy="EUR">200.00</Amt></TxAmt></AmtDtls>
            <RmtInf><Ustrd>PRO-2026-000141</Ustrd></RmtInf>
          </TxDtls>
        </NtryDtls>
      </Ntry>
      <Ntry>
        <Amt Ccy="EUR">75.00</Amt>
        <CdtDbtInd>CRDT</CdtDbtInd>
        <Sts>PDNG</Sts>
        <ValDt><Dt>2026-04-01</Dt></ValDt>
      </Ntry>
      <Ntry>
        <Amt Ccy="USD">250.00</Amt>
        <CdtDbtInd>CRDT</CdtDbtInd>
        <Sts>BOOK</Sts>
        <BookgDt><Dt>2026-03-11</Dt></BookgDt>
        <ValDt><Dt>2026-03-12</Dt></ValDt>
        <AcctSvcrRef>2026031100002</AcctSvcrRef>
        <NtryDtls><TxDtls><RmtInf><Ustrd>INVOICE PRO 2026 000130</Ustrd></RmtInf></TxDtls>
        </NtryDtls>
      </Ntry>
    </Stmt>
  </BkToCstmrStmt>
</Document>
"""

# The same kind of statement in camt.053.001.08: status as a code, date-times, TxDtls/Amt.
CAMT_08 = f"""<?xml version="1.0" encoding="UTF-8"?>
<camt:Document xmlns:camt="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">
  <camt:BkToCstmrStmt>
    <camt:GrpHdr><camt:MsgId>M8</camt:MsgId></camt:GrpHdr>
    <camt:Stmt>
      <camt:Id>STMT-V8-1</camt:Id>
      <camt:Acct><camt:Id><camt:IBAN>{IBAN}</camt:IBAN></camt:Id></camt:Acct>
      <camt:Ntry>
        <camt:Amt Ccy="EUR">60.50</camt:Amt>
        <camt:CdtDbtInd>CRDT</camt:CdtDbtInd>
        <camt:Sts><camt:Cd>BOOK</camt:Cd></camt:Sts>
        <camt:BookgDt><camt:DtTm>2026-03-20T09:15:00+01:00</camt:DtTm></camt:BookgDt>
        <camt:ValDt><camt:Dt>2026-03-20</camt:Dt></camt:ValDt>
        <camt:AcctSvcrRef>V8-0001</camt:AcctSvcrRef>
        <camt:NtryDtls><camt:TxDtls>
          <camt:Refs><camt:AcctSvcrRef>V8-0001-1</camt:AcctSvcrRef>
            <camt:EndToEndId>E2E-V8</camt:EndToEndId></camt:Refs>
          <camt:Amt Ccy="EUR">60.50</camt:Amt>
          <camt:RmtInf><camt:Ustrd>pro2026000150</camt:Ustrd></camt:RmtInf>
        </camt:TxDtls></camt:NtryDtls>
      </camt:Ntry>
      <camt:Ntry>
        <camt:Amt Ccy="EUR">10.00</camt:Amt>
        <camt:CdtDbtInd>CRDT</camt:CdtDbtInd>
        <camt:Sts><camt:Cd>INFO</camt:Cd></camt:Sts>
        <camt:BookgDt><camt:Dt>2026-03-21</camt:Dt></camt:BookgDt>
      </camt:Ntry>
    </camt:Stmt>
  </camt:BkToCstmrStmt>
</camt:Document>
"""


def test_parses_booked_entries_of_a_version_02_statement() -> None:
    lines = camt053.parse(CAMT_02.encode())

    assert [(line.amount, line.direction, line.currency) for line in lines] == [
        (Decimal("1210.00"), Direction.CREDIT, "EUR"),
        (Decimal("45.30"), Direction.DEBIT, "EUR"),
        (Decimal("500.00"), Direction.CREDIT, "EUR"),
        (Decimal("100.00"), Direction.CREDIT, "EUR"),
        (Decimal("200.00"), Direction.CREDIT, "EUR"),
        (Decimal("250.00"), Direction.CREDIT, "USD"),
    ]
    transfer = lines[0]
    assert transfer.account == IBAN
    assert transfer.statement_id == "STMT-2026-03"
    assert transfer.booking_date == date(2026, 3, 2)
    assert transfer.value_date == date(2026, 3, 3)
    assert transfer.identity == f"camt:{IBAN}:2026030200047"
    assert transfer.bank_reference == "2026030200047"
    assert transfer.end_to_end_id == "E2E-CLIENTE-1"
    assert transfer.remittance == "Pago factura PRO-2026- 000123 gracias"
    assert transfer.source_line == line_of(CAMT_02, "<Ntry>")

    assert lines[1].remittance == "COMISION MANTENIMIENTO"
    structured = lines[2]
    assert structured.structured_reference == "RF53PRO2026000123"
    assert structured.remittance == "RF53PRO2026000123"
    assert structured.end_to_end_id == ""
    assert structured.identity.startswith("camt:")  # no AcctSvcrRef: a digest of the fields
    assert structured.bank_reference == "3"

    assert [line.remittance for line in lines[3:5]] == ["PRO-2026-000140", "PRO-2026-000141"]
    assert [line.end_to_end_id for line in lines[3:5]] == ["E2E-A", "E2E-B"]
    assert lines[4].source_line == line_of(CAMT_02, "<TxDtls>", 4)
    assert lines[3].identity == f"camt:{IBAN}:2026030600010/1"
    assert lines[4].identity == f"camt:{IBAN}:2026030600010/2"
    assert len({line.identity for line in lines}) == len(lines)


def test_identities_are_stable_across_reimport() -> None:
    first = [line.identity for line in camt053.parse(CAMT_02.encode())]
    second = [line.identity for line in camt053.parse(CAMT_02.encode())]
    assert first == second


def test_version_08_with_prefixed_namespace_and_date_times() -> None:
    (line,) = camt053.parse(CAMT_08.encode())  # the INFO entry is left out
    assert line.booking_date == date(2026, 3, 20)
    assert line.amount == Decimal("60.50")
    assert line.identity == f"camt:{IBAN}:V8-0001"  # the entry's AcctSvcrRef
    assert line.remittance == "pro2026000150"
    assert line.end_to_end_id == "E2E-V8"


@pytest.mark.parametrize("version", ["02", "04", "06", "08"])
def test_any_camt053_namespace_version_is_read(version: str) -> None:
    xml = CAMT_02.replace("camt.053.001.02", f"camt.053.001.{version}")
    assert len(camt053.parse(xml.encode())) == 6


def error_of(xml: str) -> StatementError:
    with pytest.raises(StatementError) as info:
        camt053.parse(xml.encode())
    return info.value


def line_of(xml: str, needle: str, occurrence: int = 1) -> int:
    position = -1
    for _ in range(occurrence):
        position = xml.index(needle, position + 1)
    return xml.count("\n", 0, position) + 1


def test_broken_xml_names_the_line() -> None:
    broken = CAMT_02.replace("</CdtDbtInd>", "</CdtDbtIndX>", 1)
    error = error_of(broken)
    assert error.line == line_of(broken, "</CdtDbtIndX>")
    assert str(error).startswith(f"line {error.line}: broken XML:")


def test_missing_amount_names_the_entry() -> None:
    xml = CAMT_02.replace('<Amt Ccy="EUR">45.30</Amt>', "")
    error = error_of(xml)
    assert str(error) == f"line {line_of(xml, '<Ntry>', 2)}: <Ntry> is missing <Amt>"


@pytest.mark.parametrize(
    ("old", "new", "words"),
    [
        (
            '<Amt Ccy="EUR">45.30</Amt>',
            '<Amt Ccy="EUR">45,30</Amt>',
            "<Amt> '45,30' is not an amount",
        ),
        ('<Amt Ccy="EUR">45.30</Amt>', "<Amt>45.30</Amt>", "no valid Ccy"),
        ("<CdtDbtInd>DBIT</CdtDbtInd>", "<CdtDbtInd>D</CdtDbtInd>", "expected CRDT or DBIT"),
        ("<CdtDbtInd>DBIT</CdtDbtInd>", "", "<Ntry> is missing <CdtDbtInd>"),
        ("<Dt>2026-03-03</Dt></BookgDt>", "<Dt>03/03/2026</Dt></BookgDt>", "is not a date"),
    ],
)
def test_malformed_entries_name_the_line(old: str, new: str, words: str) -> None:
    xml = CAMT_02.replace(old, new, 1)
    error = error_of(xml)
    assert words in str(error)
    assert error.line is not None
    assert line_of(xml, "<Ntry>", 2) <= error.line <= line_of(xml, "</Ntry>", 2)


def test_doctype_and_entities_are_refused() -> None:
    evil = CAMT_02.replace(
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<?xml version="1.0"?>\n<!DOCTYPE Document [<!ENTITY x SYSTEM "file:///etc/passwd">]>',
    ).replace("<Id>STMT-2026-03</Id>", "<Id>&x;</Id>")
    error = error_of(evil)
    assert "DOCTYPE" in str(error)


def test_other_documents_are_refused() -> None:
    error = error_of(CAMT_02.replace("BkToCstmrStmt", "BkToCstmrDbtCdtNtfctn"))
    assert "not a camt.053 document" in str(error)
    assert error.line == 2
    error = error_of("<Statement/>")
    assert str(error) == "line 1: root element is <Statement>, not <Document>"
