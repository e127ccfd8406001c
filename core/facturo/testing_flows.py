"""Whole steps an end-to-end plugin test takes: deliver what is queued, pay a document, run
the billing run, build or serve the app (re-exported by :mod:`facturo.testing`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from facturo.testing_support import LiveServer, serve_in_thread

if TYPE_CHECKING:
    from facturo.context import Context


class DeliveryFailed(AssertionError):
    """An event ``drain`` delivered failed where the worker would retry it."""


def drain(ctx: Context, rounds: int = 5, allow_failures: bool = False) -> None:
    """Deliver every queued event and email now (what the worker would do).

    A provisioning action (or any event hook) that raises fails the test with its error
    instead of being retried; pass ``allow_failures=True`` to test retries."""
    from facturo.delivery.events import deliver_events
    from facturo.delivery.mail import deliver_due

    for _ in range(rounds):
        report = deliver_events(ctx)
        if report.errors and not allow_failures:
            raise DeliveryFailed("; ".join(report.errors))
        sent = deliver_due(ctx).sent
        if not report.done and not sent:
            return


def pay(ctx: Context, document_id: int, reference: str = "", gateway: str = "manual") -> int:
    """Record a payment of ``document_id``'s whole balance (as a gateway or staff would) in
    its own transaction; returns the payment id. Events are left for ``drain``."""
    from facturo.billing.payments import record_payment
    from facturo.models import Document

    with ctx.db.transaction() as session:
        document = session.get(Document, document_id)
        assert document is not None, f"no document {document_id}"
        outcome = record_payment(
            session,
            ctx,
            document,
            gateway,
            reference or f"test-{document_id}-{ctx.now().timestamp()}",
            document.balance,
            document.currency,
            ctx.now(),
        )
        session.flush()
        return int(outcome.payment.id)


def run_billing(ctx: Context, on: Any = None) -> Any:
    """Run the billing run for business date ``on`` (default today), then deliver what it
    queued; returns its report."""
    from facturo.billing.billing_run import billing_run

    report = billing_run(ctx, on)
    drain(ctx)
    return report


def create_app(ctx: Context, **options: Any) -> Any:
    """The web app of ``ctx`` (see :func:`facturo.web.app.create_app`), for in-process or
    served tests."""
    from facturo.web.app import create_app as build

    return build(ctx, **options)


def serve_app(ctx: Context, port: int | None = None) -> LiveServer:
    """Serve ``ctx``'s web app in a thread (``stop_server`` stops it); see ``serve_in_thread``."""
    from facturo.web.app import create_app

    return serve_in_thread(create_app(ctx), port=port)
