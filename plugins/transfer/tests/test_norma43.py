from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

import pytest
from stdnum import iban

from facturo_transfer import norma43
from facturo_transfer.samples import Account, Movement, cents, n43_file
from facturo_transfer.statement import Direction, StatementError


@pytest.fixture
def eur_account() -> Account:
    return Account(
        movements=[
            Movement(
                "260302",
                "260302",
                Decimal("1210.00"),
                "2",
                doc="0000004711",
                ref1="B12345678",
                concepts=["TRANSF DE CLIENTE EJEMPLO SL", "CONCEPTO PAGO PRO-2026-", "000123"],
            ),
            Movement("260303", "260303", Decimal("45.30"), "1", common="17", ref2="COMISION"),
            Movement("260305", "260306", Decimal("500.00"), "2", ref2="pro2026000124"),
            Movement(
                "260310",
                "260310",
                Decimal("99.99"),
                "2",
                concepts=["TRANSFER FROM ACME INC", "INVOICE PRO 2026 000125"],
                original=("840", Decimal("108.50")),
            ),
        ]
    )


@pytest.fixture
def usd_account() -> Account:
    return Account(
        account="0200099999",
        currency="840",
        opening=Decimal("0"),
        movements=[
            Movement("260311", "260312", Decimal("250.00"), "2", concepts=["PRO-2026-000130"]),
        ],
    )


def test_parses_movements_of_several_accounts_and_currencies(
    eur_account: Account, usd_account: Account
) -> None:
    lines = norma43.parse(n43_file(eur_account, usd_account).encode("latin-1"))

    assert [(line.amount, line.direction, line.currency) for line in lines] == [
        (Decimal("1210.00"), Direction.CREDIT, "EUR"),
        (Decimal("45.30"), Direction.DEBIT, "EUR"),
        (Decimal("500.00"), Direction.CREDIT, "EUR"),
        (Decimal("99.99"), Direction.CREDIT, "EUR"),
        (Decimal("250.00"), Direction.CREDIT, "USD"),
    ]
    first = lines[0]
    assert first.account == "ES9121000418450200051332"
    assert first.statement_id == "ES9121000418450200051332:20260301-20260331"
    assert first.booking_date == date(2026, 3, 2)
    assert first.bank_reference == "0000004711"
    assert first.source_line == 2
    assert first.remittance == (
        "B12345678 TRANSF DE CLIENTE EJEMPLO SL CONCEPTO PAGO PRO-2026- 000123"
    )
    assert lines[1].signed_amount == Decimal("-45.30")
    assert lines[2].value_date == date(2026, 3, 6)
    assert lines[2].remittance == "pro2026000124"
    assert (lines[3].original_currency, lines[3].original_amount) == ("USD", Decimal("108.50"))
    assert lines[4].account == norma43.account_iban("210004180200099999")
    assert iban.is_valid(lines[4].account) and lines[4].account.endswith("0200099999")
    assert len({line.identity for line in lines}) == 5


def test_identity_is_stable_across_reimport_and_overlapping_statements(
    eur_account: Account,
) -> None:
    once = norma43.parse(n43_file(eur_account))
    again = norma43.parse(n43_file(eur_account, newline="\r\n"))
    assert [line.identity for line in once] == [line.identity for line in again]

    eur_account.movements.insert(0, Movement("260301", "260301", Decimal("7"), "1"))
    longer = norma43.parse(n43_file(eur_account))
    assert {line.identity for line in once} < {line.identity for line in longer}


def test_identical_movements_on_one_day_get_distinct_identities() -> None:
    twin = Movement("260302", "260302", Decimal("20.00"), "2", concepts=["CUOTA"])
    account = Account(movements=[twin, twin])
    lines = norma43.parse(n43_file(account))
    assert lines[0].identity != lines[1].identity


def test_tolerates_crlf_bom_and_trailing_blank_lines(eur_account: Account) -> None:
    text = "\ufeff" + n43_file(eur_account, newline="\r\n") + "\r\n\r\n"
    assert len(norma43.parse(text.encode("utf-8"))) == 4


def test_latin1_text_is_kept() -> None:
    account = Account(movements=[Movement("260302", "260302", Decimal("1"), "2", ref2="ÑANDÚ")])
    (line,) = norma43.parse(n43_file(account).encode("latin-1"))
    assert line.remittance == "ÑANDÚ"


