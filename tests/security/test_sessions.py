"""Hole 2: logging out did not end the session (a saved cookie worked for 14 days). Sessions
are rows now: revocable, with idle and absolute lifetimes, listed on the account pages."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable

from sqlalchemy import select

from facturo.models import AuthSession, StaffUser
from facturo.testing import Clock
from tests.security.conftest import (
    Site,
    csrf_from,
    customer_login,
    new_customer,
    new_staff,
    post_form,
    staff_login,
)


def _cookie_data(value: str) -> dict[str, object]:
    payload = value.split(".")[0]
    data: dict[str, object] = json.loads(base64.b64decode(payload + "=" * (-len(payload) % 4)))
    return data


def test_a_saved_cookie_is_worthless_after_logout(site: Site) -> None:
    customer = new_customer(site.ctx)
    with site.client() as victim:
        assert customer_login(victim, customer.email).status_code == 303
        saved = victim.cookies.get("facturo_session")
        assert saved
        data = _cookie_data(saved)
        assert "customer_id" not in data and isinstance(data.get("customer_session"), str)
        assert post_form(victim, "/client/logout", {}).status_code == 303
    with site.client(cookies={"facturo_session": saved}) as thief:
        replay = thief.get("/client/account")
        assert replay.status_code == 303 and replay.headers["location"].startswith("/client/login")
    with site.ctx.db.read_session() as session:
        [row] = session.scalars(select(AuthSession))
        assert row.revoked_at is not None and row.revoked_reason == "logout"


def test_staff_logout_ends_the_session_too(site_factory: Callable[..., Site]) -> None:
    site = site_factory(overrides={"admin_two_factor_required": False})
    staff = new_staff(site.ctx, "billing")
    with site.client() as client:
        assert staff_login(client, staff.email).status_code == 303
        saved = client.cookies.get("facturo_session")
        token = csrf_from(client.get("/admin/").text)
        assert client.post("/admin/logout", data={"csrf_token": token}).status_code == 303
    with site.client(cookies={"facturo_session": saved}) as thief:
        assert thief.get("/admin/").status_code == 303


def test_idle_and_absolute_lifetimes(site_factory: Callable[..., Site], clock: Clock) -> None:
    site = site_factory(
        overrides={"admin_two_factor_required": False, "sessions.staff_idle_minutes": 30}
    )
    staff = new_staff(site.ctx, "billing")
    customer = new_customer(site.ctx)
    with site.client() as admin, site.client() as client:
        staff_login(admin, staff.email)
        customer_login(client, customer.email)
        clock.advance(minutes=20)
        assert admin.get("/admin/").status_code == 200  # activity slides the idle window
        clock.advance(minutes=31)
        assert admin.get("/admin/").status_code == 303  # idle past 30 minutes: over
        clock.advance(days=13)
        assert client.get("/client/").status_code == 200  # customers: 14 days, sliding
        clock.advance(days=13)
        assert client.get("/client/").status_code == 200
        clock.advance(days=15)
        assert client.get("/client/").status_code == 303
    with site.client() as admin:
        staff_login(admin, staff.email)
        for _ in range(35):  # 11 h 40 min of steady activity
            clock.advance(minutes=20)
            assert admin.get("/admin/").status_code == 200
        clock.advance(minutes=25)
        assert admin.get("/admin/").status_code == 303  # 12 hours at most, however active


def test_password_change_and_disabling_revoke(site_factory: Callable[..., Site]) -> None:
    site = site_factory(overrides={"admin_two_factor_required": False})
    customer = new_customer(site.ctx)
    with site.client() as here, site.client() as there:
        customer_login(here, customer.email)
        customer_login(there, customer.email)
        new = "an entirely different passphrase"
        changed = post_form(
            here,
            "/client/account/password",
            {
                "current_password": "correct horse battery",
                "new_password": new,
                "new_password2": new,
            },
        )
        assert changed.status_code == 303
        assert here.get("/client/account").status_code == 200
        assert there.get("/client/account").status_code == 303
    admin = new_staff(site.ctx, "admin")
    clerk = new_staff(site.ctx, "billing")
    with site.client() as boss, site.client() as victim:
        staff_login(boss, admin.email)
        staff_login(victim, clerk.email)
        assert victim.get("/admin/").status_code == 200
        done = post_form(
            boss, f"/admin/staff/{clerk.id}", {"role": "billing", "disabled": "1"}, "/admin/staff"
        )
        assert done.status_code == 303
        assert victim.get("/admin/").status_code == 303
    with site.ctx.db.read_session() as session:
        reasons = {r.revoked_reason for r in session.scalars(select(AuthSession))}
    assert {"password", "disabled"} <= reasons


def test_account_page_lists_sessions_and_signs_out_one_or_all_others(site: Site) -> None:
    customer = new_customer(site.ctx)
    clients = [
        site.client(headers={"Accept-Language": "en", "User-Agent": f"Browser {n}"})
        for n in range(3)
    ]
    try:
        for client in clients:
            customer_login(client, customer.email)
        page = clients[0].get("/client/security")
        assert page.status_code == 200
        assert all(f"Browser {n}" in page.text for n in range(3)) and "this session" in page.text
        with site.ctx.db.read_session() as session:
            other = session.scalars(
                select(AuthSession).where(AuthSession.user_agent == "Browser 1")
            ).one()
        one = post_form(
            clients[0], f"/client/security/sessions/{other.id}/revoke", {}, "/client/security"
        )
        assert one.status_code == 303
        assert clients[1].get("/client/").status_code == 303
        assert clients[2].get("/client/").status_code == 200
        rest = post_form(
            clients[0], "/client/security/sessions/revoke-others", {}, "/client/security"
        )
        assert rest.status_code == 303
        assert clients[2].get("/client/").status_code == 303
        assert clients[0].get("/client/").status_code == 200
        # Someone else's session id: nothing happens.
        intruder = new_customer(site.ctx, email="eve@example.com")
        with site.client() as eve:
            customer_login(eve, intruder.email)
            with site.ctx.db.read_session() as session:
                mine = session.scalars(
                    select(AuthSession).where(AuthSession.user_agent == "Browser 0")
                ).one()
            refused = post_form(
                eve, f"/client/security/sessions/{mine.id}/revoke", {}, "/client/security"
            )
            assert refused.status_code == 404
        assert clients[0].get("/client/").status_code == 200
    finally:
        for client in clients:
            client.close()


def test_staff_account_page_lists_sessions(site_factory: Callable[..., Site]) -> None:
    site = site_factory(overrides={"admin_two_factor_required": False})
    staff = new_staff(site.ctx, "support")
    with site.client() as one, site.client() as two:
        staff_login(one, staff.email)
        staff_login(two, staff.email)
        page = one.get("/admin/account")
        assert page.status_code == 200 and page.text.count("Sign out this one") == 2
        assert (
            post_form(
                one, "/admin/account/sessions/revoke-others", {}, "/admin/account"
            ).status_code
            == 303
        )
        assert two.get("/admin/").status_code == 303 and one.get("/admin/").status_code == 200
    with site.ctx.db.read_session() as session:
        assert session.get(StaffUser, staff.id) is not None
