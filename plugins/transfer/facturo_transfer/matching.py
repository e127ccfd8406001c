"""Propose which open documents the credits of a bank statement pay.

A reference is found in the remittance text whatever the spacing, case and dashes, even when
the bank split it across fields (``PRO-2026- 000123``, ``pro2026000123``, ``PRO 2026 123``).
Nothing is booked here: the proposals go to staff, or to an automatic rule that accepts only
``exact`` ones.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import NamedTuple

from .statement import StatementLine

# What may stand between the characters of a reference in a bank's remittance text.
_SEP = r"[\s\-_./:,;#]*"


class OpenDocument(NamedTuple):
    """A document awaiting payment; a plain 4-tuple works too."""

    document_id: object
    reference: str
    amount_due: Decimal
    currency: str


class Confidence(enum.StrEnum):
    """How sure a proposal is, from best to worst."""

    EXACT = "exact"  # reference found, amount equals what is due
    PARTIAL = "partial"  # reference found, less than what is due
    OVERPAYMENT = "overpayment"  # reference found, more than what is due
    CURRENCY_MISMATCH = "currency_mismatch"  # reference found, another currency
    WEAK = "weak"  # no reference; same amount and currency as an open document
    NONE = "none"  # nothing found


@dataclass(frozen=True)
class MatchProposal:
    """A proposed allocation of (part of) a credit line to one document.

    `amount` is what to allocate to the document; `difference` is the allocated amount minus
    the amount that was still due (negative: still owed; positive: overpaid). A NONE proposal
    has `document_id` None.
    """

    line: StatementLine
    document_id: object
    reference: str
    confidence: Confidence
    amount: Decimal
    difference: Decimal
    reason: str


def reference_pattern(reference: str) -> re.Pattern[str]:
    """Compile a pattern that finds `reference` in free text.

    Case, spaces and punctuation between characters are ignored, and leading zeros of the
    final number may be left out. The match may not run on into more letters or digits of the
    same kind, so ``PRO-2026-000123`` is not found in ``PRO-2026-0001234``.
    """
    chars = re.sub(r"[^0-9A-Za-z]", "", reference).upper()
    if not chars:
        raise ValueError(f"reference {reference!r} has no letters or digits")
    # The last group of digits as the reference writes it (000123 in PRO-2026-000123).
    tokens = re.findall(r"[0-9]+|[A-Za-z]+", reference)
    if tokens[-1].startswith("0"):
        prefix = _SEP.join(re.escape(c) for c in "".join(tokens[:-1]).upper())
        significant = tokens[-1].lstrip("0") or "0"
        pattern = prefix + (_SEP if prefix else "") + f"(?:0{_SEP})*"
        pattern += _SEP.join(re.escape(c) for c in significant)
    else:
        pattern = _SEP.join(re.escape(c) for c in chars)
    before = "(?<![0-9])" if chars[0].isdigit() else "(?<![A-Za-z])"
    after = "(?![0-9])" if chars[-1].isdigit() else "(?![A-Za-z])"
    return re.compile(before + pattern + after, re.IGNORECASE)


def find_references(text: str, documents: Sequence[OpenDocument]) -> list[OpenDocument]:
    """Return the documents whose reference appears in `text`, in order of appearance."""
    patterns = [reference_pattern(d.reference) for d in documents]
    return [documents[index] for index in _find(text, patterns)]


def match_lines(
    lines: Iterable[StatementLine], documents: Sequence[OpenDocument | tuple[object, ...]]
) -> list[MatchProposal]:
    """Propose matches for every credit line; debit lines are ignored.

    Lines are taken in order and what each allocates is deducted from the document's amount
    due, so two partial transfers for one document read as PARTIAL then EXACT. A line naming
    several references is shared among them in order of appearance. A line with no reference
    gets a WEAK proposal per open document of the same amount and currency, or one NONE.
    """
    docs = [OpenDocument(*d) for d in documents]
    remaining = [d.amount_due for d in docs]
    patterns = [reference_pattern(d.reference) for d in docs]
    proposals: list[MatchProposal] = []
    for line in lines:
        if not line.is_credit:
            continue
        named = _find(line.remittance, patterns)
        if named:
            proposals += _by_reference(line, docs, named, remaining)
            continue
        weak = [
            d
            for d, due in zip(docs, remaining, strict=True)
            if _same_currency(d, line) and due == line.amount
        ]
        for d in weak:
            reason = "no reference in the remittance; the amount equals what is due"
            proposals.append(
                MatchProposal(
                    line,
                    d.document_id,
                    d.reference,
                    Confidence.WEAK,
                    line.amount,
                    Decimal(0),
                    reason,
                )
            )
        if not weak:
            reason = "no reference and no open document of this amount"
            proposals.append(
                MatchProposal(line, None, "", Confidence.NONE, Decimal(0), Decimal(0), reason)
            )
    return proposals


def _find(text: str, patterns: Sequence[re.Pattern[str]]) -> list[int]:
    found: list[tuple[int, int]] = []
    for index, pattern in enumerate(patterns):
        match = pattern.search(text)
        if match:
            found.append((match.start(), index))
    return [index for _, index in sorted(found)]


def _same_currency(document: OpenDocument, line: StatementLine) -> bool:
    return document.currency.upper() == line.currency.upper()


def _by_reference(
    line: StatementLine,
    docs: list[OpenDocument],
    named: list[int],
    remaining: list[Decimal],
) -> list[MatchProposal]:
    proposals = []
    same = [index for index in named if _same_currency(docs[index], line)]
    for index in named:
        d = docs[index]
        if index not in same:
            reason = (
                f"reference found but the line is in {line.currency}, the document in {d.currency}"
            )
            proposals.append(
                MatchProposal(
                    line,
                    d.document_id,
                    d.reference,
                    Confidence.CURRENCY_MISMATCH,
                    Decimal(0),
                    Decimal(0),
                    reason,
                )
            )
    left = line.amount
    for position, index in enumerate(same):
        d = docs[index]
        due = remaining[index]
        allocated = left if position == len(same) - 1 else min(left, due)
        left -= allocated
        remaining[index] = due - allocated
        difference = allocated - due
        if difference == 0:
            confidence, reason = Confidence.EXACT, "reference found and the amount is exact"
        elif difference < 0:
            confidence = Confidence.PARTIAL
            reason = f"reference found; {-difference} still due after this payment"
        else:
            confidence = Confidence.OVERPAYMENT
            reason = f"reference found; {difference} paid over the amount due"
        proposals.append(
            MatchProposal(
                line, d.document_id, d.reference, confidence, allocated, difference, reason
            )
        )
    return proposals
