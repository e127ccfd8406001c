"""Hole 3: API tokens kept their read-write power after their owner was demoted or disabled.
A token now acts with its scope intersected with its owner's current role, every request."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from facturo.accounts import api_tokens
from facturo.models import Payment, StaffUser
from tests.security.conftest import Site, new_customer, new_staff
from tests.web.conftest import new_proforma


def _token(site: Site, staff: StaffUser, scope: str) -> str:
    with site.ctx.db.transaction() as session:
        row = session.get(StaffUser, staff.id)
        assert row is not None
        _token, secret = api_tokens.create_token(session, row, "ci", scope, "system")
    return secret


def _set(site: Site, staff: StaffUser, **values: object) -> None:
    with site.ctx.db.transaction() as session:
        row = session.get(StaffUser, staff.id)
        assert row is not None
        for key, value in values.items():
            setattr(row, key, value)


def _pay(http: httpx.Client, document_id: int, reference: str) -> httpx.Response:
    body = {
        "document_id": document_id,
        "amount": "10.00",
        "paid_on": "2026-03-02",
        "bank_reference": reference,
    }
    return http.post("/api/v1/payments", json=body)


def test_demoted_or_disabled_owner_loses_write_power(
    site_factory: Callable[..., Site],
) -> None:
    # Recording a payment by hand needs a manual method enabled: the transfer plugin's.
    site = site_factory(plugins=("transfer",))
    owner = new_staff(site.ctx, "admin")
    secret = _token(site, owner, "read-write")
    document = new_proforma(site.ctx, new_customer(site.ctx))
    headers = {"Authorization": f"Bearer {secret}"}
    with httpx.Client(base_url=site.url, headers=headers) as http:
        assert _pay(http, document.id, "REF-1").status_code == 201
        _set(site, owner, role="support")  # demoted: the token may only read now
        demoted = _pay(http, document.id, "REF-2")
        assert demoted.status_code == 403
        assert "read-only" in demoted.json()["errors"][0]["detail"]
        assert http.get("/api/v1/customers").status_code == 200
        _set(site, owner, role="billing")
        assert _pay(http, document.id, "REF-3").status_code == 201
        _set(site, owner, disabled=True)
        disabled = _pay(http, document.id, "REF-4")
        assert disabled.status_code == 403 and "disabled" in disabled.json()["errors"][0]["detail"]
        assert http.get("/api/v1/customers").status_code == 403
    with site.ctx.db.read_session() as session:
        references = sorted(p.gateway_txn_id for p in session.query(Payment))
    assert references == ["REF-1", "REF-3"]  # the refused writes wrote nothing


def test_read_token_of_an_admin_still_cannot_write(site: Site) -> None:
    owner = new_staff(site.ctx, "admin")
    secret = _token(site, owner, "read")
    document = new_proforma(site.ctx, new_customer(site.ctx))
    with httpx.Client(base_url=site.url, headers={"Authorization": f"Bearer {secret}"}) as http:
        assert _pay(http, document.id, "REF-9").status_code == 403
