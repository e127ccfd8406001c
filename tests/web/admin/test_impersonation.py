"""Staff sign in as a customer: audited, a banner with the way back, staff lifetimes, and no
change of the customer's credentials."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select

from facturo.context import Context
from facturo.models import AuditEvent, Customer
from facturo.testing import Clock, make_customer
from tests.web.conftest import CSRF, new_staff, staff_client


def test_sign_in_as_a_customer_and_back(
    make_context: Callable[..., Context], serve: Callable[[Context], str], clock: Clock
) -> None:
    ctx = make_context()
    url = serve(ctx)
    billing, support = new_staff(ctx, "billing"), new_staff(ctx, "support")
    customer = make_customer(ctx, language="en")
    with ctx.db.read_session() as session:
        password_before = session.get(Customer, customer.id).password_hash  # type: ignore[union-attr]

    with staff_client(ctx, url, support) as refused:
        answer = refused.post(
            f"/admin/customers/{customer.id}/impersonate", data={"csrf_token": CSRF}
        )
        assert answer.status_code == 403

    with staff_client(ctx, url, billing) as web:
        assert "Sign in as this customer" in web.get(f"/admin/customers/{customer.id}").text
        started = web.post(f"/admin/customers/{customer.id}/impersonate", data={"csrf_token": CSRF})
        assert started.status_code == 303 and started.headers["location"] == "/client/"
        dashboard = web.get("/client/")
        assert dashboard.status_code == 200
        assert f"You are signed in as {customer.name} on behalf of the staff" in dashboard.text

        changed = web.post(
            "/client/account/password",
            data={
                "current_password": "x",
                "new_password": "a-brand-new-passphrase-2026",
                "csrf_token": CSRF,
            },
        )
        assert (
            changed.status_code == 403
            and "password, email address or second factors" in changed.text
        )
        assert (
            web.post("/client/security/totp/disable", data={"csrf_token": CSRF}).status_code == 403
        )

        back = web.post("/client/impersonation/end", data={"csrf_token": CSRF})
        assert back.status_code == 303
        assert back.headers["location"] == f"/admin/customers/{customer.id}"
        assert web.get("/client/").status_code == 303  # the customer session is over
        assert web.get("/admin/").status_code == 200  # the staff one is not

        web.post(f"/admin/customers/{customer.id}/impersonate", data={"csrf_token": CSRF})
        assert web.get("/client/").status_code == 200
        clock.advance(minutes=31)  # staff idle lifetime (30 min), not the customer's 14 days
        assert web.get("/client/").status_code == 303

    with ctx.db.read_session() as session:
        actions = session.scalars(
            select(AuditEvent.action).where(AuditEvent.actor == f"staff:{billing.id}")
        ).all()
        assert password_before == session.get(Customer, customer.id).password_hash  # type: ignore[union-attr]
    assert actions.count("customer.impersonate") == 2
    assert actions.count("customer.impersonate_end") == 1
