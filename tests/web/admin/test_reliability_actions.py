"""Staff actions added for reliability: retry every failed email at once, settle a refund
left in doubt, and a gateway's refusal shown without crediting anything."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest
from sqlalchemy import select, update
from starlette.applications import Starlette

from facturo.billing.payments import record_payment
from facturo.billing.refunds import refund
from facturo.context import Context
from facturo.delivery.outbox import enqueue_email
from facturo.models import AuditEvent, Document, OutboxMessage, Refund
from facturo.testing import make_customer
from tests.faults.conftest import CountingGateway
from tests.web.conftest import CSRF, new_proforma, new_staff, staff_client


def paid(ctx: Context, who: str = "ana") -> Document:
    """A 121.00 invoice paid through the counting gateway."""
    gateway = "counting"
    customer = make_customer(ctx, email=f"{who}@example.com")
    document = new_proforma(ctx, customer)
    with ctx.db.transaction() as session:
        record_payment(
            session,
            ctx,
            session.get(Document, document.id),
            gateway,
            f"TX-{document.id}",
            Decimal("121.00"),
            "EUR",
            ctx.now(),
        )
    return document


def test_staff_retry_every_failed_email_at_once(
    make_context: Callable[..., Context], in_process: Callable[[Context], Starlette]
) -> None:
    ctx = make_context()
    url = in_process(ctx)
    billing, support = new_staff(ctx, "billing"), new_staff(ctx, "support")
    customer = make_customer(ctx)
    with ctx.db.transaction() as session:
        for n in range(3):
            values = {"customer": customer}
            enqueue_email(session, ctx, "welcome", f"p{n}@example.com", "en", values, f"k{n}")
        session.execute(update(OutboxMessage).values(status="failed", attempts=102))
    with staff_client(ctx, url, billing) as client:
        assert "Retry every failed email" in client.get("/admin/").text
        assert client.post("/admin/emails/retry-failed").status_code == 403  # no CSRF token
        answer = client.post("/admin/emails/retry-failed", data={"csrf_token": CSRF})
        assert answer.status_code == 303
        assert "3 failed emails are queued again." in client.get("/admin/").text
    with staff_client(ctx, url, support) as client:
        forbidden = client.post("/admin/emails/retry-failed", data={"csrf_token": CSRF})
        assert forbidden.status_code == 403
    with ctx.db.read_session() as session:
        rows = list(session.scalars(select(OutboxMessage)))
        events = list(
            session.scalars(select(AuditEvent).where(AuditEvent.action == "email.retry_all"))
        )
    assert {(r.status, r.attempts) for r in rows} == {("pending", 0)}
    assert [(e.actor, e.after) for e in events] == [(f"staff:{billing.id}", {"queued": 3})]


def test_staff_settle_refunds_left_in_doubt(
    make_context: Callable[..., Context], in_process: Callable[[Context], Starlette]
) -> None:
    gateway = CountingGateway(die_after_paying=True)
    ctx = make_context(extra=[("counting", gateway)])
    url = in_process(ctx)
    billing = new_staff(ctx, "billing")
    first, second = paid(ctx), paid(ctx, "bob")
    for document in (first, second):
        with pytest.raises(SystemExit):
            refund(ctx, document.id, Decimal("21.00"), "goodwill", "staff:1")
    with ctx.db.read_session() as session:
        reserved = {r.document_id: r.id for r in session.scalars(select(Refund))}
    with staff_client(ctx, url, billing) as client:
        page = client.get(f"/admin/documents/{first.id}").text
        assert "its answer was not recorded" in page
        wrong = client.post(
            f"/admin/documents/{first.id}/refunds/{reserved[second.id]}/resolve",
            data={"paid": "1", "csrf_token": CSRF},
        )
        assert wrong.status_code == 404  # another invoice's refund
        client.post(
            f"/admin/documents/{first.id}/refunds/{reserved[first.id]}/resolve",
            data={"paid": "1", "gateway_refund_id": "CNT-1", "csrf_token": CSRF},
        )
        page = client.get(f"/admin/documents/{first.id}").text
        assert "Credit note R2026-000001 issued." in page
        assert "its answer was not recorded" not in page
        client.post(
            f"/admin/documents/{second.id}/refunds/{reserved[second.id]}/resolve",
            data={"paid": "0", "csrf_token": CSRF},
        )
        page = client.get(f"/admin/documents/{second.id}").text
        assert "The reserved amount is released." in page
    with ctx.db.read_session() as session:
        rows = {r.document_id: r for r in session.scalars(select(Refund))}
        invoices = {d.id: d for d in session.scalars(select(Document))}
    assert rows[first.id].status == "completed" and rows[first.id].gateway_refund_id == "CNT-1"
    assert rows[second.id].status == "failed" and rows[second.id].credit_note_id is None
    assert invoices[first.id].refunded_total == Decimal("21.00")
    assert invoices[second.id].refunded_total == Decimal("0.00")
    assert len(gateway.calls) == 2  # one ask per refund, none when settling


def test_a_refused_gateway_refund_is_shown_and_credits_nothing(
    make_context: Callable[..., Context], in_process: Callable[[Context], Starlette]
) -> None:
    gateway = CountingGateway(refuse=True)
    ctx = make_context(extra=[("counting", gateway)])
    url = in_process(ctx)
    billing = new_staff(ctx, "billing")
    document = paid(ctx)
    with staff_client(ctx, url, billing) as client:
        client.post(
            f"/admin/documents/{document.id}/refund",
            data={"amount": str(document.total), "confirm": "yes", "csrf_token": CSRF},
        )
        page = client.get(f"/admin/documents/{document.id}").text
    assert "The gateway did not refund" in page and "declined by the bank" in page
    with ctx.db.read_session() as session:
        invoice = session.get(Document, document.id)
        assert invoice is not None and invoice.refunded_total == Decimal("0.00")
        assert session.scalars(select(Refund)).one().status == "failed"
