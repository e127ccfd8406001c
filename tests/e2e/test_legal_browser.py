"""The legal go-live flows in a real browser (Playwright + Debian's Chromium) against uvicorn,
with the Ruralvía sandbox and the VIES stand-in (sandbox mode, served by the app itself).

* an EU business whose VAT number VIES confirms: 0 % reverse charge, the legal mention and the
  consultation number on the invoice;
* an EU business while its member state's register is down: VAT charged, and why;
* a consumer who ticks the immediate-supply box: the consent shown, no withdrawal offered;
* a consumer who does not: pays by card, then withdraws in two steps, refunded through the
  sandbox, with a credit note and the services ended.

Screenshots go to test-artifacts/screenshots/legal-*.png.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from facturo.context import Context
from facturo.db.types import utcnow
from facturo.models import Customer, Document, OrderTerms, Refund, Service, Withdrawal
from facturo.testing import (
    free_port,
    logged_in_cookies,
    make_catalog,
    make_customer,
    serve_in_thread,
    stop_server,
)
from facturo.web.app import create_app
from facturo_vies.models import Consultation
from facturo_vies.sandbox import sample_number
from tests.e2e.test_client_browser import APPROVED_CARD, Shots

pytestmark = pytest.mark.browser

VALID_DE = sample_number("DE", "123")
DOWN_DE = sample_number("DE", "301")  # the stand-in answers MS_UNAVAILABLE


@dataclass
class Live:
    ctx: Context
    url: str


@pytest.fixture
def live(make_context: Callable[..., Context]) -> Iterator[Live]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    ctx = make_context(plugins=("transfer", "ruralvia", "vies"), overrides={"base_url": url})
    ctx.clock = utcnow
    make_catalog(ctx)
    server = serve_in_thread(create_app(ctx), port)
    yield Live(ctx, url)
    stop_server(server)


def logged_in_page(live: Live, browser: Browser, customer: Customer) -> Page:
    context = browser.new_context(locale="es-ES")
    cookies = logged_in_cookies(live.ctx, customer=customer, csrf="x")
    context.add_cookies([{"name": k, "value": v, "url": live.url} for k, v in cookies.items()])
    return context.new_page()


def order_licence(page: Page, live: Live, shot: Shots, consent: bool | None = None) -> int:
    page.goto(f"{live.url}/client/catalog")
    shot(page, "catalog")
    page.check("input[name=cycle][value=annual]")
    box = page.locator("section.card").first.locator("input[name=immediate_supply]")
    if consent is None:
        assert box.count() == 0  # businesses are not asked
    else:
        assert not box.is_checked()  # never ticked in advance
        if consent:
            box.check()
    page.locator("section.card form button[type=submit]").first.click()
    page.wait_for_url("**/client/order/review")
    page.get_by_role("button", name="Pedir y pagar de otra forma").click()
    page.wait_for_url("**/client/documents/*")
    shot(page, "proforma")
    return int(page.url.rsplit("/", 1)[1])


def pay_by_card(page: Page, live: Live, shot: Shots, document_id: int) -> None:
    page.get_by_role("link", name="Pagar con tarjeta").click()
    page.wait_for_url(f"**/client/ruralvia/pay/{document_id}")
    page.get_by_role("button", name="Pagar con tarjeta").click()
    page.wait_for_url("**/public/ruralvia/sandbox/sis/realizarPago")
    page.fill("input[name=card_number]", APPROVED_CARD)
    page.get_by_role("button", name="Pagar / Pay").click()
    page.wait_for_url("**/client/ruralvia/return/*")
    expect(page.locator("#payment-state")).to_have_attribute("data-state", "paid", timeout=20_000)
    page.goto(f"{live.url}/client/documents/{document_id}")
    shot(page, "invoice")


def test_eu_business_with_valid_vat_number_gets_reverse_charge(
    live: Live, browser: Browser
) -> None:
    customer = make_customer(
        live.ctx, email="einkauf@example.de", country="DE", tax_id=VALID_DE, postal_code="10115"
    )
    shot = Shots("legal-b2b-valid")
    page = logged_in_page(live, browser, customer)
    document_id = order_licence(page, live, shot)
    assert "149,00" in page.content() and "Inversión del sujeto pasivo" in page.content()
    pay_by_card(page, live, shot, document_id)
    with live.ctx.db.read_session() as session:
        invoice = session.get(Document, document_id)
        (consultation,) = session.scalars(select(Consultation))
        assert invoice is not None and invoice.number and invoice.total == Decimal("149.00")
    content = page.content()
    assert invoice.number in content and "Inversión del sujeto pasivo" in content
    assert consultation.request_identifier in content  # the consultation number, printed
    assert "0 %" in content
    page.context.close()


def test_eu_business_while_vies_is_down_is_charged_vat_and_told_why(
    live: Live, browser: Browser
) -> None:
    customer = make_customer(
        live.ctx, email="buero@example.de", country="DE", tax_id=DOWN_DE, postal_code="10115"
    )
    shot = Shots("legal-b2b-down")
    page = logged_in_page(live, browser, customer)
    document_id = order_licence(page, live, shot)
    notice = page.locator("#vat-pending")
    expect(notice).to_contain_text("VIES")
    expect(notice).to_contain_text("MS_UNAVAILABLE")
    assert "177,31" in page.content()  # 149.00 + 19 % German VAT
    with live.ctx.db.read_session() as session:
        document = session.get(Document, document_id)
        assert document is not None and document.tax_treatment == "eu_oss"
    page.context.close()
    # Staff see the proof and override it with a reason: the proforma drops the VAT.
    from facturo.accounts.customers import create_staff

    with live.ctx.db.transaction() as session:
        staff, _ = create_staff(
            session, "berta@facturo.test", "Berta", "billing", password="a-long-staff-pass-2026"
        )
    context = browser.new_context(locale="es-ES")
    cookies = logged_in_cookies(live.ctx, staff=staff, csrf="x")
    context.add_cookies([{"name": k, "value": v, "url": live.url} for k, v in cookies.items()])
    admin = context.new_page()
    admin.goto(f"{live.url}/admin/documents/{document_id}")
    shot(admin, "staff-document")
    assert "MS_UNAVAILABLE" in admin.content()
    admin.goto(f"{live.url}/admin/vies/customers/{customer.id}")
    shot(admin, "staff-vies")
    admin.check("input[name=decision][value=valid]")
    admin.fill("textarea[name=reason]", "Certificado de alta fiscal alemán comprobado por teléfono")
    admin.get_by_role("button", name="Registrar la excepción").click()
    admin.wait_for_url(f"**/admin/vies/customers/{customer.id}")
    shot(admin, "staff-overridden")
    expect(admin.locator("section.card").first).to_contain_text("Certificado de alta fiscal")
    with live.ctx.db.read_session() as session:
        document = session.get(Document, document_id)
        assert document is not None and document.total == Decimal("149.00")
    context.close()


def test_consumer_who_asks_for_immediate_supply_has_no_withdrawal(
    live: Live, browser: Browser
) -> None:
    customer = make_customer(live.ctx, email="lucia@example.com")
    shot = Shots("legal-consent")
    page = logged_in_page(live, browser, customer)
    document_id = order_licence(page, live, shot, consent=True)
    section = page.locator("#withdrawal")
    expect(section).to_be_visible()
    assert "suministro inmediato" in page.content()
    assert page.get_by_role("link", name="Desistir del contrato aquí").count() == 0
    page.goto(f"{live.url}/client/documents/{document_id}/withdraw")
    shot(page, "withdraw-refused")
    expect(page.locator("p.error")).to_contain_text("suministro inmediato")
    with live.ctx.db.read_session() as session:
        terms = session.scalar(select(OrderTerms).where(OrderTerms.document_id == document_id))
        assert terms is not None and terms.immediate_supply and terms.consent_at is not None
    page.context.close()


def test_consumer_without_consent_withdraws_and_is_refunded(live: Live, browser: Browser) -> None:
    customer = make_customer(live.ctx, email="pablo@example.com")
    shot = Shots("legal-withdraw")
    page = logged_in_page(live, browser, customer)
    document_id = order_licence(page, live, shot, consent=False)
    pay_by_card(page, live, shot, document_id)
    page.get_by_role("link", name="Desistir del contrato aquí").click()
    page.wait_for_url(f"**/client/documents/{document_id}/withdraw")
    shot(page, "withdraw-statement")
    assert customer.email in page.content()  # where the acknowledgement goes
    page.get_by_role("button", name="Confirmar desistimiento").click()
    page.wait_for_url(f"**/client/documents/{document_id}")
    shot(page, "withdrawn")
    assert "Has desistido de este contrato" in page.content()
    with live.ctx.db.read_session() as session:
        withdrawal = session.scalar(select(Withdrawal))
        assert withdrawal is not None and withdrawal.outcome == "refunded"
        refund = session.get(Refund, withdrawal.refund_id)
        assert refund is not None and refund.gateway == "ruralvia" and refund.status
        note = session.get(Document, withdrawal.credit_note_id)
        assert note is not None and note.kind == "credit_note"
        assert [s.status for s in session.scalars(select(Service))] == ["terminated"]
    page.context.close()
