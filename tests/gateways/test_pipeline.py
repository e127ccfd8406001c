"""The core notification pipeline and the reconciliation job, with a fake gateway."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from facturo.context import Context
from facturo.gateways import pipeline
from facturo.gateways.reconcile import reconcile
from facturo.models import GatewayNotification
from facturo.plugin import (
    Applied,
    BaseGateway,
    Gateway,
    NotificationRejected,
    PendingAttempt,
    Verified,
    hookimpl,
    receive_notification,
)


@dataclass
class FakeGateway(BaseGateway):
    """Messages are ``<key>`` or ``forged``; ``failures`` makes the next applies fail."""

    name: str = "fake"
    applied: list[str] = field(default_factory=list)
    failures: int = 0
    pending: list[PendingAttempt] = field(default_factory=list)
    answers: dict[str, str] = field(default_factory=dict)

    def verify_notification(self, ctx: Context, body: str, headers: Mapping[str, str]) -> Verified:
        if body == "forged":
            raise NotificationRejected("bad signature")
        return Verified(body, body)

    def apply_notification(self, ctx: Context, session: Session, verified: Verified) -> Applied:
        if self.failures:
            self.failures -= 1
            raise OperationalError("UPDATE", {}, Exception("connection lost"))
        self.applied.append(str(verified.payload))
        return Applied("processed", f"paid {verified.payload}")

    def pending_attempts(
        self, ctx: Context, started_before: datetime, started_after: datetime
    ) -> Sequence[PendingAttempt]:
        return list(self.pending)

    def query_payment(self, ctx: Context, attempt: PendingAttempt) -> tuple[str, Verified] | None:
        key = self.answers.get(attempt.reference)
        return None if key is None else (f"answer {key}", Verified(key, key))

    @hookimpl
    def payment_gateways(self, ctx: Context) -> list[Gateway]:
        return [self]


@pytest.fixture
def fake() -> FakeGateway:
    return FakeGateway()


@pytest.fixture
def gw_ctx(
    make_context: Callable[..., Context], fake: FakeGateway, monkeypatch: pytest.MonkeyPatch
) -> Context:
    monkeypatch.setattr(pipeline, "BACKOFF_SECONDS", (0.0, 0.0, 0.0))
    return make_context(overrides={"gateways.reconcile_after_seconds": 0}, extra=[("fake", fake)])


def receive(ctx: Context, gateway: FakeGateway, body: str) -> pipeline.Receipt:
    return receive_notification(
        ctx,
        "fake",
        body,
        {"Authorization": "secret", "X-Test": "1"},
        "127.0.0.1",
        verify=lambda b, h: gateway.verify_notification(ctx, b, h),
        apply=lambda s, v: gateway.apply_notification(ctx, s, v),
    )


def rows(ctx: Context) -> list[GatewayNotification]:
    with ctx.db.read_session() as session:
        return list(session.scalars(select(GatewayNotification).order_by(GatewayNotification.id)))


def test_a_repeat_is_a_duplicate_and_applied_once(gw_ctx: Context, fake: FakeGateway) -> None:
    first = receive(gw_ctx, fake, "ORDER1:0000")
    again = receive(gw_ctx, fake, "ORDER1:0000")
    assert (first.status, first.http_status) == ("processed", 200)
    assert (again.status, again.http_status) == ("duplicate", 200)
    assert fake.applied == ["ORDER1:0000"]
    stored = rows(gw_ctx)
    assert [r.status for r in stored] == ["processed", "duplicate"]
    assert "authorization" not in {k.lower() for k in stored[0].headers}


def test_a_forged_message_is_stored_rejected_and_holds_no_key(
    gw_ctx: Context, fake: FakeGateway
) -> None:
    receipt = receive(gw_ctx, fake, "forged")
    assert (receipt.status, receipt.http_status) == ("rejected", 200)
    assert [(r.status, r.event_key) for r in rows(gw_ctx)] == [("rejected", None)]
    assert fake.applied == []


def test_a_message_that_cannot_be_stored_asks_for_a_retry(
    gw_ctx: Context, fake: FakeGateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    def down(*args: Any, **kwargs: Any) -> Any:
        raise OperationalError("INSERT", {}, Exception("server closed the connection"))

    monkeypatch.setattr(pipeline, "log_notification", down)
    receipt = receive(gw_ctx, fake, "ORDER2:0000")
    assert not receipt.stored
    assert receipt.http_status == 503
    assert fake.applied == []


def test_stored_but_not_applied_is_answered_200_and_applied_by_reconciliation(
    gw_ctx: Context, fake: FakeGateway
) -> None:
    fake.failures = pipeline.ATTEMPTS  # every try of the request fails
    receipt = receive(gw_ctx, fake, "ORDER3:0000")
    assert receipt.stored and receipt.http_status == 200
    assert [r.status for r in rows(gw_ctx)] == ["error"]
    report = reconcile(gw_ctx)
    assert report.reapplied == 1 and report.failures == 0
    assert [r.status for r in rows(gw_ctx)] == ["processed"]
    reconcile(gw_ctx)
    assert fake.applied == ["ORDER3:0000"]


def test_a_retry_inside_the_request_absorbs_a_short_blip(
    gw_ctx: Context, fake: FakeGateway
) -> None:
    fake.failures = pipeline.ATTEMPTS - 1
    assert receive(gw_ctx, fake, "ORDER4:0000").status == "processed"
    assert fake.applied == ["ORDER4:0000"]


def test_reconciliation_and_a_late_notification_record_once(
    gw_ctx: Context, fake: FakeGateway
) -> None:
    fake.pending = [
        PendingAttempt("ORDER5", 1, Decimal("10.00"), "EUR", gw_ctx.now()),
        PendingAttempt("ORDER6", 2, Decimal("10.00"), "EUR", gw_ctx.now()),
    ]
    fake.answers = {"ORDER5": "ORDER5:0000"}  # ORDER6: the gateway has no final answer yet
    report = reconcile(gw_ctx)
    assert (report.queried, report.recorded) == (2, 1)
    assert reconcile(gw_ctx).recorded == 1  # asked again: the same answer is a duplicate
    late = receive(gw_ctx, fake, "ORDER5:0000")
    assert late.status == "duplicate"
    assert fake.applied == ["ORDER5:0000"]
    stored = rows(gw_ctx)
    assert [r.remote_addr for r in stored][:1] == ["reconcile"]
    assert [r.status for r in stored] == ["processed", "duplicate", "duplicate"]
