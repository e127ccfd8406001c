"""Real concurrency on PostgreSQL: billing runs, duplicate notifications, gap-free numbers."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from functools import partial
from typing import Any

import pytest
from sqlalchemy import func, select, text

from facturo.billing.billing_run import billing_run
from facturo.billing.documents import LineSpec, create_proforma
from facturo.billing.payments import record_payment
from facturo.billing.renew_early import renewal_proforma
from facturo.context import Context
from facturo.models import BilledPeriod, Customer, Document, OutboxMessage, Payment, Service
from facturo.testing import in_threads, make_catalog, make_customer
from tests.billing.conftest import active_service

pytestmark = pytest.mark.postgres_only


def count(ctx: Context, model: type, *where: Any) -> int:
    with ctx.db.read_session() as session:
        return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def test_two_concurrent_billing_runs_create_each_renewal_once(
    make_context: Callable[..., Context],
) -> None:
    ctx = make_context()
    licence, addons = make_catalog(ctx)
    services = 0
    for n in range(40):
        customer = make_customer(ctx, email=f"c{n}@example.com")
        for offset in range(3):
            active_service(ctx, customer, licence, date(2026, 3, 5 + offset % 2))
            services += 1
    contexts = [make_context(), make_context()]
    reports = in_threads([partial(billing_run, c, date(2026, 3, 2)) for c in contexts])
    assert sum(r.renewal_count for r in reports) == 80  # 40 customers × 2 due dates
    assert sum(r.services_billed for r in reports) == services
    assert count(ctx, Document) == 80
    assert count(ctx, BilledPeriod) == services
    assert count(ctx, BilledPeriod, BilledPeriod.document_id.is_(None)) == 0
    assert count(ctx, OutboxMessage, OutboxMessage.template == "proforma_issued") == 80
    with ctx.db.read_session() as session:
        references = list(session.scalars(select(Document.reference)))
    assert len(set(references)) == 80


def test_twenty_deliveries_of_one_payment_record_it_once(
    make_context: Callable[..., Context],
) -> None:
    ctx = make_context()
    customer = make_customer(ctx)
    with ctx.db.transaction() as session:
        who = session.get(Customer, customer.id)
        assert who is not None
        doc_id = create_proforma(session, ctx, who, [LineSpec("Licencia", Decimal("100.00"))]).id
    contexts = [make_context() for _ in range(20)]

    def deliver(c: Context) -> bool:
        with c.db.transaction() as session:
            document = session.get(Document, doc_id)
            outcome = record_payment(
                session, c, document, "redsys", "TXN-1", Decimal("121.00"), "EUR", c.now(), {}
            )
            return outcome.created

    created = in_threads([partial(deliver, c) for c in contexts])
    assert created.count(True) == 1
    assert count(ctx, Payment) == 1
    with ctx.db.read_session() as session:
        document = session.get(Document, doc_id)
        assert document is not None
        assert document.amount_paid == Decimal("121.00") and document.number == "F2026-000001"
        assert session.get(Customer, customer.id).credit_balance == 0  # type: ignore[union-attr]


def test_fifty_concurrent_payments_get_numbers_one_to_fifty(
    make_context: Callable[..., Context],
) -> None:
    ctx = make_context()
    ids = []
    for n in range(50):
        customer = make_customer(ctx, email=f"p{n}@example.com")
        with ctx.db.transaction() as session:
            who = session.get(Customer, customer.id)
            assert who is not None
            ids.append(create_proforma(session, ctx, who, [LineSpec("L", Decimal("10.00"))]).id)
    contexts = [make_context() for _ in range(10)]

    def pay(index: int) -> str:
        c = contexts[index % len(contexts)]
        with c.db.transaction() as session:
            document = session.get(Document, ids[index])
            record_payment(
                session, c, document, "test", f"T{index}", Decimal("12.10"), "EUR", c.now(), {}
            )
            assert document is not None and document.number
            return document.number

    numbers = in_threads([partial(pay, i) for i in range(50)])
    assert sorted(numbers) == [f"F2026-{n:06}" for n in range(1, 51)]


def _wait_until_blocked(ctx: Context, timeout: float = 10.0) -> None:
    """Return once another backend is waiting on a row lock (the run behind our lock)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with ctx.db.read_session() as session:
            waiting = session.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE wait_event_type = 'Lock' AND datname = current_database()"
                )
            )
        if waiting:
            return
        time.sleep(0.02)
    raise AssertionError("the billing run never waited for the service's lock")


def test_a_renewal_made_on_demand_while_the_run_waits_for_its_service_does_not_deadlock(
    make_context: Callable[..., Context],
) -> None:
    """``renewal_proforma`` locks the service, then claims its period; a billing run that
    reaches the same service meanwhile must wait before claiming, not after (the order that
    deadlocked a licence offer against the run). One renewal, no error on either side."""
    ctx = make_context()
    licence, _addons = make_catalog(ctx)
    customer = make_customer(ctx)
    service_id = active_service(ctx, customer, licence, date(2026, 3, 5))
    run_ctx = make_context()
    run_started = threading.Event()
    outcome: dict[str, Any] = {}

    def run() -> None:
        run_started.set()
        try:
            outcome["report"] = billing_run(run_ctx, date(2026, 3, 2))
        except Exception as error:  # reported by the assertion below
            outcome["error"] = error

    with ctx.db.transaction() as session:
        session.scalar(select(Service).where(Service.id == service_id).with_for_update())
        runner = threading.Thread(target=run)
        runner.start()
        run_started.wait()
        _wait_until_blocked(ctx)
        document = renewal_proforma(session, ctx, service_id)
        assert document is not None
        made = document.id
    runner.join(30)
    assert "error" not in outcome, outcome.get("error")
    assert outcome["report"].renewal_count == 0
    assert count(ctx, BilledPeriod) == 1
    with ctx.db.read_session() as session:
        period = session.scalars(select(BilledPeriod)).one()
        assert period.document_id == made
