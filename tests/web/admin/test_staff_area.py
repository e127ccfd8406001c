"""Role boundaries, the audit trail, transfers, refunds, the review queue, the catalog."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from starlette.applications import Starlette

from facturo.billing.payments import record_payment
from facturo.context import Context
from facturo.contributions import RefundResult
from facturo.models import AuditEvent, Customer, Document, JobRun, Payment, Product, Refund
from facturo.plugin import hookimpl
from facturo.testing import make_catalog, make_customer
from tests.web.conftest import CSRF, new_proforma, new_staff, staff_client


def _pay_by_transfer(client: Any, document: Document, amount: str, ref: str) -> Any:
    """The transfer plugin's path to the staff "record payment" form (plugin enabled)."""
    return client.post(
        "/admin/payments/transfer",
        data={
            "document": document.reference,
            "amount": amount,
            "paid_on": "2026-01-10",
            "bank_reference": ref,
            "csrf_token": CSRF,
        },
    )


def test_role_boundaries(
    make_context: Callable[..., Context], in_process: Callable[[Context], Starlette]
) -> None:
    ctx = make_context()
    url = in_process(ctx)
    support, billing = new_staff(ctx, "support"), new_staff(ctx, "billing")
    customer = make_customer(ctx)
    doc = new_proforma(ctx, customer)
    with staff_client(ctx, url, support) as client:
        assert client.get("/admin/customers").status_code == 200
        assert client.get(f"/admin/customers/{customer.id}").status_code == 200
        assert (
            client.post(
                f"/admin/customers/{customer.id}/edit", data={"name": "X", "csrf_token": CSRF}
            ).status_code
            == 403
        )
        assert (
            client.post(f"/admin/documents/{doc.id}/refund", data={"csrf_token": CSRF}).status_code
            == 403
        )
        assert client.get("/admin/payments").status_code == 403
    with staff_client(ctx, url, billing) as client:
        assert client.get("/admin/plugins").status_code == 403
        assert client.get("/admin/staff").status_code == 403
        assert (
            client.post(
                "/admin/staff", data={"email": "x@example.com", "role": "admin", "csrf_token": CSRF}
            ).status_code
            == 403
        )
        assert (
            client.post(
                "/admin/tokens", data={"name": "t", "scope": "read-write", "csrf_token": CSRF}
            ).status_code
            == 403
        )
        assert client.get("/admin/payments").status_code == 200
        # CSRF is checked
        assert (
            client.post(
                f"/admin/customers/{customer.id}/edit", data={"name": "X", "csrf_token": "wrong"}
            ).status_code
            == 403
        )
    with ctx.db.read_session() as session:
        assert session.get(Customer, customer.id).name == "Ana García"  # type: ignore[union-attr]


def test_customer_edit_is_audited(
    make_context: Callable[..., Context], in_process: Callable[[Context], Starlette]
) -> None:
    ctx = make_context()
    url = in_process(ctx)
    billing = new_staff(ctx, "billing")
    customer = make_customer(ctx)
    with staff_client(ctx, url, billing) as client:
        bad = client.post(
            f"/admin/customers/{customer.id}/edit",
            data={"email": "not-an-email", "csrf_token": CSRF},
        )
        assert bad.status_code == 400 and "Enter a valid email address." in bad.text
        done = client.post(
            f"/admin/customers/{customer.id}/edit", data={"city": "Sevilla", "csrf_token": CSRF}
        )
        assert done.status_code == 303
        client.post(
            f"/admin/customers/{customer.id}/login",
            data={"disabled": "1", "confirm": "yes", "csrf_token": CSRF},
        )
        found = client.get("/admin/customers", params={"q": "12345678z"})
        assert f"/admin/customers/{customer.id}" in found.text
        log = client.get("/admin/audit", params={"action": "customer.update"})
        assert "Sevilla" in log.text and "Madrid" in log.text
    with ctx.db.read_session() as session:
        event = session.scalar(select(AuditEvent).where(AuditEvent.action == "customer.update"))
        row = session.get(Customer, customer.id)
    assert event is not None and event.actor == f"staff:{billing.id}"
    assert event.before == {"city": "Madrid"} and event.after == {"city": "Sevilla"}
    assert event.entity_id == str(customer.id)
    assert row is not None and row.city == "Sevilla" and row.disabled
    assert row.email == "ana@example.com"  # the bad edit changed nothing


