"""What one batch of the renewal run writes, decided in Python: per document its reference,
totals, credit, tax treatment and email; per line its description, amount and period.

The rows themselves are then made by the database (:func:`facturo.billing.renewal_sql.write_plan`)
from these values; each email is one rendered template per variant, filled there.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from facturo.billing.cycles import period_for
from facturo.billing.money import ZERO, to_money
from facturo.billing.renewal_sql import DueService, Plan
from facturo.billing.taxes import TaxTreatment
from facturo.billing.totals import Totals, compute_totals
from facturo.billing.vat import checkable, legends_of, treatment_of
from facturo.delivery.messages import EmailStamp, new_message_ids
from facturo.models import Customer, Document

if TYPE_CHECKING:
    from facturo.context import Context

TEMPLATE = "proforma_issued"
FIELDS = ("reference", "email", "name", "company", "docid")
_period_for = lru_cache(maxsize=4096)(period_for)
_to_money = lru_cache(maxsize=4096)(to_money)
_PLAIN_REFERENCE = re.compile(r"[A-Za-z0-9 ._/-]*")

Group = tuple[int, date, list[DueService]]  # customer, due date, its services this run won
#: groups drafted per hold of the planner's lock
DRAFT_SLICE = 200
#: Fields known only in the batch's transaction; :meth:`RunPlanner.plan` checks the reference.
NUMBERED = frozenset(("reference", "docid"))


@dataclass
class DocPlan:
    """One document of a plan: its row, its lines, the email template row it fills (None:
    the customer's credit pays it, no email), and what it was decided from."""

    row: dict[str, Any]
    lines: list[dict[str, Any]]
    email: dict[str, Any] | None
    treatment: TaxTreatment
    customer: Any


@dataclass
class _Balance:
    """A customer's credit balance as read ahead, spent by a draft that is thrown away."""

    credit_balance: Decimal


@dataclass(frozen=True)
class Treatment:
    """A tax treatment with what a run derives from it, computed once per run."""

    treatment: TaxTreatment
    legends: list[str]
    legends_json: str
    totals: dict[tuple[Decimal, ...], tuple[Totals, str]] = field(default_factory=dict)

    def totals_of(self, amounts: tuple[Decimal, ...]) -> tuple[Totals, str]:
        """The totals of lines of ``amounts`` at this treatment's rate, and their breakdown
        as JSON text."""
        found = self.totals.get(amounts)
        if found is None:
            rate = self.treatment.rate
            computed = compute_totals([(a, rate) for a in amounts])
            found = self.totals[amounts] = (computed, json.dumps(computed.breakdown))
        return found


class RunPlanner:
    """Decides the batches of one run; caches what repeats across them (tax treatments,
    totals, rendered email templates)."""

    def __init__(self, ctx: Context, day: date, names: Mapping[int, tuple[str, str]]) -> None:
        self.ctx = ctx
        self.day = day
        self.names = names
        self.stamp = EmailStamp(ctx, TEMPLATE)
        self.markers = {name: EmailStamp.marker(name) for name in FIELDS}
        self.treatments: dict[tuple[str, str, str], Treatment] = {}
        # (language, variant key) -> email id and the fields its subject shows
        self.variants: dict[Any, tuple[int, frozenset[str]]] = {}
        self.rendered: dict[int, dict[str, Any]] = {}
        #: the fields whose markers some rendered template holds (the others need no replace)
        self.used: set[str] = set()
        self.next_email = 1
        self._message_ids: list[str] = []
        #: held by whoever drafts or plans (the worker and the writer threads share the
        #: caches): by :meth:`draft` itself, around :meth:`plan` by its caller
        self.lock = threading.Lock()

    def draft(self, groups: list[Group], customers: Mapping[int, Any]) -> list[DocPlan | None]:
        """The documents of ``groups`` as far as they can be decided ahead of the batch's
        transaction (no ids, references or credit yet; see :meth:`plan`). None for those
        that need the transaction: a tax treatment that needs a VAT-number check not yet
        made, an email filled row by row.

        Runs in a worker thread while batches are written: it must not touch a database
        session. It holds :attr:`lock` a slice of DRAFT_SLICE groups at a time, so that a
        writer's :meth:`plan` (called under the lock) waits for a slice, not for the whole
        draft (0.3-0.6 s for 4,000 customers)."""
        now = self.ctx.now()
        drafts: list[DocPlan | None] = []
        for start in range(0, len(groups), DRAFT_SLICE):
            with self.lock:
                drafts.extend(
                    self._document(None, group, customers[group[0]], None, 0, "", now)
                    for group in groups[start : start + DRAFT_SLICE]
                )
        with self.lock:
            self._warm_credit_emails(groups, customers, now)
        return drafts

    def _warm_credit_emails(
        self, groups: list[Group], customers: Mapping[int, Any], now: datetime
    ) -> None:
        """Render, here in the worker, the email templates of the documents that customers
        with credit would get if their balance is still the one read ahead: :meth:`plan`
        redoes those documents in the transaction (after locking the balance) and then finds
        their templates rendered (about 400 per 100,000 services, 1 ms each). The documents
        made here are thrown away; a balance changed meanwhile only costs a render later."""
        balances: dict[int, _Balance] = {}
        for group in groups:
            customer = customers[group[0]]
            if customer.credit_balance <= 0:
                continue
            holder = balances.setdefault(customer.id, _Balance(customer.credit_balance))
            if holder.credit_balance > 0:
                self._document(None, group, customer, holder, 0, "", now)  # type: ignore[arg-type]

    def plan(
        self,
        session: Session,
        groups: list[Group],
        ids: list[int],
        references: list[str],
        customers: Mapping[int, Any],
        holders: Mapping[int, Customer],
        now: datetime,
        drafts: list[DocPlan | None] | None = None,
    ) -> tuple[Plan, list[dict[str, Any]], list[int]]:
        """The plan of a batch whose documents get ``ids`` and ``references``, the tax
        evidence rows to write, and the documents the customer's credit pays in full.

        Spends the credit of ``holders`` (entities, written back at flush). ``drafts`` (from
        :meth:`draft`, one per group) are used where still right: same customer data, no
        credit to spend, a reference the database can fill in."""
        documents: list[dict[str, Any]] = []
        lines: list[dict[str, Any]] = []
        evidence: list[dict[str, Any]] = []
        settled: list[int] = []
        emails: dict[int, dict[str, Any]] = {}
        for index, (group, doc_id, reference) in enumerate(
            zip(groups, ids, references, strict=True)
        ):
            customer_id = group[0]
            customer = customers[customer_id]
            made = drafts[index] if drafts is not None else None
            if (
                made is None
                or (made.customer is not customer and tuple(made.customer) != tuple(customer))
                or customer_id in holders
                or not _fillable_reference(reference)
            ):
                made = self._document(
                    session, group, customer, holders.get(customer_id), doc_id, reference, now
                )
                assert made is not None
            else:
                made.row["id"] = doc_id
                made.row["reference"] = reference
                made.row["created_after"] = _created_after(reference, made.row["total"])
                for line in made.lines:
                    line["document_id"] = doc_id
            documents.append(made.row)
            lines.extend(made.lines)
            if made.email is None:
                settled.append(doc_id)
            else:
                emails[made.email["id"]] = made.email
            check = _evidence_row(made.treatment, customer.tax_id, now, doc_id)
            if check is not None:
                evidence.append(check)
        return Plan(documents, lines, list(emails.values())), evidence, settled

    def _document(
        self,
        session: Session | None,
        group: Group,
        customer: Any,
        holder: Customer | None,
        doc_id: int,
        reference: str,
        now: datetime,
    ) -> DocPlan | None:
        """One document of the plan; without ``session`` (a draft) None when it needs one."""
        customer_id, due, items = group
        key = (customer.country, customer.tax_id, customer.postal_code)
        known = self.treatments.get(key)
        if known is None:
            if session is None and checkable(customer.country, customer.tax_id):
                return None  # the VAT-number check needs the transaction
            known = self._treatment(session, customer)
        treatment = known.treatment
        name_index = 1 if customer.language == "en" else 0
        amounts = []
        lines = []
        for position, item in enumerate(items):
            period_start, period_end = _period_for(due, item.cycle)
            amount = _to_money(item.price)
            amounts.append(amount)
            name = self.names[item.product_id][name_index]
            lines.append(
                {
                    "document_id": doc_id,
                    "position": position,
                    "service_id": item.id,
                    "description": name + (f" — {item.label}" if item.label else ""),
                    "amount": amount,
                    "tax_rate": treatment.rate,
                    "period_start": period_start,
                    "period_end": period_end,
                }
            )
        totals, breakdown = known.totals_of(tuple(amounts))
        credit = ZERO
        if holder is not None and holder.credit_balance > 0 and totals.total > 0:
            credit = min(holder.credit_balance, totals.total)
            holder.credit_balance -= credit
        row = {
            "id": doc_id,
            "reference": reference,
            "customer_id": customer_id,
            "due_date": due,
            "subtotal": totals.subtotal,
            "tax_total": totals.tax_total,
            "total": totals.total,
            "credit_applied": credit,
            "tax_treatment": treatment.code,
            "tax_breakdown": breakdown,
            "legends": known.legends_json,
            "language": customer.language,
            "created_after": _created_after(reference, totals.total),
            "credit_after": f'{{"applied": "{credit}"}}' if credit > 0 else None,
            "email_id": None,
            "message_id": None,
        }
        email = None
        if totals.total - credit > 0:
            email = self._email(row, known, totals, customer, now, filled=session is not None)
            if email is None:
                return None
            row["email_id"] = email["id"]
            row["message_id"] = self._message_id()
        return DocPlan(row, lines, email, treatment, customer)

    def _message_id(self) -> str:
        """A fresh Message-ID, as :func:`new_message_ids` makes them, 256 made at a time."""
        if not self._message_ids:
            self._message_ids = new_message_ids(self.ctx, 256)
            self._message_ids.reverse()
        return self._message_ids.pop()

    def _treatment(self, session: Session | None, customer: Any) -> Treatment:
        key = (customer.country, customer.tax_id, customer.postal_code)
        known = self.treatments.get(key)
        if known is None:
            found = treatment_of(self.ctx, *key, self.day, session)
            legends = legends_of(found, customer.tax_id)
            known = self.treatments[key] = Treatment(found, legends, json.dumps(legends))
        return known

    def _email(
        self,
        row: dict[str, Any],
        known: Treatment,
        totals: Totals,
        customer: Any,
        now: datetime,
        filled: bool,
    ) -> dict[str, Any] | None:
        """The email template row this document's email fills; one filled here for this row
        alone where the database's replace() would not give the same (None if not ``filled``).
        """
        # Every other field is the same for all rows of a run, or follows from these (the
        # tax breakdown and legends from subtotal and treatment).
        key = (
            row["due_date"],
            row["subtotal"],
            row["total"],
            row["credit_applied"],
            row["tax_treatment"],
            row["language"],
            bool(customer.company),
        )
        variant = self.variants.get((customer.language, key))
        if variant is None:
            build = self._builder(row, known, totals, customer, now)
            subject, text, html = self.stamp.rendered(customer.language, key, build)
            shown = frozenset(name for name, mark in self.markers.items() if mark in subject)
            variant = self.variants[(customer.language, key)] = (self.next_email, shown)
            self.rendered[self.next_email] = {
                "id": self.next_email,
                "subject": " ".join(subject.split()),
                "text_body": text,
                "html_body": html,
                "filled": 0,
            }
            self.used.update(n for n, m in self.markers.items() if m in text or m in html)
            self.used.update(shown)
            self.next_email += 1
        email_id, shown = variant
        values = (customer.email, customer.name, customer.company)
        if (
            "QXFACTUROQ" not in "".join(values)
            and all(_one_word(self._value(name, row, customer)) for name in shown - NUMBERED)
            and (not filled or _fillable_reference(row["reference"]))
        ):
            return self.rendered[email_id]
        if not filled:
            return None
        # Filled here, as the per-row code did; the database writes it as it is.
        build = self._builder(row, known, totals, customer, now)
        fields = {name: self._value(name, row, customer) for name in FIELDS}
        subject, text, html = self.stamp.render(customer.language, key, build, fields)
        email_id = self.next_email
        self.next_email += 1
        return {
            "id": email_id,
            "subject": subject,
            "text_body": text,
            "html_body": html,
            "filled": 1,
        }

    @staticmethod
    def _value(name: str, row: Mapping[str, Any], customer: Any) -> str:
        """The text that stands for the marker ``name`` in this document's email."""
        if name == "reference":
            return str(row["reference"])
        if name == "docid":
            return str(row["id"])
        return str(getattr(customer, name))

    def _builder(
        self,
        row: dict[str, Any],
        known: Treatment,
        totals: Totals,
        customer: Any,
        now: datetime,
    ) -> Callable[[], dict[str, Any]]:
        ctx, stamp = self.ctx, self.stamp

        def build() -> dict[str, Any]:
            document = Document(
                kind="proforma",
                status="unpaid",
                reference=stamp.marker("reference"),
                customer_id=row["customer_id"],
                currency=ctx.settings.currency,
                issue_date=self.day,
                due_date=row["due_date"],
                subtotal=row["subtotal"],
                tax_total=row["tax_total"],
                total=row["total"],
                amount_paid=ZERO,
                credit_applied=row["credit_applied"],
                refunded_total=ZERO,
                tax_treatment=row["tax_treatment"],
                tax_breakdown=totals.breakdown,
                legends=known.legends,
                reason="",
                source="renewal",
                language=row["language"],
                created_at=now,
            )
            person = Customer(
                email=stamp.marker("email"),
                name=stamp.marker("name"),
                company=stamp.marker("company") if customer.company else "",
                language=customer.language,
            )
            return {
                "document": document,
                "customer": person,
                "url": ctx.url("/client/documents/" + stamp.marker("docid")),
            }

        return build


def _one_word(value: str) -> bool:
    """True when ``value`` survives the subject's whitespace folding unchanged, wherever it
    stands: not empty, no whitespace."""
    return value.split() == [value]


def _fillable_reference(reference: str) -> bool:
    """True when the database may fill ``reference`` into an email template (see NUMBERED)."""
    return "QXFACTUROQ" not in reference and _one_word(reference)


def _created_after(reference: str, total: Decimal) -> str:
    """The ``document.create`` audit row's ``after``, as the JSON type would write it."""
    if _PLAIN_REFERENCE.fullmatch(reference):
        return f'{{"reference": "{reference}", "total": "{total}"}}'
    return json.dumps({"reference": reference, "total": str(total)})


def _evidence_row(
    treatment: TaxTreatment, tax_id: str, now: datetime, doc_id: int
) -> dict[str, Any] | None:
    """The tax-evidence row of a renewal priced after a VAT-number check (None: no check)."""
    check = treatment.vat_check
    if check is None:
        return None
    return {
        "document_id": doc_id,
        "vat_number": tax_id,
        "vat_status": check.status,
        "vat_reference": check.reference[:64],
        "vat_checked_at": check.checked_at,
        "vat_detail": check.detail,
        "vat_source": check.source[:32],
        "billing_country": "",
        "payment_country": "",
        "payment_source": "",
        "conflict": False,
        "reviewed_by": "",
        "review_note": "",
        "updated_at": now,
    }
