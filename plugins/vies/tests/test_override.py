"""Staff see the proof and override it with a written reason: audited, proformas re-priced;
a missing reason is refused and nothing is written."""

from __future__ import annotations

from decimal import Decimal

import httpx
from sqlalchemy import select

from facturo.models import AuditEvent, Customer, Document
from facturo.testing import logged_in_cookies
from facturo_vies.models import Override

from .conftest import DOWN_DE, LiveApp, StandIn, staff_member
from .test_reverse_charge import NET, WITH_DE_VAT, doc, order

CSRF = "vies-test-csrf"


def staff_http(app: LiveApp, role: str = "billing") -> httpx.Client:
    staff = staff_member(app.ctx, role)
    cookies = logged_in_cookies(app.ctx, staff=staff, csrf=CSRF)
    return httpx.Client(base_url=app.url, cookies=cookies, timeout=20)


def test_staff_see_the_proof_and_override_with_a_reason(
    vies_app: LiveApp, standin: StandIn
) -> None:
    ctx = vies_app.ctx
    customer_id, document_id = order(ctx, DOWN_DE)
    assert doc(ctx, document_id).total == WITH_DE_VAT
    with staff_http(vies_app) as http:
        page = http.get(f"/admin/customers/{customer_id}")
        assert page.status_code == 200
        assert "MS_UNAVAILABLE" in page.text and f"/admin/vies/customers/{customer_id}" in page.text
        document_page = http.get(f"/admin/documents/{document_id}")
        assert "MS_UNAVAILABLE" in document_page.text and "VIES" in document_page.text
        proof = http.get(f"/admin/vies/customers/{customer_id}")
        assert proof.status_code == 200 and DOWN_DE in proof.text

        refused = http.post(
            f"/admin/vies/customers/{customer_id}/override",
            data={"csrf_token": CSRF, "decision": "valid", "reason": "   "},
        )
        assert refused.status_code == 400
        assert 'role="alert"' in refused.text
        with ctx.db.read_session() as session:
            assert session.scalar(select(Override)) is None
        assert doc(ctx, document_id).total == WITH_DE_VAT

        reason = "Registro mercantil y certificado del Finanzamt comprobados (VIES caído 3 días)"
        done = http.post(
            f"/admin/vies/customers/{customer_id}/override",
            data={"csrf_token": CSRF, "decision": "valid", "reason": reason},
        )
        assert done.status_code == 303
    repriced = doc(ctx, document_id)
    assert (repriced.tax_treatment, repriced.total) == ("eu_reverse_charge", NET)
    assert any("override-" in legend for legend in repriced.legends)
    with ctx.db.read_session() as session:
        (override,) = session.scalars(select(Override))
        assert (override.decision, override.reason) == ("valid", reason)
        audit = session.scalar(select(AuditEvent).where(AuditEvent.action == "vies.override"))
        assert audit is not None and audit.after["reason"] == reason
        assert audit.actor.startswith("staff:")


def test_support_staff_cannot_override(vies_app: LiveApp) -> None:
    customer_id, _document_id = order(vies_app.ctx, DOWN_DE)
    with staff_http(vies_app, role="support") as http:
        answer = http.post(
            f"/admin/vies/customers/{customer_id}/override",
            data={"csrf_token": CSRF, "decision": "valid", "reason": "because"},
        )
    assert answer.status_code == 403
    with vies_app.ctx.db.read_session() as session:
        assert session.scalar(select(Override)) is None


def test_unknown_customer_is_404_and_bad_decision_is_refused(vies_app: LiveApp) -> None:
    customer_id, _document_id = order(vies_app.ctx, DOWN_DE)
    with staff_http(vies_app) as http:
        assert http.get("/admin/vies/customers/999999").status_code == 404
        assert http.get("/admin/vies/customers/abc").status_code == 404
        bad = http.post(
            f"/admin/vies/customers/{customer_id}/override",
            data={"csrf_token": CSRF, "decision": "maybe", "reason": "x"},
        )
        assert bad.status_code == 400
    with vies_app.ctx.db.read_session() as session:
        assert session.scalar(select(Override)) is None
        customer = session.get(Customer, customer_id)
        assert customer is not None and customer.credit_balance == Decimal("0.00")
        assert session.scalar(select(Document).where(Document.number.is_not(None))) is None