def test_manual_transfer_is_idempotent(
    make_context: Callable[..., Context], in_process: Callable[[Context], Starlette]
) -> None:
    ctx = make_context(plugins=("transfer",))
    url = in_process(ctx)
    billing = new_staff(ctx, "billing")
    doc = new_proforma(ctx, make_customer(ctx))
    with staff_client(ctx, url, billing) as client:
        assert _pay_by_transfer(client, doc, "0", "BANK-1").status_code == 400
        assert _pay_by_transfer(client, doc, "121.00", "BANK-1").status_code == 303
        assert _pay_by_transfer(client, doc, "121.00", "BANK-1").status_code == 303
        csv_text = client.get("/admin/payments.csv", params={"gateway": "transfer"}).text
    with ctx.db.read_session() as session:
        payments = list(session.scalars(select(Payment)))
        paid = session.get(Document, doc.id)
    assert len(payments) == 1
    assert payments[0].gateway == "transfer" and payments[0].gateway_txn_id == "BANK-1"
    assert paid is not None and paid.kind == "invoice" and paid.status == "paid"
    assert csv_text.splitlines()[0].startswith("id,paid_at,gateway")
    assert "BANK-1" in csv_text and "121.00" in csv_text


class FakeGateway:
    """A gateway plugin whose refunds always succeed (registered as an extra plugin)."""

    def __init__(self) -> None:
        self.calls: list[Decimal] = []

    @hookimpl
    def refund_payment(
        self, ctx: Context, session: Any, payment: Payment, amount: Decimal
    ) -> RefundResult | None:
        if payment.gateway != "fakepay":
            return None
        self.calls.append(amount)
        return RefundResult(
            gateway_refund_id=f"RF-{len(self.calls)}", status="completed", amount=amount
        )


def test_refund_through_gateway_and_manual(
    make_context: Callable[..., Context], in_process: Callable[[Context], Starlette]
) -> None:
    gateway = FakeGateway()
    ctx = make_context(plugins=("transfer",), extra=[("fakepay", gateway)])
    url = in_process(ctx)
    billing, support = new_staff(ctx, "billing"), new_staff(ctx, "support")
    customer = make_customer(ctx)
    online, by_bank = new_proforma(ctx, customer), new_proforma(ctx, customer)
    with ctx.db.transaction() as session:
        record_payment(
            session,
            ctx,
            session.get(Document, online.id),
            "fakepay",
            "TX-1",
            Decimal("121.00"),
            "EUR",
            ctx.now(),
        )
    with staff_client(ctx, url, billing) as client:
        _pay_by_transfer(client, by_bank, "121.00", "BANK-9")
        too_much = client.post(
            f"/admin/documents/{online.id}/refund", data={"amount": "500.00", "csrf_token": CSRF}
        )
        assert too_much.status_code == 303
        client.post(
            f"/admin/documents/{online.id}/refund",
            data={"amount": "21.00", "reason": "goodwill", "confirm": "yes", "csrf_token": CSRF},
        )
        client.post(
            f"/admin/documents/{by_bank.id}/refund",
            data={"amount": "121.00", "confirm": "yes", "csrf_token": CSRF},
        )
    with staff_client(ctx, url, support) as client:
        assert (
            client.post(
                f"/admin/documents/{by_bank.id}/refund", data={"csrf_token": CSRF}
            ).status_code
            == 403
        )
    with ctx.db.read_session() as session:
        refunds = {r.document_id: r for r in session.scalars(select(Refund))}
        notes = list(session.scalars(select(Document).where(Document.kind == "credit_note")))
    assert gateway.calls == [Decimal("21.00")]
    assert refunds[online.id].gateway == "fakepay"
    assert refunds[online.id].gateway_refund_id == "RF-1"
    assert refunds[online.id].amount == Decimal("21.00")
    assert refunds[by_bank.id].gateway == "manual"
    assert refunds[by_bank.id].amount == Decimal("121.00")
    assert len(notes) == 2


