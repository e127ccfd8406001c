"""The row readers of the hot paths: the same typed values whichever reads, the latest
committed data on the pinned and shared connections, never more shared connections than
allowed."""

from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal

from sqlalchemy import update

from facturo.billing.overview import DOCUMENTS_QUERY, SERVICES_QUERY, read_overview
from facturo.context import Context
from facturo.db.reader import SessionReader, SharedReader
from facturo.models import Service
from facturo.testing import make_catalog, make_customer


def seeded(ctx: Context) -> int:
    licence, _ = make_catalog(ctx)
    customer = make_customer(ctx)
    with ctx.db.transaction() as session:
        session.add(
            Service(
                customer_id=customer.id,
                product_id=licence.id,
                status="active",
                cycle="annual",
                price=Decimal("149.00"),
                currency="EUR",
                next_due_date=date(2027, 3, 14),
            )
        )
    return customer.id


def test_every_reader_gives_the_same_typed_rows(ctx: Context) -> None:
    customer_id = seeded(ctx)
    params = {"customer_id": customer_id}
    with ctx.db.snapshot_session() as session:
        expected = [
            SessionReader(session).rows(q, params) for q in (SERVICES_QUERY, DOCUMENTS_QUERY)
        ]
        overview = read_overview(SessionReader(session), customer_id)
    for reader in (ctx.db.pinned_reader(), ctx.db.shared_reader()):
        assert [reader.rows(q, params) for q in (SERVICES_QUERY, DOCUMENTS_QUERY)] == expected
        assert read_overview(reader, customer_id) == overview
    service = overview.services[0] if overview is not None else None
    assert service is not None and service.price == Decimal("149.00")
    assert service.next_due_date == date(2027, 3, 14)


def test_pinned_and_shared_readers_see_each_commit(ctx: Context) -> None:
    customer_id = seeded(ctx)
    for reader in (ctx.db.pinned_reader(), ctx.db.shared_reader()):
        before = read_overview(reader, customer_id)
        assert before is not None and before.services[0].status == "active"
        with ctx.db.transaction() as session:
            session.execute(update(Service).values(status="suspended"))
        after = read_overview(reader, customer_id)
        assert after is not None and after.services[0].status == "suspended"
        with ctx.db.transaction() as session:
            session.execute(update(Service).values(status="active"))


def test_shared_reader_opens_at_most_its_size(ctx: Context) -> None:
    customer_id = seeded(ctx)
    reader = SharedReader(ctx.db.engine, size=2)
    failures: list[BaseException] = []

    def read() -> None:
        try:
            for _ in range(20):
                assert read_overview(reader, customer_id) is not None
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=read) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures
    assert 1 <= len(reader._open) <= 2
    ctx.db.dispose()
    assert reader._open == []
