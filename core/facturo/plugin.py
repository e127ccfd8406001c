"""The public surface for plugins: everything a plugin may import from Facturo.

A plugin imports only this module (and its own modules). Widen it deliberately.
"""

from __future__ import annotations

from facturo.accounts.emails import InvalidEmail, clean_email, is_valid_email
from facturo.audit import record as audit_record
from facturo.billing.collection import clear_collection_method, set_collection_method
from facturo.billing.cycles import add_months, months_of, period_end_instant, period_for
from facturo.billing.documents import (
    LineSpec,
    cancel_proforma,
    create_credit_note,
    create_proforma,
)
from facturo.billing.errors import BillingError, ImmutableDocumentError
from facturo.billing.methods import card_details
from facturo.billing.money import format_money, parse_amount, to_money
from facturo.billing.orders import (
    DuplicateAddonError,
    OrderError,
    UnpaidParentError,
    live_addons,
    order_addon,
    place_order,
    same_supplier,
)
from facturo.billing.payments import PaymentOutcome, record_manual_payment, record_payment
from facturo.billing.pdf import document_pdf
from facturo.billing.qr import QrImage, qr_image
from facturo.billing.quotes import Quote, QuoteLine, quote_order
from facturo.billing.refunds import refund_invoice
from facturo.billing.renew_early import renewal_proforma
from facturo.billing.retax import reprice_unpaid
from facturo.billing.services import change_status
from facturo.billing.vat_recheck import recheck_pending
from facturo.bootstrap import create_context
from facturo.builtin.pdf_blocks import DetailsBlock, QrBlock, pdf_block_html
from facturo.config import ConfigError, load_settings
from facturo.context import Context
from facturo.contributions import (
    BankStatementEntry,
    CollectionResult,
    GaugeSample,
    MenuItem,
    Panel,
    PaymentMethod,
    PaymentOption,
    PeriodicJob,
    PluginSettings,
    RefundResult,
    SearchHit,
    SettingField,
    VatCheck,
)
from facturo.csv_export import csv_response, safe_cell, safe_row
from facturo.db.base import Base
from facturo.db.migrations import CORE_HEAD
from facturo.db.reader import PinnedConnections, RowReader, SessionReader
from facturo.db.types import Money, Rate, UTCDateTime, utcnow
from facturo.db.util import insert_ignore
from facturo.delivery.outbox import enqueue_email, enqueue_event
from facturo.errors import FacturoError
from facturo.gateways.notifications import log_notification, mark_notification
from facturo.gateways.pipeline import Receipt, receive_notification, record_answer
from facturo.gateways.protocol import (
    Applied,
    BaseGateway,
    Gateway,
    NotificationRejected,
    PendingAttempt,
    RetryLater,
    StartedPayment,
    Verified,
)
from facturo.hookspecs import hookimpl
from facturo.models import (
    Customer,
    Document,
    DocumentLine,
    GatewayNotification,
    Payment,
    Product,
    ProductPrice,
    Refund,
    Service,
    StaffUser,
    TaxEvidence,
)
from facturo.web.admin_notifications import gateway_notifications_page
from facturo.web.admin_payments import manual_payment_page
from facturo.web.client_common import me as current_customer
from facturo.web.client_common import owned as owned_or_404
from facturo.web.client_common import read_form
from facturo.web.confirm import Confirmation, confirm_page, is_confirmed
from facturo.web.errors import error_page
from facturo.web.order_messages import order_refusal
from facturo.web.rendering import flash, render, request_language
from facturo.web.sections import api_write, open_page, roles_required
from facturo.web.thanks import ThankYou, thank_you

__all__ = [
    "add_months",
    "api_write",
    "Applied",
    "audit_record",
    "BankStatementEntry",
    "Base",
    "BaseGateway",
    "BillingError",
    "cancel_proforma",
    "card_details",
    "change_status",
    "clean_email",
    "clear_collection_method",
    "CollectionResult",
    "ConfigError",
    "confirm_page",
    "Confirmation",
    "Context",
    "CORE_HEAD",
    "create_context",
    "create_credit_note",
    "create_proforma",
    "csv_response",
    "current_customer",
    "Customer",
    "DetailsBlock",
    "Document",
    "document_pdf",
    "DocumentLine",
    "DuplicateAddonError",
    "enqueue_email",
    "enqueue_event",
    "error_page",
    "FacturoError",
    "flash",
    "format_money",
    "Gateway",
    "gateway_notifications_page",
    "GatewayNotification",
    "GaugeSample",
    "hookimpl",
    "ImmutableDocumentError",
    "insert_ignore",
    "InvalidEmail",
    "is_confirmed",
    "is_valid_email",
    "LineSpec",
    "live_addons",
    "load_settings",
    "log_notification",
    "manual_payment_page",
    "mark_notification",
    "MenuItem",
    "Money",
    "months_of",
    "NotificationRejected",
    "open_page",
    "order_addon",
    "order_refusal",
    "OrderError",
    "owned_or_404",
    "Panel",
    "parse_amount",
    "Payment",
    "PaymentMethod",
    "PaymentOption",
    "PaymentOutcome",
    "pdf_block_html",
    "PendingAttempt",
    "period_end_instant",
    "period_for",
    "PeriodicJob",
    "PinnedConnections",
    "place_order",
    "PluginSettings",
    "Product",
    "ProductPrice",
    "qr_image",
    "QrBlock",
    "QrImage",
    "Quote",
    "quote_order",
    "QuoteLine",
    "Rate",
    "read_form",
    "Receipt",
    "receive_notification",
    "recheck_pending",
    "record_answer",
    "record_manual_payment",
    "record_payment",
    "Refund",
    "refund_invoice",
    "RefundResult",
    "render",
    "renewal_proforma",
    "reprice_unpaid",
    "request_language",
    "RetryLater",
    "roles_required",
    "RowReader",
    "safe_cell",
    "safe_row",
    "same_supplier",
    "SearchHit",
    "Service",
    "SessionReader",
    "set_collection_method",
    "SettingField",
    "StaffUser",
    "StartedPayment",
    "TaxEvidence",
    "thank_you",
    "ThankYou",
    "to_money",
    "UnpaidParentError",
    "UTCDateTime",
    "utcnow",
    "VatCheck",
    "Verified",
]
