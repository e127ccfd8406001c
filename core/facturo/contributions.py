"""Small records that plugins return from contribution hooks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from facturo.context import Context


@dataclass(frozen=True)
class MenuItem:
    """A link in the client or staff menu; ``label`` maps a language code to text.

    ``group`` places a staff link under one heading of the staff menu: ``sales``, ``customers``,
    ``support``, ``taxes`` or ``settings`` (``facturo.web.admin_nav.GROUPS``); empty or unknown
    puts it under "More". The client menu ignores it."""

    label: dict[str, str]
    url: str
    order: int = 100
    roles: tuple[str, ...] = ()
    group: str = ""

    def text(self, language: str) -> str:
        return self.label.get(language) or next(iter(self.label.values()), self.url)


@dataclass(frozen=True)
class Panel:
    """A block of HTML a plugin adds to the client dashboard or a staff customer page."""

    title: dict[str, str]
    html: str
    order: int = 100

    def heading(self, language: str) -> str:
        return self.title.get(language) or next(iter(self.title.values()), "")


@dataclass(frozen=True)
class PaymentMethod:
    """A way to pay that a gateway plugin offers."""

    gateway: str
    label: dict[str, str]
    online: bool
    supports_refunds: bool = False


@dataclass(frozen=True)
class PaymentOption:
    """What an unpaid document shows for one method: HTML for the page and for the PDF."""

    gateway: str
    title: dict[str, str]
    html: str = ""
    pdf_html: str = ""
    pay_url: str | None = None
    order: int = 100
    #: The EPC069-12 QR payload of a credit transfer paying the document, when the method has one.
    transfer_payload: str | None = None

    def heading(self, language: str) -> str:
        return self.title.get(language) or next(iter(self.title.values()), self.gateway)


@dataclass(frozen=True)
class PeriodicJob:
    """A job the worker runs every ``interval_seconds``; ``run(ctx)`` does the work. ``label``
    (language code → text) names it for staff on the dashboard; without one the name shows."""

    name: str
    interval_seconds: int
    run: Callable[[Context], Any]
    label: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SettingField:
    """One key of a ``[plugin.<name>]`` table."""

    name: str
    kind: str = "str"  # str, int, bool, decimal, choice, list
    required: bool = False
    default: Any = None
    secret: bool = False
    #: For tables and lists of tables: the inner keys whose values are secret.
    secret_keys: tuple[str, ...] = ()
    choices: tuple[str, ...] = ()
    help: str = ""
    validate: Callable[[Any], Any] | None = None


@dataclass(frozen=True)
class PluginSettings:
    """The settings schema of one plugin. ``build``, when given, turns the checked values
    (a dict) into the object ``ctx.settings_for(plugin)`` returns, once per installation
    (e.g. a frozen dataclass holding keys parsed from the settings); it may raise ValueError,
    which stops start-up naming the plugin."""

    plugin: str
    fields: tuple[SettingField, ...] = field(default_factory=tuple)
    build: Callable[[dict[str, Any]], Any] | None = None


@dataclass(frozen=True)
class RefundResult:
    """A gateway's answer to a refund request."""

    gateway_refund_id: str
    status: str  # completed, pending
    amount: Decimal
    raw: dict[str, Any] = field(default_factory=dict)


#: What :class:`CollectionResult` may report (see the ``collect_renewal`` hook).
COLLECTION_OUTCOMES = ("paid", "declined", "unusable", "error", "unknown")


@dataclass(frozen=True)
class CollectionResult:
    """A plugin's answer to ``collect_renewal``: what became of one charge of a renewal.

    ``status`` is ``paid`` (the payment is recorded), ``declined`` (the bank refused: retried
    on the dunning schedule), ``unusable`` (the saved method can no longer be charged: no
    more retries, the customer is asked for a new one), ``error`` (nothing was charged, e.g.
    the bank could not be reached: retried) or ``unknown`` (the charge may have gone
    through; the gateway's reconciliation settles it, never retried). ``reference`` is the
    gateway's id of the charge; ``detail`` a line for staff (the bank's code and meaning).
    """

    status: str
    reference: str = ""
    detail: str = ""

    def __post_init__(self) -> None:
        if self.status not in COLLECTION_OUTCOMES:
            raise ValueError(f"unknown collection outcome {self.status!r}")


@dataclass(frozen=True)
class GaugeSample:
    """One value a plugin reports for ``/metrics`` (e.g. its payment attempts left pending).

    ``name`` is a Prometheus metric name (``facturo_`` is added when missing); samples of the
    same name from one or several plugins are told apart by ``labels``."""

    name: str
    help: str
    value: float
    labels: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SearchHit:
    """A customer found by a plugin's own search key (e.g. a licence key)."""

    customer_id: int
    label: str


VAT_CHECK_STATES = ("valid", "invalid", "unknown")


@dataclass(frozen=True)
class VatCheck:
    """An online check of an EU VAT number (``check_vat_number``).

    ``status`` is "valid", "invalid" or "unknown" (the service could not answer: VAT is
    charged until a later check says valid). ``reference`` is the proof's number (a VIES
    consultation number, or the id of a staff override), ``detail`` a fault code or the
    override's reason, ``source`` who answered ("vies", "override").
    """

    status: str
    reference: str = ""
    checked_at: datetime | None = None
    detail: str = ""
    source: str = ""
    name: str = ""
    address: str = ""

    def __post_init__(self) -> None:
        if self.status not in VAT_CHECK_STATES:
            raise ValueError(f"unknown VAT check status {self.status!r}")


@dataclass(frozen=True)
class BankStatementEntry:
    """One booked movement of an imported bank statement, handed to other plugins by the
    plugin that read the file (``on_bank_statement_imported``).

    ``amount`` is positive; ``direction`` is "credit" (money in) or "debit" (money out: a
    direct debit returned to its payer shows as a debit). ``end_to_end_id`` is the payment's
    end-to-end reference when the bank reports it; ``return_reason`` the ISO reason code of a
    returned payment (AM04, MD06…), when the statement carries one. ``identity`` is stable
    across re-imports of the same movement.
    """

    identity: str
    booking_date: date
    amount: Decimal
    currency: str
    direction: str
    remittance: str = ""
    end_to_end_id: str = ""
    return_reason: str = ""
    bank_reference: str = ""
