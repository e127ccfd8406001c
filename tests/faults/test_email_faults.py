"""Email exactly once as far as SMTP allows (issue 14, points 4 and 6; issue 16, point 5):
the server's faults after it accepted the message, refusals and outages of days."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from email.utils import parsedate_to_datetime

from sqlalchemy import select

from facturo.context import Context
from facturo.delivery.mail import deliver_due, retry_all_failed
from facturo.delivery.outbox import enqueue_email
from facturo.delivery.retries import retry_policy
from facturo.models import OutboxMessage
from facturo.testing import Clock, make_customer
from tests.faults.smtp import FaultyServer, faulty_smtp

__all__ = ["faulty_smtp"]


def queue(ctx: Context, count: int, prefix: str = "m") -> list[int]:
    """Queue ``count`` welcome emails; return their outbox ids."""
    customer = make_customer(ctx, email=f"{prefix}@example.com")
    ids = []
    with ctx.db.transaction() as session:
        for n in range(count):
            enqueue_email(
                session,
                ctx,
                "welcome",
                customer.email,
                "es",
                {"customer": customer},
                f"{prefix}{n}",
            )
        for row in session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.template == "welcome")
            .order_by(OutboxMessage.id)
        ):
            if row.dedupe_key.startswith(prefix):
                ids.append(row.id)
    return ids


def rows(ctx: Context) -> list[OutboxMessage]:
    with ctx.db.read_session() as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def smtp_ctx(make_context: Callable[..., Context], server: FaultyServer) -> Context:
    return make_context(overrides=server.settings())


def test_quit_answered_421_after_the_data_is_not_a_failure(
    make_context: Callable[..., Context], faulty_smtp: FaultyServer, clock: Clock
) -> None:
    ctx = smtp_ctx(make_context, faulty_smtp)
    faulty_smtp.sink.quit_reply = "421 4.3.2 shutting down"
    queue(ctx, 3)
    report = deliver_due(ctx)
    assert (report.sent, report.retried) == (3, 0)
    clock.advance(days=1)
    assert deliver_due(ctx).sent == 0
    assert len(faulty_smtp.sink.accepted) == 3
    assert set(faulty_smtp.sink.ids().values()) == {1}
    assert all(row.status == "sent" and row.last_error == "" for row in rows(ctx))


def test_connection_dropped_after_250_is_not_a_failure(
    make_context: Callable[..., Context], faulty_smtp: FaultyServer, clock: Clock
) -> None:
    ctx = smtp_ctx(make_context, faulty_smtp)
    faulty_smtp.sink.drop_after_accept = True
    queue(ctx, 2)
    assert deliver_due(ctx).sent == 2
    clock.advance(days=1)
    deliver_due(ctx)
    assert len(faulty_smtp.sink.accepted) == 2


def test_message_id_and_date_are_fixed_when_queued_and_kept_on_retry(
    make_context: Callable[..., Context], faulty_smtp: FaultyServer, clock: Clock
) -> None:
    ctx = smtp_ctx(make_context, faulty_smtp)
    queued_at = clock()
    [message_id] = queue(ctx, 1)
    stored = rows(ctx)[-1].message_id
    assert stored.startswith("<") and stored.endswith("@facturo.test>")
    faulty_smtp.sink.refuse_data = 1
    clock.advance(minutes=5)
    report = deliver_due(ctx)
    assert report.retried == 1 and "451" in rows(ctx)[-1].last_error
    clock.advance(hours=1)
    assert deliver_due(ctx).sent == 1
    offered = faulty_smtp.sink.offered
    assert len(offered) == 2
    assert [str(m["Message-ID"]) for m in offered] == [stored, stored]
    assert [str(m["Date"]) for m in offered] == [str(offered[0]["Date"])] * 2
    assert parsedate_to_datetime(str(offered[0]["Date"])) == queued_at
    assert message_id == rows(ctx)[-1].id


def test_an_smtp_outage_of_three_days_loses_nothing_and_staff_can_retry_after(
    make_context: Callable[..., Context], faulty_smtp: FaultyServer, clock: Clock
) -> None:
    ctx = smtp_ctx(make_context, faulty_smtp)
    policy = retry_policy(ctx)
    assert policy.retry_for >= timedelta(days=3)
    queue(ctx, 2)
    faulty_smtp.stop()
    start = clock()
    while clock() - start < timedelta(days=3):
        deliver_due(ctx)
        clock.set(min(row.next_attempt_at for row in rows(ctx)))
    assert {row.status for row in rows(ctx)} == {"pending"}  # still being retried
    assert max(row.attempts for row in rows(ctx)) > 70
    while {row.status for row in rows(ctx)} != {"failed"}:  # beyond the window: kept as failed
        assert clock() - start <= policy.retry_for + timedelta(hours=1)
        deliver_due(ctx)
        clock.set(min(row.next_attempt_at for row in rows(ctx)))
    faulty_smtp.start()
    assert retry_all_failed(ctx) == 2
    assert deliver_due(ctx).sent == 2
    assert sorted(faulty_smtp.sink.ids().values()) == [1, 1]
