"""Customer credit: the one place that reads and writes a credit balance.

Every change locks the customer row first (``SELECT … FOR UPDATE``, re-reading the balance),
so two transactions can never both spend, or both add to, the balance they read; the
``ck_customers_credit_not_negative`` constraint refuses a negative balance even if code
elsewhere gets it wrong. Lock order: a document before its customer, a customer before a
number series.

The locks are ``FOR NO KEY UPDATE``: they do not wait for, nor block, the key-share locks
that inserting a row referencing the customer (a service, a payment) takes, which would
otherwise deadlock two orders of the same customer.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from facturo.billing.money import ZERO, to_money
from facturo.models import Customer, Document


def lock_customer(session: Session, customer_id: int) -> Customer:
    """The customer row, locked for the rest of the transaction and freshly read."""
    query = (
        select(Customer)
        .where(Customer.id == customer_id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    )
    return session.execute(query).scalar_one()


def lock_document(session: Session, document_id: int) -> Document:
    """The document row, locked for the rest of the transaction and freshly read."""
    query = (
        select(Document)
        .where(Document.id == document_id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    )
    return session.execute(query).scalar_one()


def spend_credit(session: Session, customer_id: int, up_to: Decimal) -> Decimal:
    """Take at most ``up_to`` from the customer's credit; return the amount taken (may be 0)."""
    if up_to <= 0:
        return ZERO
    customer = lock_customer(session, customer_id)
    taken = min(customer.credit_balance, to_money(up_to))
    if taken > 0:
        customer.credit_balance = customer.credit_balance - taken
        session.flush()
    return taken if taken > 0 else ZERO


def add_credit(session: Session, customer_id: int, amount: Decimal) -> None:
    """Add ``amount`` (more than zero) to the customer's credit."""
    if amount <= 0:
        raise ValueError("credit added must be more than zero")
    customer = lock_customer(session, customer_id)
    customer.credit_balance = customer.credit_balance + to_money(amount)
    session.flush()
