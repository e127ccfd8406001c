"""Hole 10: ids past 64 bits in URLs raised OverflowError (a 500). Every id is a 404 now."""

from __future__ import annotations

import httpx

from facturo.accounts import api_tokens
from facturo.models import StaffUser
from facturo.testing import logged_in_cookies
from tests.security.conftest import Site, new_customer, new_staff

HUGE = str(2**64 + 5)
BIG = str(2**40)  # fits 64 bits, not a 32-bit primary key


def test_huge_ids_are_not_found_everywhere(site: Site) -> None:
    customer = new_customer(site.ctx)
    admin = new_staff(site.ctx, "admin")
    with site.ctx.db.transaction() as session:
        row = session.get(StaffUser, admin.id)
        assert row is not None
        _token, secret = api_tokens.create_token(session, row, "t", "read", "system")
    cookies = logged_in_cookies(site.ctx, customer=customer, staff=admin)
    with httpx.Client(base_url=site.url, cookies=cookies) as web:
        for number in (HUGE, BIG):
            for path in (
                f"/client/documents/{number}",
                f"/client/documents/{number}/pdf",
                f"/client/services/{number}",
                f"/admin/customers/{number}",
                f"/admin/documents/{number}",
                f"/admin/staff/{number}",
            ):
                method = "POST" if path.startswith("/admin/staff") else "GET"
                response = web.request(method, path, data={"csrf_token": "test-csrf-token"})
                assert response.status_code == 404, (path, response.status_code)
    with httpx.Client(base_url=site.url, headers={"Authorization": f"Bearer {secret}"}) as api:
        for number in (HUGE, BIG):
            for path in (f"/api/v1/customers/{number}", f"/api/v1/documents/{number}/pdf"):
                response = api.get(path)
                assert response.status_code == 404, path
                assert response.json()["errors"][0]["code"] == "not_found"
