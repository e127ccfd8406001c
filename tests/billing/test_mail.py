"""Emails through a real SMTP server: PDF attached, retries with backoff across an outage."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal

from pypdf import PdfReader
from sqlalchemy import select

from facturo.billing.billing_run import billing_run
from facturo.billing.payments import record_payment
from facturo.context import Context
from facturo.delivery.mail import deliver_due, retry_failed
from facturo.delivery.messages import render_email
from facturo.delivery.retries import retry_policy
from facturo.models import Customer, Document, OutboxMessage, Product, Service
from facturo.testing import Clock, SmtpServer, make_catalog, make_customer
from tests.billing.conftest import active_service


def pdf_of(message) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    attachments = list(message.iter_attachments())
    assert len(attachments) == 1
    part = attachments[0]
    assert part.get_content_type() == "application/pdf"
    data = part.get_payload(decode=True)
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)
    return str(part.get_filename()), text


def smtp_context(make_context: Callable[..., Context], smtp_server: SmtpServer) -> Context:
    return make_context(overrides=smtp_server.settings())


def queue_welcome(ctx: Context, customer_id: int, key: str) -> None:
    from facturo.delivery.outbox import enqueue_email

    with ctx.db.transaction() as session:
        who = session.get(Customer, customer_id)
        assert who is not None
        enqueue_email(
            session,
            ctx,
            "welcome",
            who.email,
            who.language,
            {"customer": who},
            key,
            customer_id=who.id,
        )


def outbox(ctx: Context) -> list[OutboxMessage]:
    with ctx.db.read_session() as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def test_renewal_and_receipt_arrive_with_pdf(
    make_context: Callable[..., Context], smtp_server: SmtpServer
) -> None:
    ctx = smtp_context(make_context, smtp_server)
    licence, _ = make_catalog(ctx)
    customer = make_customer(ctx, email="ana@example.com")
    active_service(ctx, customer, licence, date(2026, 3, 10))
    already = len(outbox(ctx))
    billing_run(ctx, date(2026, 3, 2))
    report = deliver_due(ctx)
    assert report.sent == already + 1
    received = smtp_server.sink.wait_for(already + 1)
    message = next(m for m in received if "Proforma" in str(m["Subject"]))
    assert message["To"] == "ana@example.com"
    assert "PRO-2026-000001" in str(message["Subject"])
    assert "180,29" in message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    filename, text = pdf_of(message)
    assert filename == "PRO-2026-000001.pdf"
    for expected in ("PRO-2026-000001", "Ana García", "Base imponible 21 %", "IVA 21 %"):
        assert expected in text
    assert "149,00 €" in text and "31,29 €" in text and "180,29 €" in text

    with ctx.db.transaction() as session:
        document = session.scalars(select(Document)).one()
        record_payment(session, ctx, document, "test", "t1", document.total, "EUR", ctx.now())
    deliver_due(ctx)
    received = smtp_server.sink.wait_for(already + 2)
    receipt = received[-1]
    filename, text = pdf_of(receipt)
    assert filename == "F2026-000001.pdf"
    assert "Factura" in text and "F2026-000001" in text and "Ana García" in text
    assert "Base imponible 21 %" in text and "180,29 €" in text
    assert all(row.status == "sent" for row in outbox(ctx))


def test_outage_keeps_messages_queued_until_server_returns(
    make_context: Callable[..., Context], smtp_server: SmtpServer, clock: Clock
) -> None:
    ctx = smtp_context(make_context, smtp_server)
    BASE_DELAY_SECONDS = ctx.settings.delivery.retry_base_seconds
    customer = make_customer(ctx, email="bob@example.com", language="en")
    deliver_due(ctx)
    before = len(smtp_server.sink.messages)
    queue_welcome(ctx, customer.id, "outage-test")
    smtp_server.stop()
    report = deliver_due(ctx)
    assert report.retried == 1 and report.sent == 0
    row = outbox(ctx)[-1]
    assert row.status == "pending" and row.attempts == 1 and "Error" in row.last_error
    assert row.next_attempt_at == ctx.now() + timedelta(seconds=BASE_DELAY_SECONDS)
    clock.advance(seconds=BASE_DELAY_SECONDS)
    assert deliver_due(ctx).retried == 1
    row = outbox(ctx)[-1]
    assert row.attempts == 2
    assert row.next_attempt_at == ctx.now() + timedelta(seconds=2 * BASE_DELAY_SECONDS)
    smtp_server.start()
    assert deliver_due(ctx).sent == 0  # not due yet: backoff respected
    clock.advance(seconds=2 * BASE_DELAY_SECONDS)
    assert deliver_due(ctx).sent == 1
    received = smtp_server.sink.wait_for(before + 1)
    assert len(received) == before + 1
    row = outbox(ctx)[-1]
    assert row.status == "sent" and row.attempts == 3 and row.last_error == ""


def test_message_that_keeps_failing_stays_visible_as_failed(
    make_context: Callable[..., Context], smtp_server: SmtpServer, clock: Clock
) -> None:
    ctx = smtp_context(make_context, smtp_server)
    customer = make_customer(ctx, email="carla@example.com")
    queue_welcome(ctx, customer.id, "failing-test")
    smtp_server.stop()
    max_attempts = retry_policy(ctx).max_attempts
    for _ in range(max_attempts):
        deliver_due(ctx)
        clock.advance(hours=7)
    rows = outbox(ctx)
    assert rows and all(r.status == "failed" and r.attempts == max_attempts for r in rows)
    smtp_server.start()
    assert retry_failed(ctx, rows[0].id)
    assert deliver_due(ctx).sent == 1


def test_every_customer_email_exists_in_both_languages(ctx: Context) -> None:
    document = Document(
        reference="PRO-2026-000001",
        total=Decimal("10.00"),
        currency="EUR",
        due_date=date(2026, 3, 2),
        kind="proforma",
        status="unpaid",
        amount_paid=Decimal("0.00"),
        credit_applied=Decimal("0.00"),
        number="R2026-000001",
        reason="correction",
    )
    customer = Customer(name="Ana", email="a@example.com")
    product = Product(code="licence", name_es="Licencia", name_en="Licence")
    service = Service(id=7, product=product, label="tienda", next_due_date=date(2026, 3, 2))
    for template in (
        "verify_email",
        "welcome",
        "password_reset",
        "proforma_issued",
        "payment_receipt",
        "reminder",
        "overdue",
        "suspension",
        "termination",
        "credit_note",
    ):
        subjects = set()
        for lang in ("es", "en"):
            subject, text, html = render_email(
                ctx,
                template,
                lang,
                {
                    "document": document,
                    "customer": customer,
                    "url": "http://x",
                    "service": service,
                    "product": product,
                    "note": document,
                    "invoice": document,
                },
            )
            assert subject and text.strip() and "<" in html
            subjects.add(subject)
        assert len(subjects) == 2, template
