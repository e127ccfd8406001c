"""Keyset pages of the payment history: walking the pages with cursors yields every line once,
in the order of one long list, even when payments and refunds share an instant."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from facturo.billing.movements import Cursor, Filters, history
from facturo.context import Context
from facturo.models import Document, Payment, Refund
from facturo.testing import make_customer
from tests.web.conftest import new_proforma

T = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)


def _seed(ctx: Context) -> None:
    """Nine payments and three refunds, several at the same instant."""
    customer = make_customer(ctx)
    document = new_proforma(ctx, customer)
    with ctx.db.transaction() as session:
        for n in range(9):
            session.add(
                Payment(
                    document_id=document.id,
                    customer_id=customer.id,
                    gateway="manual",
                    gateway_txn_id=f"P{n}",
                    amount=Decimal("10.00"),
                    currency="EUR",
                    paid_at=T - timedelta(hours=n // 3),  # three payments per instant
                    status="applied",
                )
            )
        for n in range(3):
            session.add(
                Refund(
                    document_id=document.id,
                    amount=Decimal("1.00"),
                    currency="EUR",
                    gateway="manual",
                    status="completed",
                    created_at=T - timedelta(hours=n),  # each shares an instant with payments
                )
            )
        assert session.get(Document, document.id) is not None


def test_pages_walked_with_cursors_equal_the_whole_list(
    make_context: Callable[..., Context],
) -> None:
    ctx = make_context()
    _seed(ctx)
    filters = Filters(every_refund=True)
    with ctx.db.read_session() as session:
        whole = [(m.kind, m.id) for m in history(session, filters, None)]
        walked: list[tuple[str, int]] = []
        before: Cursor | None = None
        while True:
            page = history(session, filters, 5, before=before)
            walked += [(m.kind, m.id) for m in page]
            if len(page) < 5:
                break
            before = Cursor.parse(Cursor.after(page[-1]).token())
    assert len(whole) == 12
    assert walked == whole


def test_cursor_tokens_round_trip_and_bad_ones_are_refused() -> None:
    cursor = Cursor(T, True, 42)
    assert Cursor.parse(cursor.token()) == cursor
    for bad in (
        "",
        "yesterday~p~1",
        f"{T.isoformat()}~x~1",
        f"{T.isoformat()}~p~-1",
        "2026-05-04T10:00:00~p~1",
    ):  # the last has no time zone
        assert Cursor.parse(bad) is None
