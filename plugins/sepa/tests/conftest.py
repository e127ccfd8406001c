"""Fixtures for the SEPA plugin's tests: a context with transfer and sepa, a business
customer with a mandate, its proformas, and logged-in HTTP clients."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import httpx
import pytest
from sqlalchemy import select, update

from facturo.plugin import Context, Customer, LineSpec, create_proforma
from facturo.testing import AppClient, create_app, logged_in_cookies, make_customer

CSRF = "test-csrf-token"
IBAN = "ES91 2100 0418 4502 0005 1332"
PLUGINS = ("transfer", "sepa")


@dataclass
class Shop:
    ctx: Context
    customer: Customer


@pytest.fixture
def sepa_ctx(make_context: Callable[..., Context]) -> Context:
    return make_context(plugins=PLUGINS)


def business_customer(ctx: Context, email: str = "empresa@example.com") -> Customer:
    """A verified customer with a company name and a tax id (a business)."""
    customer = make_customer(ctx, email=email, tax_id="B12345674")
    with ctx.db.transaction() as session:
        session.execute(
            update(Customer).where(Customer.id == customer.id).values(company="Tiendas Ana S.L.")
        )
    with ctx.db.read_session() as session:
        found = session.get(Customer, customer.id)
        assert found is not None
        session.expunge(found)
        return found


def sign(ctx: Context, customer: Customer, scheme: str = "CORE") -> int:
    """Sign a valid mandate for ``customer``; its id."""
    from facturo_sepa.mandates import sign_mandate

    form = {"debtor_name": "Tiendas Ana S.L.", "iban": IBAN, "scheme": scheme, "accept": "yes"}
    with ctx.db.transaction() as session:
        return sign_mandate(session, ctx, customer, form).id


def proforma(ctx: Context, customer: Customer, amount: str = "100.00") -> int:
    """An unpaid proforma of ``amount`` plus 21 % IVA."""
    with ctx.db.transaction() as session:
        fresh = session.get(Customer, customer.id)
        assert fresh is not None
        lines = [LineSpec("Licencia anual", Decimal(amount))]
        return create_proforma(session, ctx, fresh, lines, notify=False).id


def prenotified(ctx: Context) -> int:
    from facturo_sepa.collections import prenotify

    with ctx.db.transaction() as session:
        return prenotify(session, ctx)


def collection_date(ctx: Context) -> date:
    """A date every pre-notification of the test allows."""
    from facturo_sepa.models import PreNotification

    with ctx.db.read_session() as session:
        dates = list(session.scalars(select(PreNotification.collect_on)))
    return max(dates)


def build(ctx: Context, scheme: str = "CORE", on: date | None = None) -> int:
    from facturo_sepa.collections import build_collection

    with ctx.db.transaction() as session:
        return build_collection(session, ctx, scheme, on or collection_date(ctx), "staff:test").id


@pytest.fixture
def shop(sepa_ctx: Context) -> Shop:
    return Shop(sepa_ctx, business_customer(sepa_ctx))


def customer_client(ctx: Context, customer: Customer) -> httpx.Client:
    return AppClient(
        create_app(ctx),
        cookies=logged_in_cookies(ctx, customer=customer, csrf=CSRF),
        follow_redirects=False,
        headers={"Accept-Language": "en"},
    )


def staff_client(ctx: Context, role: str = "billing") -> httpx.Client:
    from facturo.accounts.customers import create_staff

    with ctx.db.transaction() as session:
        staff, _ = create_staff(
            session, f"{role}@example.com", role.title(), role, password="a-long-password-2026"
        )
    return AppClient(
        create_app(ctx),
        cookies=logged_in_cookies(ctx, staff=staff, csrf=CSRF),
        follow_redirects=False,
        headers={"Accept-Language": "en"},
    )
