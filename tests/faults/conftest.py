"""Fixtures for the fault suite (on the schema every suite shares): a gateway plugin that counts its refunds,
and helpers to read back what happened."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from facturo.context import Context
from facturo.contributions import RefundResult
from facturo.models import Payment
from facturo.plugin import hookimpl


@dataclass
class CountingGateway:
    """A card gateway plugin (gateway name ``counting``) that records each refund it is
    asked for; ``refuse`` makes it answer like a bank that declines, ``die_after_paying``
    like a process killed right after the money went out."""

    calls: list[tuple[int, Decimal]] = field(default_factory=list)
    refuse: bool = False
    die_after_paying: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    @hookimpl
    def refund_payment(
        self, ctx: Context, session: Any, payment: Payment, amount: Decimal
    ) -> RefundResult | None:
        if payment.gateway != "counting":
            return None
        with self.lock:
            self.calls.append((payment.id, amount))
            number = len(self.calls)
        if self.refuse:
            raise RuntimeError("declined by the bank")
        if self.die_after_paying:
            raise SystemExit("killed after the gateway paid")
        return RefundResult(gateway_refund_id=f"CNT-{number}", status="completed", amount=amount)


@pytest.fixture
def gateway() -> CountingGateway:
    return CountingGateway()


@pytest.fixture
def pg_ctx(make_context: Callable[..., Context], gateway: CountingGateway) -> Context:
    """A Context with the counting gateway plugin."""
    return make_context(extra=[("counting", gateway)])


def count(ctx: Context, model: type, *where: Any) -> int:
    """How many rows of ``model`` match ``where``."""
    with ctx.db.read_session() as session:
        return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)
