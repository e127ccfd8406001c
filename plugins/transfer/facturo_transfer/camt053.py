"""ISO 20022 camt.053 (BankToCustomerStatement) bank statements, versions .001.02 to .001.08.

Elements are found by local name, so any camt.053 namespace version is read the same way.
DTDs and entities are refused outright (the defusedxml rule), and nothing is fetched.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from decimal import Decimal

from lxml import etree
from lxml.etree import _Element as Element

from .statement import Direction, StatementError, StatementLine, digest_identity

_AMOUNT = re.compile(r"\d{1,18}(\.\d{1,5})?")
_CURRENCY = re.compile(r"[A-Z]{3}")
_BOOKED = {"BOOK", ""}


def parse(data: bytes) -> list[StatementLine]:
    """Parse a camt.053 document and return the booked entries of every statement.

    An entry with several transaction details that each carry an amount (a batch) gives one
    line per transaction; otherwise one line per entry. Pending and information-only entries
    are left out. Raises StatementError naming the element and its line when the XML is
    broken, carries a DTD, or lacks a required element (such as an entry amount).
    """
    root = _parse_xml(data)
    if _local(root) != "Document":
        raise StatementError(f"root element is <{_local(root)}>, not <Document>", line=1)
    message = _child(root, "BkToCstmrStmt")
    if message is None:
        raise StatementError(
            "not a camt.053 document: <Document> has no <BkToCstmrStmt>", line=root.sourceline
        )
    lines: list[StatementLine] = []
    statements = list(_children(message, "Stmt"))
    if not statements:
        raise StatementError("<BkToCstmrStmt> has no <Stmt>", line=message.sourceline)
    for statement in statements:
        lines.extend(_statement(statement))
    return lines


def _parse_xml(data: bytes) -> Element:
    parser = etree.XMLParser(
        resolve_entities=False,
        load_dtd=False,
        no_network=True,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )
    try:
        tree = etree.fromstring(data, parser).getroottree()
    except etree.XMLSyntaxError as exc:
        line = exc.lineno if exc.lineno else None
        raise StatementError(f"broken XML: {exc.msg}", line=line) from None
    docinfo = tree.docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise StatementError("XML with a DOCTYPE (DTD or entities) is not accepted", line=1)
    root: Element = tree.getroot()
    return root


def _statement(statement: Element) -> Iterator[StatementLine]:
    statement_id = _required_text(statement, "Id")
    account = _child(statement, "Acct")
    if account is None:
        raise StatementError("<Stmt> has no <Acct>", line=statement.sourceline)
    account_id = _text(account, "Id", "IBAN") or _text(account, "Id", "Othr", "Id")
    if not account_id:
        raise StatementError(
            "<Acct> has no <Id>/<IBAN> or <Id>/<Othr>/<Id>", line=account.sourceline
        )
    account_id = re.sub(r"\s", "", account_id).upper()
    seen: dict[tuple[object, ...], int] = {}
    for entry in _children(statement, "Ntry"):
        status = _text(entry, "Sts", "Cd") or _text(entry, "Sts")
        if status.upper() not in _BOOKED:
            continue
        yield from _entry(entry, account_id, statement_id, seen)


def _entry(
    entry: Element, account: str, statement_id: str, seen: dict[tuple[object, ...], int]
) -> Iterator[StatementLine]:
    amount, currency = _amount(entry, "Ntry")
    indicator = _required_text(entry, "CdtDbtInd")
    if indicator not in ("CRDT", "DBIT"):
        raise StatementError(
            f"<CdtDbtInd> is {indicator!r}, expected CRDT or DBIT", line=_line(entry, "CdtDbtInd")
        )
    direction = Direction.CREDIT if indicator == "CRDT" else Direction.DEBIT
    booking = _date(entry, "BookgDt")
    value = _date(entry, "ValDt")
    if booking is None and value is None:
        raise StatementError("<Ntry> has neither <BookgDt> nor <ValDt>", line=entry.sourceline)
    booking = booking or value
    value = value or booking
    assert booking is not None and value is not None
    service_ref = _text(entry, "AcctSvcrRef")
    entry_ref = _text(entry, "NtryRef")
    details = [tx for batch in _children(entry, "NtryDtls") for tx in _children(batch, "TxDtls")]
    split = len(details) > 1 and all(_tx_amount(tx) is not None for tx in details)
    groups: list[list[Element]] = [[tx] for tx in details] if split else [details]
    for index, group in enumerate(groups, start=1):
        line_amount, line_currency = amount, currency
        tx_ref = ""
        if split:
            found = _tx_amount(group[0])
            assert found is not None
            line_amount, line_currency = found
            tx_ref = _text(group[0], "Refs", "AcctSvcrRef")
        texts: list[str] = []
        structured: list[str] = []
        end_to_end = ""
        reason = ""
        for tx in group:
            texts += _texts(tx, "RmtInf", "Ustrd")
            for strd in _children_path(tx, "RmtInf", "Strd"):
                structured += _texts(strd, "CdtrRefInf", "Ref")
                texts += _texts(strd, "AddtlRmtInf")
            end_to_end = end_to_end or _text(tx, "Refs", "EndToEndId")
            reason = reason or _text(tx, "RtrInf", "Rsn", "Cd")
            texts += _texts(tx, "AddtlTxInf")
        if not texts and not structured:
            texts = _texts(entry, "AddtlNtryInf")
        if end_to_end == "NOTPROVIDED":
            end_to_end = ""
        remittance = " ".join(t for t in [*structured, *texts] if t)
        bank_reference = tx_ref or service_ref or entry_ref
        if tx_ref or service_ref:
            suffix = f"/{index}" if split and not tx_ref else ""
            identity = f"camt:{account}:{bank_reference}{suffix}"
        else:
            key = (account, booking, value, direction.value, line_amount, entry_ref, remittance)
            seen[key] = seen.get(key, 0) + 1
            identity = digest_identity("camt", *key, seen[key])
        yield StatementLine(
            identity=identity,
            account=account,
            statement_id=statement_id,
            booking_date=booking,
            value_date=value,
            amount=line_amount,
            direction=direction,
            currency=line_currency,
            remittance=remittance,
            bank_reference=bank_reference,
            end_to_end_id=end_to_end,
            return_reason=reason,
            structured_reference=structured[0] if structured else "",
            source_line=group[0].sourceline if split else entry.sourceline,
        )


def _amount(element: Element, owner: str) -> tuple[Decimal, str]:
    amt = _child(element, "Amt")
    if amt is None:
        raise StatementError(f"<{owner}> is missing <Amt>", line=element.sourceline)
    return _parse_amount(amt)


def _parse_amount(amt: Element) -> tuple[Decimal, str]:
    text = (amt.text or "").strip()
    if not _AMOUNT.fullmatch(text):
        raise StatementError(f"<Amt> {text!r} is not an amount", line=amt.sourceline)
    currency = (amt.get("Ccy") or "").strip()
    if not _CURRENCY.fullmatch(currency):
        raise StatementError(
            f"<Amt> has no valid Ccy attribute ({currency!r})", line=amt.sourceline
        )
    return Decimal(text), currency


def _tx_amount(tx: Element) -> tuple[Decimal, str] | None:
    # .001.02 puts it in AmtDtls/TxAmt/Amt; later versions also have TxDtls/Amt.
    amt = _child(tx, "Amt")
    if amt is None:
        found = list(_children_path(tx, "AmtDtls", "TxAmt", "Amt"))
        amt = found[0] if found else None
    return None if amt is None else _parse_amount(amt)


def _date(entry: Element, name: str) -> date | None:
    holder = _child(entry, name)
    if holder is None:
        return None
    for tag, size in (("Dt", 10), ("DtTm", 10)):
        element = _child(holder, tag)
        if element is not None:
            text = (element.text or "").strip()
            try:
                return date.fromisoformat(text[:size])
            except ValueError:
                raise StatementError(
                    f"<{name}>/<{tag}> {text!r} is not a date", line=element.sourceline
                ) from None
    raise StatementError(f"<{name}> has neither <Dt> nor <DtTm>", line=holder.sourceline)


def _local(element: Element) -> str:
    return str(etree.QName(element).localname)


def _children(element: Element, name: str) -> Iterator[Element]:
    for child in element:
        if isinstance(child.tag, str) and _local(child) == name:
            yield child


def _child(element: Element, name: str) -> Element | None:
    return next(_children(element, name), None)


def _children_path(element: Element, *path: str) -> Iterator[Element]:
    current = [element]
    for name in path:
        current = [child for parent in current for child in _children(parent, name)]
    yield from current


def _texts(element: Element, *path: str) -> list[str]:
    return [" ".join((e.text or "").split()) for e in _children_path(element, *path)]


def _text(element: Element, *path: str) -> str:
    found = _texts(element, *path)
    return found[0] if found else ""


def _required_text(element: Element, name: str) -> str:
    text = _text(element, name)
    if not text:
        raise StatementError(f"<{_local(element)}> is missing <{name}>", line=_line(element, name))
    return text


def _line(element: Element, name: str) -> int | None:
    child = _child(element, name)
    line: int | None = (child if child is not None else element).sourceline
    return line
