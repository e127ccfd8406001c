"""Mandates: validation with a message per field, signing, listing, revoking, the staff panel."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from facturo.plugin import Context
from facturo.testing import make_customer
from facturo_sepa.mandates import MandateError, active_mandate, sign_mandate
from facturo_sepa.models import Mandate

from .conftest import CSRF, IBAN, Shop, business_customer, customer_client, sign, staff_client


def mandate_count(ctx: Context) -> int:
    with ctx.db.read_session() as session:
        return int(session.scalar(select(func.count()).select_from(Mandate)) or 0)


def test_a_valid_mandate_is_active_with_a_unique_reference(shop: Shop) -> None:
    first = sign(shop.ctx, shop.customer)
    second = sign(shop.ctx, shop.customer, scheme="B2B")
    with shop.ctx.db.read_session() as session:
        one, two = session.get(Mandate, first), session.get(Mandate, second)
        assert one is not None and two is not None
        assert one.reference != two.reference
        assert one.iban == "ES9121000418450200051332"
        assert one.signed_on == shop.ctx.today()
        assert (one.scheme, two.scheme) == ("CORE", "B2B")
        found = active_mandate(session, shop.customer.id)
        assert found is not None and found.id == second


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({"iban": "ES91 2100 0418 4502 0005 1333"}, "iban"),
        ({"iban": "not an iban"}, "iban"),
        ({"debtor_name": "  "}, "debtor_name"),
        ({"debtor_name": "x" * 71}, "debtor_name"),
        ({"scheme": "COR1"}, "scheme"),
        ({"bic": "NOTABIC"}, "bic"),
        ({"accept": ""}, "accept"),
    ],
)
def test_a_bad_field_is_refused_and_nothing_is_stored(
    shop: Shop, form: dict[str, str], field: str
) -> None:
    valid = {"debtor_name": "Tiendas Ana", "iban": IBAN, "scheme": "CORE", "accept": "yes"}
    with pytest.raises(MandateError) as raised, shop.ctx.db.transaction() as session:
        sign_mandate(session, shop.ctx, shop.customer, {**valid, **form})
    assert set(raised.value.errors) == {field}
    assert mandate_count(shop.ctx) == 0


def test_a_consumer_cannot_sign(sepa_ctx: Context) -> None:
    consumer = make_customer(sepa_ctx, email="consumer@example.com")
    form = {"debtor_name": "Ana", "iban": IBAN, "scheme": "CORE", "accept": "yes"}
    with pytest.raises(MandateError) as raised, sepa_ctx.db.transaction() as session:
        sign_mandate(session, sepa_ctx, consumer, form)
    assert "form" in raised.value.errors


def test_the_form_re_renders_with_field_messages_in_spanish(shop: Shop) -> None:
    client = customer_client(shop.ctx, shop.customer)
    answer = client.post(
        "/client/sepa/mandates",
        data={"csrf_token": CSRF, "debtor_name": "", "iban": "ES00 1234", "scheme": "CORE"},
        headers={"Accept-Language": "es"},
    )
    assert answer.status_code == 400
    assert "Escribe un IBAN válido." in answer.text
    assert "Escribe el nombre del titular de la cuenta." in answer.text
    assert "Marca la casilla para autorizar los adeudos." in answer.text
    assert 'value="ES00 1234"' in answer.text  # what was typed is kept
    assert mandate_count(shop.ctx) == 0


def test_sign_list_and_revoke_over_http(shop: Shop) -> None:
    client = customer_client(shop.ctx, shop.customer)
    form = {
        "csrf_token": CSRF,
        "debtor_name": "Tiendas Ana S.L.",
        "iban": IBAN,
        "scheme": "B2B",
        "accept": "yes",
    }
    answer = client.post("/client/sepa/mandates", data=form)
    assert answer.status_code == 303
    page = client.get("/client/sepa/mandates")
    with shop.ctx.db.read_session() as session:
        mandate = session.scalars(select(Mandate)).one()
    assert mandate.reference in page.text and "ES91 •••• 1332" in page.text
    revoked = client.post(f"/client/sepa/mandates/{mandate.id}/revoke", data={"csrf_token": CSRF})
    assert revoked.status_code == 303
    with shop.ctx.db.read_session() as session:
        again = session.get(Mandate, mandate.id)
        assert again is not None and again.status == "revoked" and again.revoked_at is not None


def test_another_customers_mandate_is_a_404(shop: Shop) -> None:
    mandate_id = sign(shop.ctx, shop.customer)
    other = business_customer(shop.ctx, email="otra@example.com")
    answer = customer_client(shop.ctx, other).post(
        f"/client/sepa/mandates/{mandate_id}/revoke", data={"csrf_token": CSRF}
    )
    assert answer.status_code == 404
    with shop.ctx.db.read_session() as session:
        found = session.get(Mandate, mandate_id)
        assert found is not None and found.status == "active"


def test_staff_see_the_mandates_on_the_customer_page(shop: Shop) -> None:
    mandate_id = sign(shop.ctx, shop.customer)
    with shop.ctx.db.read_session() as session:
        mandate = session.get(Mandate, mandate_id)
        assert mandate is not None
        reference = mandate.reference
    page = staff_client(shop.ctx).get(f"/admin/customers/{shop.customer.id}")
    assert page.status_code == 200
    assert "SEPA direct debit" in page.text and reference in page.text


def test_a_proforma_of_a_customer_with_a_mandate_says_it_will_be_debited(shop: Shop) -> None:
    from .conftest import proforma

    doc_id = proforma(shop.ctx, shop.customer)
    client = customer_client(shop.ctx, shop.customer)
    assert "SEPA direct debit from" not in client.get(f"/client/documents/{doc_id}").text
    sign(shop.ctx, shop.customer)
    page = client.get(f"/client/documents/{doc_id}", headers={"Accept-Language": "es"})
    assert page.status_code == 200
    assert "Esta proforma se cobrará por adeudo directo SEPA de la cuenta ES91" in page.text
