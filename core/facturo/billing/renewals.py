"""Renewal proformas ahead of due dates, in bulk.

Idempotent by construction: a renewal is claimed by inserting its natural key
(service, period start) into ``billed_periods`` before its proforma is built, so a second run
for the same date, or a second worker running at the same time on PostgreSQL, finds the claim
taken and creates nothing.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Generator, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from itertools import groupby
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Table, and_, distinct, exists, func, select, type_coerce
from sqlalchemy.orm import Session
from sqlalchemy.types import NullType

from facturo.billing import numbering
from facturo.billing.documents import settle
from facturo.billing.money import to_money
from facturo.billing.renewal_plan import TEMPLATE, DocPlan, Group, RunPlanner
from facturo.billing.renewal_sql import DueService, claim_periods, stream_due, write_plan
from facturo.billing.renewal_writers import write_in_parallel
from facturo.billing.run_report import Progress, RunReport
from facturo.billing.run_settings import run_settings
from facturo.db.bulk import bulk_insert, reserve_ids
from facturo.db.wal import BackgroundCheckpoints
from facturo.models import (
    BilledPeriod,
    Customer,
    Document,
    Product,
    Service,
    TaxEvidence,
)

if TYPE_CHECKING:
    from facturo.context import Context

#: customers per batch: the first batch small, so that the worker's first draft (which the
#: run waits for) is short, then growing up to CUSTOMERS_PER_BATCH (see _batch_sizes)
FIRST_BATCH_CUSTOMERS = 250
CUSTOMERS_PER_BATCH = 4000
DOCUMENTS = cast(Table, Document.__table__)
EVIDENCE = cast(Table, TaxEvidence.__table__)


def due_filters(ctx: Context, day: date) -> list[Any]:
    """Conditions of a service due for renewal on ``day`` and not yet billed for that period."""
    horizon = day + timedelta(days=ctx.settings.billing.invoice_days_before)
    already = exists().where(
        and_(
            BilledPeriod.service_id == Service.id,
            BilledPeriod.period_start == Service.next_due_date,
        )
    )
    return [
        Service.status == "active",
        Service.next_due_date.is_not(None),
        Service.next_due_date <= horizon,
        ~already,
    ]


def count_due_services(ctx: Context, day: date) -> int:
    """How many services a run on ``day`` would renew (for a progress bar)."""
    with ctx.db.read_session() as session:
        query = select(func.count()).select_from(Service).where(*due_filters(ctx, day))
        return int(session.scalar(query) or 0)


def count_due_customers(ctx: Context, day: date) -> int:
    """How many customers a run on ``day`` would bill (to size its last batches)."""
    with ctx.db.read_session() as session:
        query = select(func.count(distinct(Service.customer_id))).where(*due_filters(ctx, day))
        return int(session.scalar(query) or 0)


def _customer_chunks(
    ctx: Context, day: date, expected: Callable[[], int | None] | None = None
) -> Generator[list[DueService], None, None]:
    """The due services in customer order, in batches of :func:`_batch_sizes` customers
    (``expected``: how many customers are due, None while not known).

    One query, streamed by a connection of its own (see
    :func:`~facturo.billing.renewal_sql.stream_due`), so memory stays flat however many
    services are due. Paging by customer with
    one query per page made SQLite walk every due service once per page (its index on status
    and due date beats the customer index, then sorts). The run's snapshot may list a service
    that another run bills meanwhile: the claim in ``billed_periods`` decides, not this list.
    """
    raw = NullType()  # values as the driver returns them, converted once per distinct value
    query = (
        select(
            Service.id,
            Service.customer_id,
            type_coerce(Service.next_due_date, raw),
            Service.cycle,
            type_coerce(Service.price, raw),
            Service.label,
            Service.product_id,
        )
        .where(*due_filters(ctx, day))
        .order_by(Service.customer_id, Service.next_due_date, Service.id)
    )
    dates: dict[Any, date] = {}
    prices: dict[Any, Decimal] = {}
    chunk: list[DueService] = []
    customers = 0
    previous: int | None = None
    batched = 0  # customers in the chunks yielded

    def left() -> int | None:
        total = expected() if expected is not None else None
        return None if total is None else total - batched

    sizes = _batch_sizes(left)
    size = next(sizes)
    due_rows = stream_due(ctx.db.read_engine, query, ctx.db.is_sqlite)
    try:
        for sid, customer_id, due, cycle, price, label, product_id in due_rows:
            if customer_id != previous:
                if customers == size:
                    batched += customers
                    yield chunk
                    chunk, customers, size = [], 0, next(sizes)
                customers += 1
                previous = customer_id
            day_due = dates.get(due)
            if day_due is None:
                day_due = dates[due] = (
                    due if isinstance(due, date) else date.fromisoformat(str(due))
                )
            amount = prices.get(price)
            if amount is None:
                amount = prices[price] = to_money(str(price))
            chunk.append(DueService(sid, customer_id, day_due, cycle, amount, label, product_id))
    finally:
        due_rows.close()
    if chunk:
        yield chunk


def _batch_sizes(left: Callable[[], int | None] = lambda: None) -> Iterator[int]:
    """FIRST_BATCH_CUSTOMERS, then half as many again each time, up to CUSTOMERS_PER_BATCH;
    where ``left()`` tells how many customers are not batched yet, at most half of those (and
    no fewer than FIRST_BATCH_CUSTOMERS).

    Fewer, larger batches cost less per row (the temporary tables, the reads by customer id,
    a join over the customers, the commit): per 100,000 services, 11 batches instead of 20
    of 1,000 took 0.1-0.2 s less of the main thread's CPU on SQLite, and on PostgreSQL
    0.2 s less of this process's and 0.3-0.4 s less of the server's. The run waits for the
    first batch's draft (0.55 s for 4,000 customers), so it is small; a batch twice the
    size of the one being written kept the run waiting for the worker again. With two
    writers (PostgreSQL) the last batch of 4,000 ran alone for 0.6-0.8 s: batches shrinking
    at the end let the two finish together."""
    size = FIRST_BATCH_CUSTOMERS
    while True:
        remaining = left()
        if remaining is None:
            yield size
        else:
            yield min(size, max(-(-remaining // 2), FIRST_BATCH_CUSTOMERS))
        size = min(size * 3 // 2, CUSTOMERS_PER_BATCH)


def create_renewals(
    ctx: Context, day: date, report: RunReport, progress: Progress | None = None
) -> None:
    """One renewal proforma per (customer, due date) grouping that customer's due services.

    Works in batches of customers, each batch one transaction of set-based statements: claim
    the periods (only what this run won is billed, see
    :func:`~facturo.billing.renewal_sql.claim_periods`), each with the id its document will
    have; reserve a block of proforma references; then write documents, lines,
    ``invoice_created`` events, audit rows and the ``proforma_issued`` emails (PDF attached
    when sent) by ``INSERT … SELECT`` from the batch's plan (see
    :mod:`facturo.billing.renewal_plan`). Customer credit is applied; a proforma it covers
    fully is settled at once. The next batch is read and drafted in a worker thread
    meanwhile (see ``_bill_chunk``). On PostgreSQL two batches are written at once, their
    ids and references reserved by the worker in batch order (see
    :mod:`facturo.billing.renewal_writers`). ``progress`` is called with the number of
    services handled after each batch.
    """
    planner = RunPlanner(ctx, day, _product_names(ctx))
    if report.dry_run:
        chunks = _customer_chunks(ctx, day)
        for chunk in chunks:
            for (customer_id, due), items in _candidates(chunk):
                ids = [item.id for item in items]
                report.add_renewal(f"customer {customer_id} due {due}: services {ids}", len(ids))
            if progress:
                progress(len(chunk))
        return
    if not ctx.db.is_sqlite:
        # counted meanwhile, by the time the batches reach their largest size
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="renewal-count") as counter:
            total = counter.submit(count_due_customers, ctx, day)
            chunks = _customer_chunks(ctx, day, lambda: total.result() if total.done() else None)
            try:
                _write_in_parallel(ctx, day, chunks, planner, report, progress)
            finally:
                chunks.close()
        return
    chunks = _customer_chunks(ctx, day)
    # SQLite: each commit's checkpoint runs in a thread of its own (see facturo.db.wal)
    checkpoints = BackgroundCheckpoints(ctx.db.engine)
    try:
        # One worker reads and drafts the next batch while this thread writes the current
        # one: the database works without the GIL (SQLite's C code).
        with (
            run_settings(),
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="renewal-draft") as pool,
        ):
            ahead = _Ahead(lambda: pool.submit(_draft_next, ctx, chunks, planner))
            while (batch := ahead.take()) is not None:
                with ctx.db.transaction() as session:
                    checkpoints.pause(session)
                    _bill_chunk(session, ctx, day, batch, planner, report, ahead.start)
                checkpoints.committed()
                if progress:
                    progress(len(batch.chunk))
    finally:
        chunks.close()
        checkpoints.close()


def _write_in_parallel(
    ctx: Context,
    day: date,
    chunks: Iterator[list[DueService]],
    planner: RunPlanner,
    report: RunReport,
    progress: Progress | None,
) -> None:
    """PostgreSQL: the batches written two at a time (see :mod:`.renewal_writers`). The
    worker drafts the batches in order and reserves each one's document ids and proforma
    references as it drafts it (so they follow batch order), the next draft starting as soon
    as a writer takes one (the planner is locked while each uses it)."""
    with (
        run_settings(),
        ThreadPoolExecutor(max_workers=1, thread_name_prefix="renewal-draft") as pool,
    ):
        ahead = _Ahead(lambda: pool.submit(_draft_next, ctx, chunks, planner, day))

        def take() -> _Batch | None:
            batch = ahead.take()
            if batch is not None:
                ahead.start()
            return batch

        def write(session: Session, batch: _Batch) -> None:
            _bill_chunk(session, ctx, day, batch, planner, report, _drafting)
            if progress:
                with _COUNTING:
                    progress(len(batch.chunk))

        write_in_parallel(ctx, take, write)


@dataclass
class _Batch:
    """A batch read and drafted ahead of its transaction."""

    chunk: list[DueService]
    candidates: list[tuple[tuple[int, date], list[DueService]]]
    customers: dict[int, Any]  # as read ahead; compared with the transaction's own read
    drafts: list[DocPlan | None]
    reserved: _Reserved | None = None  # PostgreSQL: reserved as it was drafted


@dataclass
class _Reserved:
    """A batch's document ids and proforma references, reserved before its transaction (one
    per (customer, due date) group; those of groups whose every claim is lost go unused)."""

    ids: list[int]
    references: list[str]


#: the report and the progress callback, shared by the writer threads
_COUNTING = threading.Lock()


def _drafting() -> None:
    """Nothing to start: with writers in parallel the next draft starts when one is taken."""


class _Ahead:
    """The next batch being drafted in the worker; :meth:`start` starts it (once), at the
    point of the current batch from which the planner is no longer used."""

    def __init__(self, submit: Callable[[], Future[_Batch | None]]) -> None:
        self._submit = submit
        self._future: Future[_Batch | None] | None = submit()

    def start(self) -> None:
        if self._future is None:
            self._future = self._submit()

    def take(self) -> _Batch | None:
        self.start()
        assert self._future is not None
        batch = self._future.result()
        self._future = None
        return batch


def _draft_next(
    ctx: Context,
    chunks: Iterator[list[DueService]],
    planner: RunPlanner,
    reserve_on: date | None = None,
) -> _Batch | None:
    """Read the next chunk and its customers and draft its documents (in the worker); with
    ``reserve_on`` (the run's day) also reserve its document ids and proforma references, in
    a transaction committed at once."""
    chunk = next(chunks, None)
    if chunk is None:
        return None
    candidates = _candidates(chunk)
    customer_ids = sorted({customer_id for (customer_id, _), _ in candidates})
    with ctx.db.read_session() as session:
        query = select(*CUSTOMER_FIELDS).where(Customer.id.in_(customer_ids))
        customers = {row.id: row for row in session.execute(query)}
    drafts = planner.draft([(c, due, items) for (c, due), items in candidates], customers)
    reserved = None
    if reserve_on is not None:
        fmt = ctx.settings.billing.proforma_format
        with ctx.db.transaction() as session:
            reserved = _Reserved(
                reserve_ids(session, DOCUMENTS, len(candidates)),
                numbering.allocate_block(
                    session, "proforma", reserve_on.year, fmt, len(candidates)
                ),
            )
    return _Batch(chunk, candidates, customers, drafts, reserved)


def _candidates(chunk: list[DueService]) -> list[tuple[tuple[int, date], list[DueService]]]:
    """``chunk``'s services grouped by (customer, due date), in chunk order."""
    return [(key, list(items)) for key, items in groupby(chunk, key=_customer_and_due)]


def _customer_and_due(service: DueService) -> tuple[int, date]:
    return service.customer_id, service.due


CUSTOMER_FIELDS = (
    Customer.id,
    Customer.email,
    Customer.name,
    Customer.company,
    Customer.language,
    Customer.country,
    Customer.tax_id,
    Customer.postal_code,
    Customer.credit_balance,
)


def _credit_holders(session: Session, ctx: Context, ids: list[int]) -> dict[int, Customer]:
    """The customers among ``ids`` whose credit the batch may spend, as entities whose
    balance is written back at flush; locked on PostgreSQL, in one order for every run."""
    if not ids:
        return {}
    query = select(Customer).where(Customer.id.in_(ids)).order_by(Customer.id)
    if not ctx.db.is_sqlite:  # as billing.credit does
        query = query.with_for_update(key_share=True)
    found = session.scalars(query.execution_options(populate_existing=True))
    return {customer.id: customer for customer in found}


def _product_names(ctx: Context) -> dict[int, tuple[str, str]]:
    with ctx.db.read_session() as session:
        rows = session.execute(select(Product.id, Product.name_es, Product.name_en))
        return {row.id: (row.name_es, row.name_en) for row in rows}


def _bill_chunk(
    session: Session,
    ctx: Context,
    day: date,
    batch: _Batch,
    planner: RunPlanner,
    report: RunReport,
    planned: Callable[[], None],
) -> None:
    """Bill ``batch`` in ``session``'s transaction; ``planned`` is called once the planner is
    free for the next draft. Its ids and references are reserved here (the references under
    the series lock to commit) unless the worker reserved them already."""
    chunk, candidates, reservation = batch.chunk, batch.candidates, batch.reserved
    # Each (customer, due date) gets its document id before the claims, so that a claim is
    # written with its link; a group that loses every claim leaves its id unused.
    if reservation is None:
        reserved = reserve_ids(session, DOCUMENTS, len(candidates))
    else:
        reserved = reservation.ids
    won = claim_periods(
        session,
        [
            (item.id, due, doc_id)
            for ((_, due), items), doc_id in zip(candidates, reserved, strict=True)
            for item in items
        ],
    )
    groups: list[Group] = []
    ids: list[int] = []
    everything = len(won) == len(chunk)
    for ((customer_id, due), items), doc_id in zip(candidates, reserved, strict=True):
        kept = items if everything else [r for r in items if r.id in won]
        if kept:
            groups.append((customer_id, due, kept))
            ids.append(doc_id)
    if not groups:
        planned()
        return
    customer_ids = sorted({customer_id for customer_id, _, _ in groups})
    customers = {
        row.id: row
        for row in session.execute(select(*CUSTOMER_FIELDS).where(Customer.id.in_(customer_ids)))
    }
    holders = _credit_holders(
        session, ctx, [c.id for c in customers.values() if c.credit_balance > 0]
    )
    if reservation is None:
        references = numbering.allocate_block(
            session, "proforma", day.year, ctx.settings.billing.proforma_format, len(groups)
        )
    else:  # those of lost groups go unused at the block's end, as ids of a sequence
        references = reservation.references[: len(groups)]
    now = ctx.now()
    drafts = batch.drafts if everything else None
    with planner.lock:
        plan, evidence, settled = planner.plan(
            session, groups, ids, references, customers, holders, now, drafts
        )
        markers = {name: planner.markers[name] for name in planner.used}
    if ctx.db.is_sqlite:  # its foreign keys are checked at commit (see claim_periods)
        bulk_insert(session, EVIDENCE, evidence)
    # The worker drafts the next batch while the database runs the statements: not during
    # row-by-row inserts on SQLite, where each row would wait for the GIL.
    write_plan(
        session,
        plan,
        markers,
        {
            "currency": ctx.settings.currency,
            "issue_date": day,
            "now": now,
            "template": TEMPLATE,
        },
        loaded=planned,  # the planner is the worker's from here on
    )
    if not ctx.db.is_sqlite:
        bulk_insert(session, EVIDENCE, evidence)  # one COPY
    with _COUNTING:
        report.add_renewals(references, len(plan.lines))
    session.flush()  # the customers' credit balances
    for doc_id in settled:
        document = session.get(Document, doc_id)
        assert document is not None
        settle(session, ctx, document, paid_at=now)
