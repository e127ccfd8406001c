"""The core's mapped models, all on one MetaData (``facturo.db.metadata``)."""

from __future__ import annotations

from facturo.models.accounts import Customer, StaffUser
from facturo.models.audit import AuditEvent
from facturo.models.catalog import Product, ProductPrice
from facturo.models.collection import CollectionAttempt, CollectionMethod
from facturo.models.compliance import OrderTerms, TaxEvidence, Withdrawal
from facturo.models.documents import BilledPeriod, Document, DocumentLine, NumberSeries
from facturo.models.jobs import JobRun
from facturo.models.outbox import OutboxEvent, OutboxMessage
from facturo.models.payments import GatewayNotification, Payment, Refund
from facturo.models.security import AuthSession, Passkey
from facturo.models.services import Service
from facturo.models.tokens import ApiToken

__all__ = [
    "ApiToken",
    "AuditEvent",
    "AuthSession",
    "BilledPeriod",
    "CollectionAttempt",
    "CollectionMethod",
    "Customer",
    "Document",
    "DocumentLine",
    "GatewayNotification",
    "JobRun",
    "NumberSeries",
    "OutboxEvent",
    "OrderTerms",
    "OutboxMessage",
    "Passkey",
    "Payment",
    "Product",
    "ProductPrice",
    "Refund",
    "Service",
    "StaffUser",
    "TaxEvidence",
    "Withdrawal",
]
