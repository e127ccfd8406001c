"""The staff dashboard's figures: revenue, MRR/ARR, renewals due, add-on renewal and churn,
payments by method and receivables ageing.

Each figure is a handful of aggregate queries (GROUP BY in the database, never a Python loop
over every document); amounts are Decimal in the business currency (documents, services and
payments in other currencies are left out, as they cannot be added up). Periods are business
months: the last 12 are the current month and the 11 before it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import and_, case, extract, func, select
from sqlalchemy.orm import Session

from facturo.billing.money import ZERO, to_money
from facturo.billing.movements import MONEY_BACK
from facturo.models import Document, DocumentLine, Payment, Product, Refund, Service
from facturo.models.catalog import CYCLES

CENT = Decimal("0.01")
MONTHS_BACK = 12
RENEWAL_HORIZON_DAYS = 90
#: Receivables ageing buckets: (key, first day past due, last day past due or None).
AGEING_BUCKETS: tuple[tuple[str, int | None, int | None], ...] = (
    ("not_due", None, -1),
    ("0-30", 0, 30),
    ("31-60", 31, 60),
    ("61-90", 61, 90),
    ("90+", 91, None),
)


def _money(value: Any) -> Decimal:
    return to_money(str(value)) if value is not None else ZERO


def month_start(day: date, back: int = 0) -> date:
    """The first day of the month ``back`` months before ``day``'s month."""
    index = day.year * 12 + day.month - 1 - back
    return date(index // 12, index % 12 + 1, 1)


def last_months(today: date, count: int = MONTHS_BACK) -> list[date]:
    """The first days of the last ``count`` months, oldest first, ending with ``today``'s."""
    return [month_start(today, back) for back in range(count - 1, -1, -1)]


@dataclass(frozen=True)
class MonthRevenue:
    """Invoiced in one month less what credit notes of that month gave back."""

    month: date
    base: Decimal
    total: Decimal
    credited: Decimal


def revenue_by_month(session: Session, today: date, currency: str) -> list[MonthRevenue]:
    """Net revenue per month for the last 12 months by ``invoice_date``: issued invoices plus
    credit notes (negative), tax base and total with tax; ``credited`` is the tax-inclusive
    amount the month's credit notes gave back (positive). Months with nothing are zero."""
    months = last_months(today)
    year = extract("year", Document.invoice_date)
    month = extract("month", Document.invoice_date)
    credit = case((Document.kind == "credit_note", Document.total), else_=0)
    rows = session.execute(
        select(
            year,
            month,
            func.sum(Document.subtotal),
            func.sum(Document.total),
            func.sum(credit),
        )
        .where(
            Document.kind.in_(("invoice", "credit_note")),
            Document.number.is_not(None),
            Document.currency == currency,
            Document.invoice_date >= months[0],
            Document.invoice_date <= today,
        )
        .group_by(year, month)
    )
    found = {(int(y), int(m)): (b, t, c) for y, m, b, t, c in rows}
    result = []
    for first in months:
        base, total, credited = found.get((first.year, first.month), (0, 0, 0))
        result.append(MonthRevenue(first, _money(base), _money(total), -_money(credited)))
    return result


@dataclass(frozen=True)
class Recurring:
    """Monthly and annual recurring revenue of active services, and how many there are."""

    mrr: Decimal
    arr: Decimal
    services: int


def monthly_equivalent(price: Decimal, cycle: str) -> Decimal:
    """``price`` per month for a service billed every ``cycle`` (annual/12…), half-up to
    cents; an unknown cycle counts as monthly."""
    return (price / CYCLES.get(cycle, 1)).quantize(CENT, rounding=ROUND_HALF_UP)


def recurring_revenue(session: Session, currency: str) -> Recurring:
    """MRR (each active service's monthly equivalent, rounded per service) and ARR (12×)."""
    rows = session.execute(
        select(Service.cycle, Service.price, func.count())
        .where(Service.status == "active", Service.currency == currency)
        .group_by(Service.cycle, Service.price)
    )
    mrr, count = ZERO, 0
    for cycle, price, services in rows:
        mrr += monthly_equivalent(_money(price), cycle) * services
        count += services
    return Recurring(mrr, mrr * 12, count)


@dataclass(frozen=True)
class MonthRenewals:
    """Active services coming due in one month: how many and their price (before tax)."""

    month: date
    count: int
    amount: Decimal


def renewals_due(
    session: Session, today: date, currency: str, days: int = RENEWAL_HORIZON_DAYS
) -> list[MonthRenewals]:
    """Active services due from ``today`` to ``today + days`` (inclusive), per month, every
    month of the span listed (zero when none is due)."""
    end = today + timedelta(days=days)
    year = extract("year", Service.next_due_date)
    month = extract("month", Service.next_due_date)
    rows = session.execute(
        select(year, month, func.count(), func.sum(Service.price))
        .where(
            Service.status == "active",
            Service.currency == currency,
            Service.next_due_date >= today,
            Service.next_due_date <= end,
        )
        .group_by(year, month)
    )
    found = {(int(y), int(m)): (int(n), _money(a)) for y, m, n, a in rows}
    result, first = [], month_start(today)
    while first <= end:
        count, amount = found.get((first.year, first.month), (0, ZERO))
        result.append(MonthRenewals(first, count, amount))
        first = month_start(first, -1)
    return result


@dataclass(frozen=True)
class AddonRetention:
    """One add-on's services that came due in the window: renewed (paid renewals) and lost
    (terminated or cancelled after having been active)."""

    product_id: int
    name_es: str
    name_en: str
    renewed: int
    lost: int

    def name(self, language: str) -> str:
        """The add-on's name in ``language``."""
        return self.name_en if language == "en" else self.name_es

    @property
    def due(self) -> int:
        """Renewals that came due."""
        return self.renewed + self.lost

    @property
    def renewal_rate(self) -> Decimal:
        """Renewed as a percentage of those due (one decimal; 0 when none came due)."""
        return _percent(self.renewed, self.due)

    @property
    def churn_rate(self) -> Decimal:
        """Lost as a percentage of those due (one decimal; 0 when none came due)."""
        return _percent(self.lost, self.due)


def _percent(part: int, whole: int) -> Decimal:
    if not whole:
        return Decimal("0.0")
    return (Decimal(part) * 100 / whole).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def addon_retention(session: Session, today: date) -> list[AddonRetention]:
    """Per add-on product (a product with a parent), over the last 12 months: renewal periods
    starting in the window that were paid (a ``renew`` line on an invoice) and services that
    were active once and are now terminated or cancelled with their unpaid due date in the
    window. Add-ons with neither are left out; ordered by name."""
    start = month_start(today, MONTHS_BACK - 1)
    renewed_rows = session.execute(
        select(Service.product_id, func.count(func.distinct(DocumentLine.id)))
        .join(Service, Service.id == DocumentLine.service_id)
        .join(Document, Document.id == DocumentLine.document_id)
        .join(Product, Product.id == Service.product_id)
        .where(
            Product.parent_id.is_not(None),
            DocumentLine.action == "renew",
            Document.kind == "invoice",
            Document.number.is_not(None),
            DocumentLine.period_start >= start,
            DocumentLine.period_start <= today,
        )
        .group_by(Service.product_id)
    )
    lost_rows = session.execute(
        select(Service.product_id, func.count())
        .join(Product, Product.id == Service.product_id)
        .where(
            Product.parent_id.is_not(None),
            Service.status.in_(("terminated", "cancelled")),
            Service.activated_at.is_not(None),
            Service.next_due_date >= start,
            Service.next_due_date <= today,
        )
        .group_by(Service.product_id)
    )
    counts: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for product_id, count in renewed_rows:
        counts[product_id][0] = int(count)
    for product_id, count in lost_rows:
        counts[product_id][1] = int(count)
    if not counts:
        return []
    names = session.execute(
        select(Product.id, Product.name_es, Product.name_en).where(Product.id.in_(counts))
    )
    result = [AddonRetention(pid, es, en, counts[pid][0], counts[pid][1]) for pid, es, en in names]
    return sorted(result, key=lambda row: (row.name_en, row.product_id))


@dataclass(frozen=True)
class MethodTakings:
    """Money received by one payment method in the window, less what was given back."""

    gateway: str
    received: Decimal
    refunded: Decimal

    @property
    def net(self) -> Decimal:
        """Received less refunded."""
        return self.received - self.refunded


def payments_by_method(
    session: Session, today: date, currency: str, zone: Any
) -> list[MethodTakings]:
    """Applied payments and refunds that moved money, per method, since the start of the
    month 11 months ago (business zone). A refund counts against the method of the payment it
    returns (a manual refund of a transfer is the transfer's). Largest net first."""
    since = datetime.combine(month_start(today, MONTHS_BACK - 1), time(), tzinfo=zone)
    received = session.execute(
        select(Payment.gateway, func.sum(Payment.amount))
        .where(Payment.status == "applied", Payment.currency == currency, Payment.paid_at >= since)
        .group_by(Payment.gateway)
    )
    method = func.coalesce(Payment.gateway, Refund.gateway)
    refunded = session.execute(
        select(method, func.sum(Refund.amount))
        .select_from(Refund)
        .outerjoin(Payment, Payment.id == Refund.payment_id)
        .where(
            Refund.status.in_(MONEY_BACK),
            Refund.currency == currency,
            Refund.created_at >= since,
        )
        .group_by(method)
    )
    sums: dict[str, list[Decimal]] = defaultdict(lambda: [ZERO, ZERO])
    for gateway, amount in received:
        sums[gateway][0] = _money(amount)
    for gateway, amount in refunded:
        sums[gateway][1] = _money(amount)
    rows = [MethodTakings(gateway, got, back) for gateway, (got, back) in sums.items()]
    return sorted(rows, key=lambda row: (-row.net, row.gateway))


@dataclass(frozen=True)
class AgeingBucket:
    """Unpaid balance whose due date is ``key`` days past (``not_due``, ``0-30``…)."""

    key: str
    count: int
    amount: Decimal


def receivables_ageing(session: Session, today: date, currency: str) -> list[AgeingBucket]:
    """What unpaid proformas and invoices still owe (total less paid less credit applied),
    by days past their due date: not yet due, 0–30, 31–60, 61–90 and over 90."""
    whens = []
    for key, first, last in AGEING_BUCKETS:
        conditions = []
        if first is not None:  # at least ``first`` days past due
            conditions.append(Document.due_date <= today - timedelta(days=first))
        if last is not None:  # at most ``last`` days past due
            conditions.append(Document.due_date >= today - timedelta(days=last))
        whens.append((and_(*conditions), key))
    bucket = case(*whens, else_="90+")
    owed = Document.total - Document.amount_paid - Document.credit_applied
    unpaid = (
        select(bucket.label("bucket"), owed.label("owed"))
        .where(
            Document.kind.in_(("proforma", "invoice")),
            Document.status == "unpaid",
            Document.currency == currency,
            owed > 0,
        )
        .subquery()
    )
    # Grouped outside: PostgreSQL would not match a CASE with bound dates across clauses.
    rows = session.execute(
        select(unpaid.c.bucket, func.count(), func.sum(unpaid.c.owed)).group_by(unpaid.c.bucket)
    )
    found = {key: (int(count), _money(amount)) for key, count, amount in rows}
    return [AgeingBucket(key, *found.get(key, (0, ZERO))) for key, _first, _last in AGEING_BUCKETS]
