"""Billing runs in separate processes at once on PostgreSQL, each writing two batches at a
time: every period is billed exactly once, references are unique, invoice numbers gap-free and
credit is conserved to the cent."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from facturo.context import Context
from facturo.models import BilledPeriod, Customer, Document, DocumentLine, OutboxMessage, Service
from facturo.testing import make_catalog, make_customer
from tests.billing.conftest import active_service

pytestmark = pytest.mark.postgres_only
RUN_DAY = date(2026, 3, 2)
PROCESSES = 3
CUSTOMERS = 90

#: one billing run, started when the file named by argv[3] appears, in batches of 2, 3, 4, 5,
#: 5… customers so that each process has many batches and writes two at a time
RUN = """
import json, sys, time
from datetime import UTC, date, datetime
from pathlib import Path
from facturo.billing import renewals
from facturo.billing.billing_run import billing_run
from facturo.bootstrap import create_context
from facturo.config import settings_from_mapping
from facturo.testing import base_settings_mapping, default_plugin_settings

renewals.FIRST_BATCH_CUSTOMERS = 2
renewals.CUSTOMERS_PER_BATCH = 5
raw = base_settings_mapping(Path(sys.argv[2]), sys.argv[1])
raw["plugin"] = default_plugin_settings(())
ctx = create_context(settings_from_mapping(raw), clock=lambda: datetime(2026, 3, 2, 9, tzinfo=UTC))
ctx.db.engine.connect().close()
print("ready", flush=True)
go = Path(sys.argv[3])
while not go.exists():
    time.sleep(0.005)
report = billing_run(ctx, date(2026, 3, 2))
print(json.dumps([report.renewal_count, report.services_billed]), flush=True)
"""


def test_concurrent_billing_processes_bill_each_period_once(
    make_context: Callable[..., Context], tmp_path: Path
) -> None:
    ctx = make_context()
    licence, addons = make_catalog(ctx)
    credit: dict[int, Decimal] = {}
    services = 0
    for n in range(CUSTOMERS):
        customer = make_customer(ctx, email=f"c{n}@example.com")
        if n % 4 == 0:  # some credit; every eighth enough to pay its renewals in full
            with ctx.db.transaction() as session:
                row = session.get(Customer, customer.id)
                assert row is not None
                row.credit_balance = Decimal("900.00") if n % 8 == 0 else Decimal("10.00")
        for k in range(3):
            product = licence if k == 0 else addons[k % len(addons)]
            due = RUN_DAY + timedelta(days=3 + (n + k) % 2 * 4)
            active_service(ctx, customer, product, due, price=("149.00", "39.00", "29.00")[k])
            services += 1
    with ctx.db.read_session() as session:
        credit = {i: c for i, c in session.execute(select(Customer.id, Customer.credit_balance))}
    url = ctx.settings.database_url
    go = tmp_path / "go"
    children = [
        subprocess.Popen(
            [sys.executable, "-c", RUN, url, str(tmp_path / f"p{i}"), str(go)],
            stdout=subprocess.PIPE,
            text=True,
        )
        for i in range(PROCESSES)
    ]
    for child in children:
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
    go.touch()
    results = []
    deadline = time.monotonic() + 120
    for child in children:
        out, _ = child.communicate(timeout=max(1.0, deadline - time.monotonic()))
        assert child.returncode == 0
        results.append(json.loads(out.strip().splitlines()[-1]))

    with ctx.db.read_session() as session:
        documents = list(session.scalars(select(Document).where(Document.source == "renewal")))
        assert sum(r[0] for r in results) == len(documents) == CUSTOMERS * 2
        assert sum(r[1] for r in results) == services
        # every period claimed once, by a document that bills it; every service on one line
        periods = list(session.scalars(select(BilledPeriod)))
        assert len(periods) == services and all(p.document_id for p in periods)
        lines = list(session.execute(select(DocumentLine.service_id, DocumentLine.document_id)))
        assert len(lines) == services
        assert Counter(sid for sid, _ in lines) == Counter({sid: 1 for sid, _ in lines})
        assert {(p.service_id, p.document_id) for p in periods} == set(lines)
        assert session.scalar(select(func.count()).select_from(Service)) == services
        # references unique; invoice numbers (credit paid in full) one to n, gap-free
        references = [d.reference for d in documents]
        assert len(set(references)) == len(references)
        numbers = sorted(d.number for d in documents if d.number)
        assert numbers and numbers == [f"F2026-{n:06}" for n in range(1, len(numbers) + 1)]
        assert all(d.status == "paid" for d in documents if d.number)
        # credit conserved: what each customer had = what is left + what its documents spent
        spent: Counter[int] = Counter()
        for document in documents:
            spent[document.customer_id] += document.credit_applied
        left = {i: c for i, c in session.execute(select(Customer.id, Customer.credit_balance))}
        for customer_id, balance in credit.items():
            assert balance == left[customer_id] + spent[customer_id], customer_id
            assert left[customer_id] >= 0
        emails = session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.template == "proforma_issued")
        )
        assert emails == sum(1 for d in documents if not d.number)


def test_a_failing_batch_stops_the_run_and_the_next_run_bills_the_rest(
    make_context: Callable[..., Context], monkeypatch: pytest.MonkeyPatch
) -> None:
    """With two writers, a batch that fails is rolled back, the other writer's batch still
    commits, no further batch is taken, and the error is raised; the next run bills what was
    left, each period once (the failed batch's references stay unused: a gap)."""
    from facturo.billing import renewals
    from facturo.billing.billing_run import billing_run

    ctx = make_context()
    licence, _addons = make_catalog(ctx)
    for n in range(30):
        customer = make_customer(ctx, email=f"f{n}@example.com")
        active_service(ctx, customer, licence, RUN_DAY + timedelta(days=3))
    monkeypatch.setattr(renewals, "FIRST_BATCH_CUSTOMERS", 2)
    monkeypatch.setattr(renewals, "CUSTOMERS_PER_BATCH", 5)
    bill = renewals._bill_chunk
    calls = []

    def third_fails(session, ctx, day, batch, *args):  # type: ignore[no-untyped-def]
        calls.append(len(batch.chunk))
        if len(calls) == 3:
            raise RuntimeError("batch failed")
        return bill(session, ctx, day, batch, *args)

    monkeypatch.setattr(renewals, "_bill_chunk", third_fails)
    with pytest.raises(RuntimeError, match="batch failed"):
        billing_run(ctx, RUN_DAY)
    with ctx.db.read_session() as session:
        billed = session.scalar(select(func.count()).select_from(BilledPeriod))
    assert 0 < (billed or 0) < 30
    monkeypatch.setattr(renewals, "_bill_chunk", bill)
    report = billing_run(ctx, RUN_DAY)
    assert report.renewal_count == 30 - (billed or 0)
    with ctx.db.read_session() as session:
        periods = list(session.scalars(select(BilledPeriod)))
        assert len(periods) == 30 and len({p.service_id for p in periods}) == 30
        references = list(session.scalars(select(Document.reference)))
        assert len(references) == len(set(references)) == 30
