"""The row readers of the hot paths: the same typed values whichever reads, the latest
committed data on the pinned connection, closed with the engine."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import String, bindparam, literal_column, select, update

from facturo.billing.overview import DOCUMENTS_QUERY, SERVICES_QUERY, read_overview
from facturo.context import Context
from facturo.db.libpq import numbered
from facturo.db.reader import PinnedReader, RecordingReader, SessionReader
from facturo.models import Customer, Service
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
    reader = ctx.db.pinned_reader()
    assert [reader.rows(q, params) for q in (SERVICES_QUERY, DOCUMENTS_QUERY)] == expected
    assert read_overview(reader, customer_id) == overview
    service = overview.services[0] if overview is not None else None
    assert service is not None and service.price == Decimal("149.00")
    assert service.next_due_date == date(2027, 3, 14)


def test_the_pinned_reader_sees_each_commit(ctx: Context) -> None:
    customer_id = seeded(ctx)
    reader = ctx.db.pinned_reader()
    before = read_overview(reader, customer_id)
    assert before is not None and before.services[0].status == "active"
    with ctx.db.transaction() as session:
        session.execute(update(Service).values(status="suspended"))
    after = read_overview(reader, customer_id)
    assert after is not None and after.services[0].status == "suspended"


def test_the_pinned_reader_closes_its_connections_with_the_engine(ctx: Context) -> None:
    customer_id = seeded(ctx)
    reader = PinnedReader(ctx.db.engine)
    assert read_overview(reader, customer_id) is not None
    assert len(reader.connections._open) == 1
    ctx.db.dispose()
    assert reader.connections._open == []


def test_placeholders_are_numbered_once_per_name() -> None:
    sql = "SELECT %(a)s, %(b)s, %(a)s, 'x%%'"
    assert numbered(sql) == ("SELECT $1, $2, $1, 'x%'", ["a", "b"])
    assert numbered("SELECT %s + %s") == ("SELECT $1 + $2", 2)
    assert numbered("SELECT 1") == ("SELECT 1", 0)


def test_a_failed_read_raises_and_the_next_one_reads(ctx: Context) -> None:
    customer_id = seeded(ctx)
    reader = ctx.db.pinned_reader()
    connections = reader.connections
    with pytest.raises(connections.errors):
        connections.fetch("SELECT no_such_column FROM customers")
    percent = select(literal_column("'a%b'")).where(Customer.id == bindparam("id"))
    assert reader.rows(percent, {"id": customer_id}) == [("a%b",)]
    overview = read_overview(reader, customer_id)
    assert overview is not None and overview.customer.id == customer_id


def test_the_pinned_reader_survives_a_lost_connection(ctx: Context) -> None:
    customer_id = seeded(ctx)
    reader = ctx.db.pinned_reader()
    assert read_overview(reader, customer_id) is not None
    for connection in list(reader.connections._open):
        connection.close()  # as a database restart leaves it
    overview = read_overview(reader, customer_id)
    assert overview is not None and overview.services[0].price == Decimal("149.00")


def test_a_null_parameter_reads_as_sql_null(ctx: Context) -> None:
    customer_id = seeded(ctx)
    reader = ctx.db.pinned_reader()
    by_company = select(Customer.id).where(
        (Customer.id == bindparam("id")) & (bindparam("company", type_=String) == None)  # noqa: E711
    )
    assert reader.rows(by_company, {"id": customer_id, "company": None}) == [(customer_id,)]
    assert reader.rows(by_company, {"id": customer_id, "company": "x"}) == []


def test_a_prefetch_answers_as_the_reads_would_in_one_go(ctx: Context) -> None:
    customer_id = seeded(ctx)
    params = {"customer_id": customer_id}
    recording = RecordingReader(ctx.db.pinned_reader())
    expected = read_overview(recording, customer_id)
    assert [statement for statement, _ in recording.reads] == [SERVICES_QUERY, DOCUMENTS_QUERY]
    prefetched = ctx.db.pinned_reader().prefetched(recording.reads)
    with ctx.db.transaction() as session:  # after the prefetch: not in its answers
        session.execute(update(Service).values(status="suspended"))
    assert read_overview(prefetched, customer_id) == expected
    assert prefetched.answers == []
    live = read_overview(prefetched, customer_id)  # each answer is given once
    assert live is not None and live.services[0].status == "suspended"
    other = ctx.db.pinned_reader().prefetched([(SERVICES_QUERY, {"customer_id": 0})])
    assert other.rows(SERVICES_QUERY, params) == ctx.db.pinned_reader().rows(SERVICES_QUERY, params)


def test_a_failed_prefetch_raises_and_the_next_read_works(ctx: Context) -> None:
    customer_id = seeded(ctx)
    reader = ctx.db.pinned_reader()
    broken = select(literal_column("no_such_column")).select_from(Customer)
    with pytest.raises(reader.connections.errors):
        reader.prefetched([(SERVICES_QUERY, {"customer_id": customer_id}), (broken, {})])
    assert read_overview(reader, customer_id) is not None
