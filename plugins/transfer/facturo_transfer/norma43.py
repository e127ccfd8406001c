"""AEB Norma 43 (Cuaderno 43) bank statements: fixed-width records of 80 characters.

A file holds one or more accounts, each ``11`` (header), then movements ``22`` each followed by
up to five ``23`` (concept text) and one ``24`` (amount in the original currency), closed by
``33`` (totals); ``88`` ends the file. Amounts have 14 digits with 2 implied decimals, dates are
YYMMDD and the debe/haber key is 1 (debit) or 2 (credit).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import NoReturn

from stdnum.es import ccc as stdnum_ccc

from .statement import Direction, StatementError, StatementLine, digest_identity

RECORD_LENGTH = 80
_MAX_CONCEPTS = 5

# ISO 4217 numeric codes of the currencies a Spanish bank account is kept in.
CURRENCIES = {
    "036": "AUD",
    "124": "CAD",
    "156": "CNY",
    "203": "CZK",
    "208": "DKK",
    "348": "HUF",
    "392": "JPY",
    "484": "MXN",
    "504": "MAD",
    "554": "NZD",
    "578": "NOK",
    "643": "RUB",
    "752": "SEK",
    "756": "CHF",
    "826": "GBP",
    "840": "USD",
    "946": "RON",
    "949": "TRY",
    "975": "BGN",
    "978": "EUR",
    "985": "PLN",
    "986": "BRL",
}


@dataclass
class _Movement:
    line: int
    booking_date: date
    value_date: date
    common_concept: str
    own_concept: str
    direction: Direction
    amount: Decimal
    document: str
    reference1: str
    reference2: str
    concepts: list[str] = field(default_factory=list)
    concept_codes: set[str] = field(default_factory=set)
    original_currency: str = ""
    original_amount: Decimal | None = None


@dataclass
class _Account:
    line: int
    key: str
    start: date
    end: date
    opening: Decimal
    currency: str
    movements: list[_Movement] = field(default_factory=list)


def parse(data: bytes | str) -> list[StatementLine]:
    """Parse a Norma 43 file and return its movements in file order.

    Bytes are read as UTF-8, or Latin-1 when they are not UTF-8. Trailing CR/LF and blank
    lines at the end are accepted; every other deviation (record length, unknown record code,
    record out of place, non-numeric field, totals in 33 that do not add up, missing 88)
    raises StatementError naming the line.
    """
    text = _decode(data)
    records = re.split(r"\r\n|\r|\n", text)
    while records and not records[-1].strip():
        records.pop()
    lines: list[StatementLine] = []
    account: _Account | None = None
    movement: _Movement | None = None
    ended = False
    for number, record in enumerate(records, start=1):
        if ended:
            raise StatementError("data after the end-of-file record 88", line=number)
        code = record[:2]
        if code not in ("11", "22", "23", "24", "33", "88"):
            raise StatementError(f"unknown record code {code!r}", line=number)
        if len(record) != RECORD_LENGTH:
            raise StatementError(
                f"record {code} is {len(record)} characters long, expected {RECORD_LENGTH}",
                line=number,
            )
        r = _Record(record, number)
        if code == "11":
            if account is not None:
                raise StatementError("record 11 before the previous account's 33", line=number)
            account = _header(r)
            movement = None
        elif code == "88":
            if account is not None:
                raise StatementError("record 88 before the account's closing 33", line=number)
            _end_of_file(r, number - 1)
            ended = True
        elif account is None:
            raise StatementError(f"record {code} outside an account (no 11 before)", line=number)
        elif code == "22":
            movement = _movement(r)
            account.movements.append(movement)
        elif code == "23":
            if movement is None:
                raise StatementError("record 23 without a movement 22 before it", line=number)
            _concept(r, movement)
        elif code == "24":
            if movement is None:
                raise StatementError("record 24 without a movement 22 before it", line=number)
            _equivalence(r, movement)
        else:  # 33
            _totals(r, account)
            lines.extend(_lines(account))
            account = None
            movement = None
    if not ended:
        raise StatementError("the file ends without the end-of-file record 88", line=len(records))
    return lines


class _Record:
    """One record with 1-based, inclusive column access as the AEB layout is written."""

    def __init__(self, text: str, number: int) -> None:
        self.text = text
        self.number = number
        self.code = text[:2]

    def text_at(self, start: int, end: int) -> str:
        return self.text[start - 1 : end].strip()

    def digits(self, start: int, end: int, name: str) -> str:
        value = self.text[start - 1 : end]
        if not value.isdigit() or not value.isascii():
            self.fail(f"field {name} (columns {start}-{end}) is not numeric: {value!r}")
        return value

    def amount(self, start: int, end: int, name: str) -> Decimal:
        return Decimal(self.digits(start, end, name)).scaleb(-2)

    def date(self, start: int, name: str) -> date:
        value = self.digits(start, start + 5, name)
        try:
            return date(2000 + int(value[:2]), int(value[2:4]), int(value[4:]))
        except ValueError:
            self.fail(f"field {name} (columns {start}-{start + 5}) is not a date YYMMDD: {value}")

    def direction(self, column: int, name: str) -> Direction:
        key = self.text[column - 1]
        if key == "1":
            return Direction.DEBIT
        if key == "2":
            return Direction.CREDIT
        self.fail(f"field {name} (column {column}) must be 1 (debe) or 2 (haber), not {key!r}")

    def currency(self, start: int, name: str) -> str:
        value = self.digits(start, start + 2, name)
        if value not in CURRENCIES:
            self.fail(f"field {name} (columns {start}-{start + 2}): unknown currency {value}")
        return CURRENCIES[value]

    def fail(self, message: str) -> NoReturn:
        raise StatementError(f"record {self.code}: {message}", line=self.number)


def _decode(data: bytes | str) -> str:
    if isinstance(data, str):
        text = data
    else:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = data.decode("latin-1")
    return text.lstrip("\ufeff").rstrip("\x1a")


def _header(r: _Record) -> _Account:
    r.digits(3, 20, "bank/branch/account")
    start = r.date(21, "fecha inicial")
    end = r.date(27, "fecha final")
    if end < start:
        r.fail(f"fecha final {end} is before fecha inicial {start}")
    sign = r.direction(33, "clave debe/haber del saldo inicial")
    opening = r.amount(34, 47, "saldo inicial")
    return _Account(
        line=r.number,
        key=r.text[2:20],
        start=start,
        end=end,
        opening=opening if sign is Direction.CREDIT else -opening,
        currency=r.currency(48, "divisa"),
    )


def _movement(r: _Record) -> _Movement:
    return _Movement(
        line=r.number,
        booking_date=r.date(11, "fecha operación"),
        value_date=r.date(17, "fecha valor"),
        common_concept=r.digits(23, 24, "concepto común"),
        own_concept=r.text_at(25, 27),
        direction=r.direction(28, "clave debe/haber"),
        amount=r.amount(29, 42, "importe"),
        document=r.text_at(43, 52),
        reference1=r.text_at(53, 64),
        reference2=r.text_at(65, 80),
    )


def _concept(r: _Record, movement: _Movement) -> None:
    code = r.digits(3, 4, "código de dato")
    if not 1 <= int(code) <= _MAX_CONCEPTS:
        r.fail(f"código de dato {code} is not 01..05")
    if code in movement.concept_codes:
        r.fail(f"concept {code} repeated for the movement on line {movement.line}")
    movement.concept_codes.add(code)
    movement.concepts += [r.text_at(5, 42), r.text_at(43, 80)]


def _equivalence(r: _Record, movement: _Movement) -> None:
    if movement.original_amount is not None:
        r.fail(f"a second record 24 for the movement on line {movement.line}")
    movement.original_currency = r.currency(5, "divisa origen")
    movement.original_amount = r.amount(8, 21, "importe equivalente")


def _totals(r: _Record, account: _Account) -> None:
    if r.text[2:20] != account.key:
        r.fail(f"account {r.text[2:20]!r} does not match the header on line {account.line}")
    debits = [m.amount for m in account.movements if m.direction is Direction.DEBIT]
    credits = [m.amount for m in account.movements if m.direction is Direction.CREDIT]
    checks = (
        ("número de apuntes debe", int(r.digits(21, 25, "apuntes debe")), len(debits)),
        ("total importes debe", r.amount(26, 39, "total debe"), sum(debits, Decimal(0))),
        ("número de apuntes haber", int(r.digits(40, 44, "apuntes haber")), len(credits)),
        ("total importes haber", r.amount(45, 58, "total haber"), sum(credits, Decimal(0))),
    )
    for name, declared, counted in checks:
        if declared != counted:
            r.fail(f"{name} is {declared} but the movements add up to {counted}")
    sign = r.direction(59, "clave debe/haber del saldo final")
    closing = r.amount(60, 73, "saldo final")
    closing = closing if sign is Direction.CREDIT else -closing
    expected = account.opening + checks[3][2] - checks[1][2]
    if closing != expected:
        r.fail(f"saldo final is {closing} but opening balance and movements give {expected}")
    if r.currency(74, "divisa") != account.currency:
        r.fail(f"currency differs from the header on line {account.line}")


def _end_of_file(r: _Record, records_before: int) -> None:
    r.digits(3, 20, "nueves")
    declared = int(r.digits(21, 26, "número de registros"))
    # The count excludes the 88 record itself; some banks include it, which we also accept.
    if declared not in (records_before, records_before + 1):
        r.fail(f"número de registros is {declared} but the file has {records_before} records")


def account_iban(key: str) -> str:
    """Return the Spanish IBAN of an 18-digit bank+branch+account key (the CCC without DC)."""
    ccc = key[:8] + "00" + key[8:]
    ccc = key[:8] + stdnum_ccc.calc_check_digits(ccc) + key[8:]
    return str(stdnum_ccc.to_iban(ccc))


def _lines(account: _Account) -> list[StatementLine]:
    account_id = account_iban(account.key)
    statement_id = f"{account_id}:{account.start:%Y%m%d}-{account.end:%Y%m%d}"
    seen: Counter[tuple[object, ...]] = Counter()
    result = []
    for m in account.movements:
        remittance = " ".join(p for p in (m.reference1, m.reference2, *m.concepts) if p)
        key = (
            account_id,
            m.booking_date.isoformat(),
            m.value_date.isoformat(),
            m.direction.value,
            m.amount,
            m.common_concept,
            m.document,
            remittance,
        )
        # Identical movements on the same day keep apart by their order of appearance.
        seen[key] += 1
        result.append(
            StatementLine(
                identity=digest_identity("n43", *key, seen[key]),
                account=account_id,
                statement_id=statement_id,
                booking_date=m.booking_date,
                value_date=m.value_date,
                amount=m.amount,
                direction=m.direction,
                currency=account.currency,
                remittance=remittance,
                bank_reference=m.document,
                original_amount=m.original_amount,
                original_currency=m.original_currency,
                source_line=m.line,
            )
        )
    return result
