"""Hole 1: a session that passed only the password could enrol its own authenticator at
/admin/2fa/setup and become fully verified, overwriting the real user's factor."""

from __future__ import annotations

import time
from collections.abc import Callable

import pyotp

from facturo.accounts import staff as staff_ops
from facturo.config import settings_from_mapping
from facturo.models import StaffUser
from facturo.testing import TEST_SECRET
from tests.security.conftest import Site, csrf_from, new_staff, staff_login


def _with_totp(site: Site, staff: StaffUser) -> str:
    secret = staff_ops.new_totp_secret()
    with site.ctx.db.transaction() as session:
        row = session.get(StaffUser, staff.id)
        assert row is not None
        staff_ops.enable_two_factor(
            session, row, secret, pyotp.TOTP(secret).at(time.time() - 30), "system"
        )
    return secret


def test_password_only_session_cannot_enrol_a_new_authenticator(site: Site) -> None:
    staff = new_staff(site.ctx, "admin")
    real_secret = _with_totp(site, staff)
    with site.client() as attacker:
        first = staff_login(attacker, staff.email)
        assert first.headers["location"].startswith("/admin/login/2fa")
        # The attack: open the setup page with the half-finished session and enrol one's own.
        page = attacker.get("/admin/2fa/setup")
        assert page.status_code == 303 and page.headers["location"] == "/admin/login"
        mine = pyotp.random_base32()
        token = csrf_from(attacker.get("/admin/login/2fa").text)
        post = attacker.post(
            "/admin/2fa/setup", data={"code": pyotp.TOTP(mine).now(), "csrf_token": token}
        )
        assert post.status_code == 303 and post.headers["location"] == "/admin/login"
        assert attacker.get("/admin/").status_code == 303  # still not in
    with site.ctx.db.read_session() as session:
        row = session.get(StaffUser, staff.id)
        assert row is not None and row.totp_secret == real_secret
    assert not site.mails("security_notice")  # nothing changed, nothing to tell


def test_mandatory_enrolment_only_for_someone_without_a_factor_and_it_is_emailed(
    site_factory: Callable[..., Site],
) -> None:
    site = site_factory(overrides={"admin_two_factor_required": True})
    staff = new_staff(site.ctx, "admin")
    with site.client() as client:
        assert staff_login(client, staff.email).headers["location"] == "/admin/2fa/setup"
        setup = client.get("/admin/2fa/setup")
        secret = setup.text.split('<code class="key">')[1].split("<")[0]
        done = client.post(
            "/admin/2fa/setup",
            data={"code": pyotp.TOTP(secret).now(), "csrf_token": csrf_from(setup.text)},
        )
        assert done.status_code == 200 and client.get("/admin/").status_code == 200
    [mail] = site.mails("security_notice")
    # Staff have no language of their own: security mail to staff is in Spanish.
    assert mail.to_address == staff.email and "segundo factor" in mail.subject
    # Now that a factor exists, a new password-only session may not replace it.
    with site.client() as attacker:
        staff_login(attacker, staff.email)
        assert attacker.get("/admin/2fa/setup").status_code == 303


def test_admin_two_factor_defaults_on_outside_the_demo() -> None:
    base = {"secret_key": TEST_SECRET}
    assert settings_from_mapping(base).admin_two_factor_required is True
    assert settings_from_mapping({**base, "demo": True}).admin_two_factor_required is False
    off = settings_from_mapping({**base, "admin_two_factor_required": False})
    assert off.admin_two_factor_required is False