def test_negative_opening_balance() -> None:
    account = Account(
        opening=Decimal("-50.00"), movements=[Movement("260302", "260302", Decimal("80"), "2")]
    )
    (line,) = norma43.parse(n43_file(account))
    assert line.amount == Decimal("80.00")


def replace_line(text: str, number: int, new: str) -> str:
    records = text.split("\n")
    records[number - 1] = new
    return "\n".join(records)


def error_of(text: str) -> StatementError:
    with pytest.raises(StatementError) as info:
        norma43.parse(text)
    return info.value


def test_wrong_record_length_names_the_line(eur_account: Account) -> None:
    text = n43_file(eur_account)
    short = text.split("\n")[3][:79]
    error = error_of(replace_line(text, 4, short))
    assert error.line == 4
    assert str(error) == "line 4: record 23 is 79 characters long, expected 80"


def test_bad_totals_in_33_name_the_line(eur_account: Account) -> None:
    text = n43_file(eur_account)
    records = text.split("\n")
    number = next(i for i, r in enumerate(records, start=1) if r.startswith("33"))
    totals = records[number - 1]
    tampered = totals[:44] + cents(Decimal("1809.98")) + totals[58:]
    error = error_of(replace_line(text, number, tampered))
    assert error.line == number
    assert "total importes haber is 1809.98 but the movements add up to 1809.99" in str(error)

    wrong_count = totals[:20] + "00002" + totals[25:]
    error = error_of(replace_line(text, number, wrong_count))
    assert f"line {number}: record 33: número de apuntes debe is 2" in str(error)


def test_wrong_closing_balance_in_33(eur_account: Account) -> None:
    text = n43_file(eur_account)
    records = text.split("\n")
    number = next(i for i, r in enumerate(records, start=1) if r.startswith("33"))
    totals = records[number - 1]
    error = error_of(replace_line(text, number, totals[:59] + cents(Decimal("1")) + totals[73:]))
    assert error.line == number
    assert "saldo final" in str(error)


def test_unknown_record_code_names_the_line(eur_account: Account) -> None:
    text = n43_file(eur_account)
    error = error_of(replace_line(text, 3, "99" + text.split("\n")[2][2:]))
    assert str(error) == "line 3: unknown record code '99'"


@pytest.mark.parametrize(
    ("line", "make", "words"),
    [
        (2, lambda r: r[:28] + "0000000001A000" + r[42:], "field importe (columns 29-42)"),
        (2, lambda r: r[:27] + "3" + r[28:], "must be 1 (debe) or 2 (haber)"),
        (2, lambda r: r[:10] + "261302" + r[16:], "is not a date YYMMDD"),
        (3, lambda r: "2306" + r[4:], "código de dato 06 is not 01..05"),
        (4, lambda r: "2301" + r[4:], "concept 01 repeated"),
        (1, lambda r: r[:47] + "999" + r[50:], "unknown currency 999"),
    ],
)
def test_malformed_fields_name_the_line(
    eur_account: Account, line: int, make: Callable[[str], str], words: str
) -> None:
    text = n43_file(eur_account)
    error = error_of(replace_line(text, line, make(text.split("\n")[line - 1])))
    assert error.line == line
    assert words in str(error)


def test_records_out_of_place(eur_account: Account) -> None:
    records = n43_file(eur_account).split("\n")
    # a 23 right after the header, before any 22
    error = error_of("\n".join([records[0], records[2], *records[1:]]))
    assert str(error) == "line 2: record 23 without a movement 22 before it"
    # a 22 before any 11
    error = error_of("\n".join(records[1:]))
    assert str(error) == "line 1: record 22 outside an account (no 11 before)"


def test_missing_end_of_file_record(eur_account: Account) -> None:
    records = n43_file(eur_account).rstrip("\n").split("\n")
    error = error_of("\n".join(records[:-1]))
    assert "ends without the end-of-file record 88" in str(error)
    assert error.line == len(records) - 1


def test_wrong_record_count_in_88(eur_account: Account) -> None:
    records = n43_file(eur_account).rstrip("\n").split("\n")
    records[-1] = records[-1][:20] + "000003" + records[-1][26:]
    error = error_of("\n".join(records))
    assert error.line == len(records)
    assert "número de registros is 3" in str(error)
