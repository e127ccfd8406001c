"""Staff login with two-factor (TOTP and recovery codes), mandatory two-factor for admins."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
import pyotp
from sqlalchemy import select

from facturo.accounts import staff as staff_ops
from facturo.context import Context
from facturo.models import AuditEvent, StaffUser
from tests.web.conftest import PASSWORD, csrf_from, new_staff

EN = {"Accept-Language": "en"}


def _login(client: httpx.Client, email: str, password: str) -> httpx.Response:
    token = csrf_from(client.get("/admin/login").text)
    return client.post(
        "/admin/login", data={"email": email, "password": password, "csrf_token": token}
    )


def test_password_login_and_wrong_password(
    make_context: Callable[..., Context], serve: Callable[[Context], str]
) -> None:
    ctx = make_context()
    new_staff(ctx, "billing")
    with httpx.Client(base_url=serve(ctx), headers=EN) as client:
        assert client.get("/admin/").status_code == 303
        bad = _login(client, "billing@example.com", "nope")
        assert bad.status_code == 400
        ok = _login(client, "billing@example.com", PASSWORD)
        assert ok.status_code == 303 and ok.headers["location"] == "/admin/"
        page = client.get("/admin/")
        assert page.status_code == 200 and "Dashboard" in page.text
    with ctx.db.read_session() as session:
        actions = [e.action for e in session.scalars(select(AuditEvent))]
    assert "staff.login_failed" in actions and "staff.login" in actions


def test_totp_login_and_recovery_code(
    make_context: Callable[..., Context], serve: Callable[[Context], str]
) -> None:
    ctx = make_context()
    staff = new_staff(ctx, "admin")
    secret = staff_ops.new_totp_secret()
    with ctx.db.transaction() as session:
        row = session.get(StaffUser, staff.id)
        assert row is not None
        # Enrolled with the previous code: each code works once, so the login needs a new one.
        earlier = pyotp.TOTP(secret).at(time.time() - 30)
        codes = staff_ops.enable_two_factor(session, row, secret, earlier, "system")
    url = serve(ctx)
    with httpx.Client(base_url=url, headers=EN) as client:
        first = _login(client, "admin@example.com", PASSWORD)
        assert first.headers["location"].startswith("/admin/login/2fa")
        assert client.get("/admin/").status_code == 303  # password alone is not enough
        form = client.get("/admin/login/2fa")
        token = csrf_from(form.text)
        wrong = client.post("/admin/login/2fa", data={"code": "000000", "csrf_token": token})
        assert wrong.status_code == 400
        right = client.post(
            "/admin/login/2fa", data={"code": pyotp.TOTP(secret).now(), "csrf_token": token}
        )
        assert right.status_code == 303
        assert client.get("/admin/").status_code == 200
    for attempt in range(2):
        with httpx.Client(base_url=url, headers=EN) as client:
            _login(client, "admin@example.com", PASSWORD)
            token = csrf_from(client.get("/admin/login/2fa").text)
            answer = client.post("/admin/login/2fa", data={"code": codes[0], "csrf_token": token})
            assert answer.status_code == (303 if attempt == 0 else 400)


def test_two_factor_mandatory_for_admins(
    make_context: Callable[..., Context], serve: Callable[[Context], str]
) -> None:
    ctx = make_context(overrides={"admin_two_factor_required": True})
    new_staff(ctx, "admin")
    with httpx.Client(base_url=serve(ctx), headers=EN) as client:
        first = _login(client, "admin@example.com", PASSWORD)
        assert first.headers["location"] == "/admin/2fa/setup"
        assert client.get("/admin/").status_code == 303
        setup = client.get("/admin/2fa/setup")
        secret = setup.text.split('<code class="key">')[1].split("<")[0]
        done = client.post(
            "/admin/2fa/setup",
            data={"code": pyotp.TOTP(secret).now(), "csrf_token": csrf_from(setup.text)},
        )
        assert done.status_code == 200 and done.text.count('class="key"') == 8
        assert client.get("/admin/").status_code == 200
    with ctx.db.read_session() as session:
        row = session.scalar(select(StaffUser))
        assert row is not None and row.totp_secret == secret and len(row.recovery_codes) == 8


def test_staff_pages_in_spanish(
    make_context: Callable[..., Context], serve: Callable[[Context], str]
) -> None:
    ctx = make_context()
    with httpx.Client(base_url=serve(ctx), headers={"Accept-Language": "es"}) as client:
        page = client.get("/admin/login")
    assert "Acceso del personal" in page.text and "Contraseña" in page.text