def test_review_queue_apply_and_dismiss(
    make_context: Callable[..., Context], in_process: Callable[[Context], Starlette]
) -> None:
    ctx = make_context(plugins=("transfer",))
    url = in_process(ctx)
    billing = new_staff(ctx, "billing")
    customer = make_customer(ctx)
    cancelled, other, third = (new_proforma(ctx, customer) for _ in range(3))
    with staff_client(ctx, url, billing) as client:
        client.post(
            f"/admin/documents/{cancelled.id}/cancel",
            data={"reason": "dup", "confirm": "yes", "csrf_token": CSRF},
        )
        _pay_by_transfer(client, cancelled, "121.00", "LATE-1")
        _pay_by_transfer(client, cancelled, "121.00", "LATE-2")
        queue = client.get("/admin/payments/review")
        assert "paid to a cancelled proforma" in queue.text
        with ctx.db.read_session() as session:
            held = list(session.scalars(select(Payment).order_by(Payment.id)))
        assert [p.status for p in held] == ["needs_review", "needs_review"]
        client.post(
            f"/admin/payments/{held[0].id}/apply",
            data={"document": other.reference, "csrf_token": CSRF},
        )
        client.post(
            f"/admin/payments/{held[1].id}/dismiss",
            data={"note": "returned by the bank", "csrf_token": CSRF},
        )
        assert "Nothing to review" in client.get("/admin/payments/review").text
    with ctx.db.read_session() as session:
        statuses = [p.status for p in session.scalars(select(Payment).order_by(Payment.id))]
        paid = session.get(Document, other.id)
        untouched = session.get(Document, third.id)
    assert statuses == ["applied", "dismissed"]
    assert paid is not None and paid.status == "paid"
    assert untouched is not None and untouched.status == "unpaid"


def test_catalog_in_use_is_retired_not_deleted(
    make_context: Callable[..., Context], in_process: Callable[[Context], Starlette]
) -> None:
    ctx = make_context()
    url = in_process(ctx)
    billing = new_staff(ctx, "billing")
    licence, addons = make_catalog(ctx)
    with staff_client(ctx, url, billing) as client:
        created = client.post(
            "/admin/products/new",
            data={
                "code": "extra",
                "name_es": "Extra",
                "name_en": "Extra",
                "price_monthly": "9.50",
                "price_annual": "90",
                "csrf_token": CSRF,
            },
        )
        assert created.status_code == 303
        dup = client.post(
            "/admin/products/new",
            data={"code": "extra", "name_es": "E", "name_en": "E", "csrf_token": CSRF},
        )
        assert dup.status_code == 400
        bad = client.post(
            "/admin/products/new",
            data={
                "code": "x2",
                "name_es": "E",
                "name_en": "E",
                "price_annual": "abc",
                "csrf_token": CSRF,
            },
        )
        assert bad.status_code == 400
        client.post(
            f"/admin/products/{licence.id}/delete", data={"csrf_token": CSRF, "confirm": "yes"}
        )
        client.post(
            f"/admin/products/{licence.id}/retire", data={"retired": "1", "csrf_token": CSRF}
        )
        client.post(
            f"/admin/products/{addons[0].id}/delete", data={"csrf_token": CSRF, "confirm": "yes"}
        )
        assert "extra" in client.get("/admin/products").text
    with ctx.db.read_session() as session:
        kept = session.get(Product, licence.id)
        extra = session.scalar(select(Product).where(Product.code == "extra"))
        gone = session.get(Product, addons[0].id)
        assert extra is not None
        prices = {p.cycle: p.amount for p in extra.prices}
    assert kept is not None and kept.retired
    assert gone is None
    assert prices == {"monthly": Decimal("9.50"), "annual": Decimal("90.00")}


def test_dashboard_warns_when_worker_is_stale(
    make_context: Callable[..., Context], in_process: Callable[[Context], Starlette]
) -> None:
    ctx = make_context()
    url = in_process(ctx)
    admin = new_staff(ctx, "admin")
    with ctx.db.transaction() as session:
        session.add(
            JobRun(
                name="worker",
                last_started_at=ctx.now() - timedelta(minutes=20),
                last_finished_at=ctx.now() - timedelta(minutes=20),
                last_status="ok",
            )
        )
    with staff_client(ctx, url, admin) as client:
        assert "has not run for 15 minutes" in client.get("/admin/").text
        with ctx.db.transaction() as session:
            run = session.get(JobRun, "worker")
            assert run is not None
            run.last_finished_at = ctx.now()
        assert "has not run for 15 minutes" not in client.get("/admin/").text
        assert client.get("/admin/plugins").status_code == 200
