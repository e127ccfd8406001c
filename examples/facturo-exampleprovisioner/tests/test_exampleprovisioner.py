"""The provisioner through the core: an order paid creates the account; the billing run's
renewal, suspension for non-payment and the late payment renew, suspend and unsuspend it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

from sqlalchemy import select

from facturo.plugin import (
    Context,
    Customer,
    Document,
    Product,
    Service,
    place_order,
    record_payment,
)
from facturo.testing import Clock, drain, make_catalog, make_customer

PLUGIN = "exampleprovisioner"


def pay(ctx: Context, document_id: int) -> None:
    """Record a bank transfer covering the document's balance."""
    with ctx.db.transaction() as session:
        document = session.get(Document, document_id)
        assert document is not None
        record_payment(
            session, ctx, document, "manual", f"m-{document_id}", document.balance, "EUR", ctx.now()
        )
    drain(ctx)


def account(ctx: Context, service_id: int) -> tuple[str, date | None]:
    from facturo_exampleprovisioner import Account

    with ctx.db.read_session() as session:
        row = session.scalar(select(Account).where(Account.service_id == service_id))
        assert row is not None
        return row.state, row.paid_until


def billing_run(ctx: Context, day: date) -> None:
    """The daily billing run (renewals, reminders, suspensions) for ``day``, then the outbox."""
    from facturo.billing.billing_run import billing_run as run

    run(ctx, day)
    drain(ctx)


def unpaid_renewal(ctx: Context, customer_id: int) -> int:
    with ctx.db.read_session() as session:
        document_id = session.scalar(
            select(Document.id).where(
                Document.customer_id == customer_id, Document.status == "unpaid"
            )
        )
        assert document_id is not None
        return document_id


def test_create_renew_suspend_unsuspend(make_context: Callable[..., Context], clock: Clock) -> None:
    ctx = make_context(plugins=(PLUGIN,))
    make_catalog(ctx, provisioner=PLUGIN)
    customer = make_customer(ctx)
    with ctx.db.transaction() as session:
        product = session.scalar(select(Product).where(Product.code == "licence"))
        owner = session.get(Customer, customer.id)
        assert product is not None and owner is not None
        (service,), proforma = place_order(session, ctx, owner, product, "monthly")
        service_id, proforma_id = service.id, proforma.id
    pay(ctx, proforma_id)
    with ctx.db.read_session() as session:
        due = session.get(Service, service_id).next_due_date  # type: ignore[union-attr]
        assert due is not None
    assert account(ctx, service_id) == ("active", due)

    clock.set(clock().replace(year=due.year, month=due.month, day=due.day))
    billing_run(ctx, due)  # the renewal proforma; nothing to provision yet
    renewal_id = unpaid_renewal(ctx, customer.id)
    assert account(ctx, service_id) == ("active", due)

    late = due + timedelta(days=ctx.settings.billing.suspend_after_days)
    clock.advance(days=(late - due).days)
    billing_run(ctx, late)  # unpaid: suspended, the due date stays the unpaid one
    assert account(ctx, service_id) == ("suspended", due)

    pay(ctx, renewal_id)  # unsuspend, then renew: one cycle from the old due date
    with ctx.db.read_session() as session:
        service = session.get(Service, service_id)
        assert service is not None
        assert service.status == "active"
        assert service.next_due_date is not None and service.next_due_date > due
        assert service.provisioner_data == {"username": f"svc{service_id}"}
    assert account(ctx, service_id) == ("active", service.next_due_date)


def test_other_products_and_ignored_actions(make_context: Callable[..., Context]) -> None:
    from facturo_exampleprovisioner import provision_product

    ctx = make_context(plugins=(PLUGIN,))
    make_catalog(ctx, provisioner=None)  # a product no plugin provisions
    customer = make_customer(ctx)
    with ctx.db.transaction() as session:
        product = session.scalar(select(Product).where(Product.code == "licence"))
        owner = session.get(Customer, customer.id)
        assert product is not None and owner is not None
        (service,), _proforma = place_order(session, ctx, owner, product, "monthly")
        assert provision_product(ctx, session, service, "create") is None
        product.provisioner = PLUGIN
        session.flush()
        assert provision_product(ctx, session, service, "migrate") == {}
