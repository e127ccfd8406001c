"""The gateway protocol: what a payment gateway plugin provides to the core.

A gateway plugin returns one object following :class:`Gateway` from the ``payment_gateways``
hook. The core drives it, in the manner of HTTPX's ``BaseTransport``: the plugin only speaks
its gateway's protocol, the core does the bookkeeping around it.

- ``verify_notification`` turns a raw server-to-server message into a :class:`Verified`
  (or raises :class:`NotificationRejected` / :class:`RetryLater`);
- ``apply_notification`` books a verified message inside the core's transaction and returns
  an :class:`Applied`; it must be idempotent (a unique constraint decides, never a read);
- ``pending_attempts`` and ``query_payment`` let the reconciliation job ask the gateway about
  payments whose notification never arrived (the answer is applied like a notification);
- ``refund`` and ``form_action_hosts`` mirror the ``refund_payment`` and
  ``form_action_hosts`` hooks (a gateway may implement them here or as hooks).

:class:`BaseGateway` is a small base class with the optional methods filled in.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from facturo.context import Context
    from facturo.contributions import RefundResult
    from facturo.models import Document, Payment

__all__ = [
    "Applied",
    "BaseGateway",
    "Gateway",
    "NotificationRejected",
    "PendingAttempt",
    "RetryLater",
    "StartedPayment",
    "Verified",
]


class NotificationRejected(Exception):
    """The message is not authentic or not readable: stored as ``rejected``, never applied."""


class RetryLater(Exception):
    """The gateway (or what verification needs) could not be reached: stored as ``error``;
    the sender should retry and the reconciliation job will try again."""


@dataclass(frozen=True)
class Verified:
    """An authentic message: ``event_key`` deduplicates it per gateway (a unique constraint),
    ``payload`` is what the plugin's ``apply_notification`` needs."""

    event_key: str | None
    payload: Any = field(repr=False)


@dataclass(frozen=True)
class Applied:
    """What applying a verified message did: ``status`` is ``processed``, ``duplicate`` or
    ``rejected`` (authentic but not matching what we expect); ``detail`` is for staff."""

    status: str
    detail: str = ""
    payment_id: int | None = None


@dataclass(frozen=True)
class PendingAttempt:
    """A payment attempt the gateway has not told us the outcome of."""

    reference: str
    document_id: int
    amount: Decimal
    currency: str
    started_at: datetime


@dataclass(frozen=True)
class StartedPayment:
    """Where to send the customer to pay: a URL to redirect to, or an HTML form to show."""

    reference: str
    redirect_url: str | None = None
    form_html: str | None = None


@runtime_checkable
class Gateway(Protocol):
    """A payment gateway as the core drives it (see the module docstring)."""

    name: str

    def start_payment(self, ctx: Context, session: Session, document: Document) -> StartedPayment:
        """Create an attempt to pay ``document``'s balance; raise ValueError if not payable."""
        ...

    def verify_notification(self, ctx: Context, body: str, headers: Mapping[str, str]) -> Verified:
        """Check a raw message's authenticity; raise NotificationRejected or RetryLater."""
        ...

    def apply_notification(self, ctx: Context, session: Session, verified: Verified) -> Applied:
        """Book ``verified`` in ``session`` (the core commits); idempotent."""
        ...

    def pending_attempts(
        self, ctx: Context, started_before: datetime, started_after: datetime
    ) -> Sequence[PendingAttempt]:
        """Attempts still pending that started in the window (oldest first)."""
        ...

    def query_payment(self, ctx: Context, attempt: PendingAttempt) -> tuple[str, Verified] | None:
        """Ask the gateway about ``attempt``: None while it has no final answer, else the raw
        answer (stored for staff) and the same kind of Verified a notification yields."""
        ...

    def refund(
        self, ctx: Context, session: Session, payment: Payment, amount: Decimal
    ) -> RefundResult:
        """Send ``amount`` of ``payment`` back; raise on a gateway error (nothing recorded)."""
        ...

    def form_action_hosts(self, ctx: Context) -> list[str]:
        """Origins the payment forms post to (for the Content-Security-Policy)."""
        ...


class BaseGateway:
    """A base class for :class:`Gateway` implementations: override what the gateway does.

    The defaults describe a gateway with no notifications to query and no refunds.
    """

    name: str = ""

    def start_payment(self, ctx: Context, session: Session, document: Document) -> StartedPayment:
        """Not supported unless overridden."""
        raise NotImplementedError(f"{self.name} does not start payments from the core")

    def verify_notification(self, ctx: Context, body: str, headers: Mapping[str, str]) -> Verified:
        """Every message is rejected unless overridden."""
        raise NotificationRejected(f"{self.name} takes no notifications")

    def apply_notification(self, ctx: Context, session: Session, verified: Verified) -> Applied:
        """Nothing is applied unless overridden."""
        return Applied("rejected", "not supported")

    def pending_attempts(
        self, ctx: Context, started_before: datetime, started_after: datetime
    ) -> Sequence[PendingAttempt]:
        """No attempts to reconcile unless overridden."""
        return []

    def query_payment(self, ctx: Context, attempt: PendingAttempt) -> tuple[str, Verified] | None:
        """No answer unless overridden."""
        return None

    def refund(
        self, ctx: Context, session: Session, payment: Payment, amount: Decimal
    ) -> RefundResult:
        """Not supported unless overridden."""
        raise NotImplementedError(f"{self.name} does not refund")

    def form_action_hosts(self, ctx: Context) -> list[str]:
        """No external form targets unless overridden."""
        return []


def as_mapping(headers: Mapping[str, str]) -> dict[str, str]:
    """A plain dict copy of request headers."""
    return {str(k): str(v) for k, v in headers.items()}
