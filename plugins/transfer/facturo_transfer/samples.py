"""Builders of realistic bank statement files (AEB Norma 43 and camt.053), column by column
as the formats lay them out: for tests, demos and integrators checking their bank's exports."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from xml.sax.saxutils import escape


def cents(amount: Decimal, width: int = 14) -> str:
    return str(int(amount * 100)).zfill(width)


@dataclass
class Movement:
    op: str  # YYMMDD
    value: str
    amount: Decimal
    sign: str  # "1" debe (debit), "2" haber (credit)
    common: str = "02"
    doc: str = ""
    ref1: str = ""
    ref2: str = ""
    concepts: list[str] = field(default_factory=list)  # 38-char halves, two per 23 record
    original: tuple[str, Decimal] | None = None  # record 24: numeric currency, amount

    def records(self) -> list[str]:
        main = (
            f"22    0418{self.op}{self.value}{self.common}000{self.sign}{cents(self.amount)}"
            f"{self.doc:<10}{self.ref1:<12}{self.ref2:<16}"
        )
        records = [main]
        halves = self.concepts + [""] * (len(self.concepts) % 2)
        for number, start in enumerate(range(0, len(halves), 2), start=1):
            records.append(f"23{number:02d}{halves[start]:<38}{halves[start + 1]:<38}")
        if self.original:
            currency, amount = self.original
            records.append(f"2401{currency}{cents(amount)}{'':59}")
        return records


@dataclass
class Account:
    account: str = "0200051332"
    bank: str = "2100"
    branch: str = "0418"
    currency: str = "978"
    opening: Decimal = Decimal("1000.00")
    movements: list[Movement] = field(default_factory=list)

    def records(self) -> list[str]:
        key = f"{self.bank}{self.branch}{self.account}"
        header = f"11{key}260301260331{self._sign(self.opening)}{cents(abs(self.opening))}"
        header += f"{self.currency}3{'FACTURO SENALETICA SL':<26}   "
        body = [record for m in self.movements for record in m.records()]
        debits = [m.amount for m in self.movements if m.sign == "1"]
        credits = [m.amount for m in self.movements if m.sign == "2"]
        closing = self.opening + sum(credits, Decimal(0)) - sum(debits, Decimal(0))
        totals = (
            f"33{key}{len(debits):05d}{cents(sum(debits, Decimal(0)))}"
            f"{len(credits):05d}{cents(sum(credits, Decimal(0)))}"
            f"{self._sign(closing)}{cents(abs(closing))}{self.currency}    "
        )
        return [header, *body, totals]

    @staticmethod
    def _sign(balance: Decimal) -> str:
        return "2" if balance >= 0 else "1"


def n43_file(*accounts: Account, newline: str = "\n") -> str:
    records = [record for account in accounts for record in account.records()]
    records.append(f"88{'9' * 18}{len(records):06d}{'':54}")
    for record in records:
        assert len(record) == 80, record
    return newline.join(records) + newline


@dataclass
class CamtEntry:
    """One booked credit (or debit) entry of a camt.053 statement."""

    amount: Decimal
    booked: date
    remittance: list[str]
    reference: str
    currency: str = "EUR"
    credit: bool = True


def camt053_file(iban: str, entries: list[CamtEntry], version: str = "02") -> bytes:
    """A camt.053.001.<version> statement with ``entries``, as a Spanish bank exports it."""
    items = []
    for entry in entries:
        lines = "".join(f"<Ustrd>{escape(text)}</Ustrd>" for text in entry.remittance)
        items.append(
            f'<Ntry><Amt Ccy="{entry.currency}">{entry.amount:.2f}</Amt>'
            f"<CdtDbtInd>{'CRDT' if entry.credit else 'DBIT'}</CdtDbtInd><Sts>BOOK</Sts>"
            f"<BookgDt><Dt>{entry.booked.isoformat()}</Dt></BookgDt>"
            f"<ValDt><Dt>{entry.booked.isoformat()}</Dt></ValDt>"
            f"<AcctSvcrRef>{escape(entry.reference)}</AcctSvcrRef>"
            f"<NtryDtls><TxDtls><RmtInf>{lines}</RmtInf></TxDtls></NtryDtls></Ntry>"
        )
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.{version}">'
        "<BkToCstmrStmt><GrpHdr><MsgId>MSG-1</MsgId><CreDtTm>2026-03-31T20:00:00</CreDtTm></GrpHdr>"
        "<Stmt><Id>STMT-1</Id><CreDtTm>2026-03-31T20:00:00</CreDtTm>"
        f"<Acct><Id><IBAN>{iban}</IBAN></Id><Ccy>EUR</Ccy></Acct>"
        + "".join(items)
        + "</Stmt></BkToCstmrStmt></Document>"
    ).encode()
