"""One worker pass delivers the outbox, runs due jobs and writes its heartbeat."""

from __future__ import annotations

from facturo.billing.orders import place_order
from facturo.context import Context
from facturo.delivery.worker import run_once
from facturo.models import JobRun, OutboxMessage
from facturo.testing import make_catalog, make_customer


def test_a_pass_sends_queued_email_and_records_the_heartbeat(ctx: Context) -> None:
    licence, _ = make_catalog(ctx)
    customer = make_customer(ctx)
    with ctx.db.transaction() as session:
        place_order(session, ctx, customer, licence, "annual")
    report = run_once(ctx)
    assert report.emails_sent == 1
    assert "billing_run" in report.jobs_run
    with ctx.db.read_session() as session:
        assert session.get(JobRun, "worker").last_status == "ok"
        assert session.get(JobRun, "billing_run").last_status == "ok"
        assert {m.status for m in session.query(OutboxMessage)} == {"sent"}
    again = run_once(ctx)
    assert again.jobs_run == []  # the hourly job is not due again yet
