"""The public surface for plugins: everything a plugin may import from Facturo.

A plugin imports only this module (and its own modules). Widen it deliberately.
"""

from __future__ import annotations

from facturo.accounts.emails import InvalidEmail, clean_email, is_valid_email
from facturo.audit import record as audit_record
from facturo.billing.cycles import add_months, months_of, period_end_instant, period_for
from facturo.billing.documents import cancel_proforma, create_credit_note
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
from facturo.billing.payments import PaymentOutcome, record_payment
from facturo.billing.pdf import document_pdf
from facturo.billing.qr import QrImage, qr_image
from facturo.billing.refunds import refund_invoice
from facturo.billing.retax import reprice_unpaid
from facturo.billing.services import change_status
from facturo.billing.vat_recheck import recheck_pending
from facturo.bootstrap import create_context
from facturo.config import ConfigError, load_settings
from facturo.context import Context
from facturo.contributions import (
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
from facturo.db.types import Money, Rate, UTCDateTime, utcnow
from facturo.db.util import insert_ignore
from facturo.delivery.outbox import enqueue_email, enqueue_event
from facturo.gateways.notifications import log_notification, mark_notification
from facturo.gateways.pipeline import Receipt, receive_notification
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
from facturo.web.confirm import Confirmation, confirm_page, is_confirmed
from facturo.web.errors import error_page
from facturo.web.order_messages import order_refusal
from facturo.web.rendering import flash, render, request_language
from facturo.web.sections import api_write, open_page, roles_required

__all__ = [
    "card_details",
    "gateway_notifications_page",
    "receive_notification",
    "Verified",
    "StartedPayment",
    "RetryLater",
    "Receipt",
    "PendingAttempt",
    "NotificationRejected",
    "Gateway",
    "BaseGateway",
    "Applied",
    "InvalidEmail",
    "clean_email",
    "is_valid_email",
    "csv_response",
    "safe_cell",
    "safe_row",
    "Base",
    "BillingError",
    "ConfigError",
    "Confirmation",
    "Context",
    "Customer",
    "Document",
    "DocumentLine",
    "DuplicateAddonError",
    "GatewayNotification",
    "GaugeSample",
    "ImmutableDocumentError",
    "MenuItem",
    "Money",
    "OrderError",
    "Panel",
    "Payment",
    "PaymentMethod",
    "PaymentOption",
    "PaymentOutcome",
    "PeriodicJob",
    "PluginSettings",
    "QrImage",
    "Product",
    "ProductPrice",
    "Rate",
    "Refund",
    "RefundResult",
    "SearchHit",
    "Service",
    "SettingField",
    "StaffUser",
    "TaxEvidence",
    "UnpaidParentError",
    "UTCDateTime",
    "VatCheck",
    "add_months",
    "api_write",
    "audit_record",
    "cancel_proforma",
    "change_status",
    "confirm_page",
    "create_context",
    "create_credit_note",
    "document_pdf",
    "enqueue_email",
    "enqueue_event",
    "error_page",
    "flash",
    "format_money",
    "hookimpl",
    "insert_ignore",
    "is_confirmed",
    "live_addons",
    "load_settings",
    "log_notification",
    "mark_notification",
    "months_of",
    "open_page",
    "order_addon",
    "order_refusal",
    "parse_amount",
    "period_end_instant",
    "period_for",
    "place_order",
    "qr_image",
    "recheck_pending",
    "record_payment",
    "refund_invoice",
    "render",
    "reprice_unpaid",
    "request_language",
    "roles_required",
    "same_supplier",
    "to_money",
    "utcnow",
]
