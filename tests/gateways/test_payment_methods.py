"""``payment_methods`` is used: the proforma email, the customer's document page and the staff
"record payment" form list the enabled methods; no core template names a gateway."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import httpx
from sqlalchemy import select

import facturo
from facturo.context import Context
from facturo.delivery.messages import render_email
from facturo.models import Customer, Payment
from facturo.testing import logged_in_cookies, make_customer
from tests.web.conftest import CSRF, new_proforma, new_staff, serve, staff_client

TEMPLATES = Path(facturo.__file__).resolve().parent / "templates"
#: Gateways of the bundled plugins, and the protocol their card gateway speaks.
__all__ = ["serve"]  # the fixture, imported for these tests

GATEWAY_NAMES = ("ruralvia", "paypal", "transfer", "redsys")


def test_no_core_template_names_a_gateway() -> None:
    pattern = re.compile(r"\b(" + "|".join(GATEWAY_NAMES) + r")\b", re.IGNORECASE)
    offenders = [
        f"{path.relative_to(TEMPLATES)}: {match.group(0)}"
        for path in sorted(TEMPLATES.rglob("*"))
        if path.is_file()
        for match in pattern.finditer(path.read_text(encoding="utf-8", errors="replace"))
    ]
    assert offenders == []


def _email(ctx: Context, lang: str) -> str:
    customer = make_customer(ctx, email=f"{lang}-{len(ctx.settings.enabled_plugins)}@example.com")
    document = new_proforma(ctx, customer)
    values = {"document": document, "customer": customer, "url": "http://x"}
    _subject, text, html = render_email(ctx, "proforma_issued", lang, values)
    assert "http://x" in html
    return text


def test_the_proforma_email_lists_the_enabled_methods(make_context: Callable[..., Context]) -> None:
    ctx = make_context(plugins=("transfer", "paypal"))
    english, spanish = _email(ctx, "en"), _email(ctx, "es")
    assert "You can pay it by " in english
    assert "Bank transfer" in english and "PayPal" in english
    assert "Transferencia bancaria" in spanish and "Card" not in english


def test_without_methods_the_email_names_none(make_context: Callable[..., Context]) -> None:
    text = _email(make_context(), "en")
    assert "You can pay it at:" in text


def test_the_document_page_and_the_staff_form_list_the_methods(
    make_context: Callable[..., Context], serve: Callable[[Context], str]
) -> None:
    ctx = make_context(plugins=("transfer", "paypal"))
    url = serve(ctx)
    customer = make_customer(ctx)
    document = new_proforma(ctx, customer)
    with ctx.db.read_session() as session:
        owner = session.get(Customer, customer.id)
    cookies = logged_in_cookies(ctx, owner)
    with httpx.Client(base_url=url, cookies=cookies, headers={"Accept-Language": "en"}) as http:
        page = http.get(f"/client/documents/{document.id}").text
    listed = re.search(r"Formas de pago: ([^<]*)</p>", page)  # the customer's language
    assert listed is not None
    assert sorted(listed.group(1).split(", ")) == ["PayPal", "Transferencia bancaria"]
    billing = new_staff(ctx, "billing")
    with staff_client(ctx, url, billing) as client:
        form = client.get("/admin/payments/record").text
        assert '<option value="transfer"' in form
        assert '<option value="paypal"' not in form  # online methods are not recorded by hand
        wrong = {
            "method": "paypal",
            "document": document.reference,
            "amount": "121.00",
            "paid_on": ctx.today().isoformat(),
            "bank_reference": "REF-1",
            "csrf_token": CSRF,
        }
        refused = client.post("/admin/payments/record", data=wrong)
        assert refused.status_code == 400
        assert "choose one of the payment methods offered" in refused.text
        done = client.post("/admin/payments/record", data={**wrong, "method": "transfer"})
        assert done.status_code == 303
    with ctx.db.read_session() as session:
        payments = list(session.scalars(select(Payment)))
    assert [(p.gateway, p.gateway_txn_id) for p in payments] == [("transfer", "REF-1")]
