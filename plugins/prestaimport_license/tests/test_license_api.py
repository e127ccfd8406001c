"""The validation API over real HTTP: every licence code, add-on statuses at their boundaries,
binding, malformed requests, rate limits and the published keys."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from facturo.plugin import Context
from facturo.testing import Clock, default_plugin_settings, serve_in_thread, stop_server
from facturo_prestaimport_license.keys import format_key, generate_key
from facturo_prestaimport_license.models import Licence, ShopBindingRow, ValidationLog
from facturo_prestaimport_license.service import regenerate_key, set_status
from facturo_prestaimport_license.testing import (
    OTHER_SHOP,
    T0,
    Live,
    body,
    payload,
    seed_licence,
)


def count(ctx: Context, model: Any) -> int:
    with ctx.db.read_session() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def code_of(live: Live, data: Any) -> str:
    return str(payload(live.validate(data))["code"])


def test_unknown_key_is_not_found_and_logged(live: Live) -> None:
    key = format_key(generate_key())
    data = payload(live.validate(body(key)))
    assert data["code"] == "NOT_FOUND" and data["valid"] is False
    assert data["nonce"] == "nonce-1"
    with live.ctx.db.read_session() as session:
        row = session.scalars(select(ValidationLog)).one()
    assert row.code == "NOT_FOUND" and row.licence_id is None
    assert row.key_hint == key.replace("-", "")[-4:]
    assert row.ip == "127.0.0.1" and row.install_id == "install-1"
    assert row.shop_host == "example-shop.com"


def test_first_check_binds_and_same_shop_is_idempotent(live: Live) -> None:
    seeded = seed_licence(live.ctx)
    answer = live.validate(body(seeded.key))
    assert answer.headers["cache-control"] == "no-store"  # no cache may keep a lease
    assert answer.headers["content-type"] == "application/json"
    assert answer.headers["x-content-type-options"] == "nosniff"
    first = payload(answer)
    assert first["code"] == "VALID" and first["valid"] is True
    assert first["binding"]["shop_host"] == "example-shop.com"
    assert first["binding"]["rebinds_left"] == 3
    again = payload(live.validate(body(seeded.key.lower().replace("-", " "))))
    assert again["code"] == "VALID"
    assert count(live.ctx, ShopBindingRow) == 1
    mismatch = payload(live.validate(body(seeded.key, shop=OTHER_SHOP)))
    assert mismatch["code"] == "SHOP_MISMATCH" and mismatch["valid"] is False
    assert mismatch["binding"]["shop_host"] == "ex***.com"
    assert mismatch["binding"]["shop_fp"] is None
    assert count(live.ctx, ValidationLog) == 3


def test_shop_scope_required(live: Live) -> None:
    seeded = seed_licence(live.ctx)
    assert code_of(live, body(seeded.key, shop=None)) == "SHOP_SCOPE_REQUIRED"
    bad_host = {"platform": "prestashop", "url": "https://bad host/"}
    assert code_of(live, body(seeded.key, shop=bad_host)) == "SHOP_SCOPE_REQUIRED"
    assert count(live.ctx, ShopBindingRow) == 0


def test_replaced_revoked_suspended_codes(live: Live) -> None:
    seeded = seed_licence(live.ctx)
    with live.ctx.db.transaction() as session:
        licence = session.get(Licence, seeded.licence_id)
        assert licence is not None
        new_key = regenerate_key(session, live.ctx, licence, "test")
    assert code_of(live, body(seeded.key)) == "KEY_REPLACED"
    assert code_of(live, body(new_key)) == "VALID"
    with live.ctx.db.transaction() as session:
        licence = session.get(Licence, seeded.licence_id)
        assert licence is not None
        set_status(session, licence, "SUSPENDED", "chargeback", "test")
    assert code_of(live, body(new_key)) == "SUSPENDED"
    # KEY_REPLACED comes before SUSPENDED in the fixed order.
    assert code_of(live, body(seeded.key)) == "KEY_REPLACED"
    with live.ctx.db.transaction() as session:
        licence = session.get(Licence, seeded.licence_id)
        assert licence is not None
        set_status(session, licence, "REVOKED", "fraud", "test")
    assert code_of(live, body(new_key)) == "REVOKED"


def test_licence_expiry_boundary(live: Live, clock: Clock) -> None:
    seeded = seed_licence(live.ctx)
    end = T0 + timedelta(days=30)
    with live.ctx.db.transaction() as session:
        licence = session.get(Licence, seeded.licence_id)
        assert licence is not None
        licence.expires_at = end
    clock.set(end - timedelta(seconds=1))
    assert code_of(live, body(seeded.key)) == "VALID"
    clock.set(end)
    data = payload(live.validate(body(seeded.key)))
    assert data["code"] == "EXPIRED" and data["ts"] == "2026-04-01T09:00:00Z"


def test_addon_statuses_at_boundaries(live: Live, clock: Clock) -> None:
    start = T0 + timedelta(days=1)
    end = T0 + timedelta(days=10)
    seeded = seed_licence(
        live.ctx,
        {
            "ingram": {"active": True, "starts_at": start, "expires_at": end},
            "esprinet": {"active": False, "expires_at": end},
            "techdata": {"active": True, "expires_at": None},
        },
    )

    def statuses() -> dict[str, str]:
        data = payload(live.validate(body(seeded.key)))
        assert data["code"] == "VALID"
        return {a["code"]: a["status"] for a in data["addons"]}

    clock.set(start - timedelta(seconds=1))
    assert statuses() == {"ingram": "NOT_STARTED", "esprinet": "INACTIVE", "techdata": "ACTIVE"}
    clock.set(start)
    assert statuses()["ingram"] == "ACTIVE"
    clock.set(end - timedelta(seconds=1))
    assert statuses()["ingram"] == "ACTIVE"
    clock.set(end)  # grace_days = 7 in the demo settings
    assert statuses()["ingram"] == "GRACE"
    clock.set(end + timedelta(days=7) - timedelta(seconds=1))
    assert statuses()["ingram"] == "GRACE"
    clock.set(end + timedelta(days=7))
    assert statuses()["ingram"] == "EXPIRED"
    data = payload(live.validate(body(seeded.key, require_addons=["techdata", "ingram"])))
    assert data["code"] == "ADDONS_MISSING" and data["missing_addons"] == ["ingram"]
    assert all(addon["valid"] is False for addon in data["addons"])
    assert code_of(live, body(seeded.key, require_addons=["techdata"])) == "VALID"


@pytest.mark.parametrize(
    ("content", "headers", "code", "field"),
    [
        (b"{not json", {"content-type": "application/json"}, "REQUEST_INVALID", None),
        (b"[1, 2]", {}, "REQUEST_INVALID", None),
        (b'{"key": 12}', {}, "REQUEST_INVALID", "key"),
        (b'{"key": "x", "shop": "example.com"}', {}, "REQUEST_INVALID", "shop"),
        (b'{"key": "x", "require_addons": "ingram"}', {}, "REQUEST_INVALID", "require_addons"),
        (b'{"key": "x", "install_id": 5}', {}, "REQUEST_INVALID", "install_id"),
        (b'{"shop": {"platform": "prestashop"}}', {}, "REQUEST_INVALID", "key"),
        (b'{"key": "PIG1-AAAAA-AAAAA-AAAAA-AAAAA-AAAAA-ZZ"}', {}, "KEY_FORMAT_INVALID", "key"),
        (b'{"key": "not a key"}', {}, "KEY_FORMAT_INVALID", "key"),
        (b'{"key": "' + b"A" * 5000 + b'"}', {}, "REQUEST_INVALID", None),
    ],
)
def test_malformed_requests_are_400_and_write_nothing(
    live: Live, content: bytes, headers: dict[str, str], code: str, field: str | None
) -> None:
    seed_licence(live.ctx)
    response = live.validate(content, headers=headers)
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["code"] == code and error["field"] == field and error["detail"]
    assert count(live.ctx, ValidationLog) == 0
    assert count(live.ctx, ShopBindingRow) == 0


def test_text_that_cannot_be_signed_is_400(live: Live) -> None:
    seeded = seed_licence(live.ctx)
    content = ('{"key": "' + seeded.key + '", "nonce": "\\ud800"}').encode()
    response = live.validate(content)
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "REQUEST_INVALID"
    assert count(live.ctx, ValidationLog) == 0


def test_chunked_huge_body_is_400(live: Live) -> None:
    def chunks() -> Any:
        for _ in range(20):
            yield b" " * 1000

    response = live.http.post("/api/v1/licenses/validate", content=chunks())
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "REQUEST_INVALID"
    assert count(live.ctx, ValidationLog) == 0


def test_keys_endpoint_publishes_the_active_key(live: Live) -> None:
    jwks = live.http.get("/api/v1/licenses/keys").json()
    assert [entry["kid"] for entry in jwks["keys"]] == ["demo-2026"]
    assert jwks["keys"][0]["crv"] == "Ed25519"
    assert "d" not in jwks["keys"][0]


def _limited_ctx(make_context: Callable[..., Context], **limits: str) -> Context:
    tables = default_plugin_settings(("prestaimport_license",))
    tables["prestaimport_license"].update(limits)
    return make_context(plugins=("prestaimport_license",), plugin_settings=tables)


def test_rate_limit_per_ip(make_context: Callable[..., Context], clock: Clock) -> None:
    import httpx

    from facturo.web.app import create_app

    clock.set(T0)
    ctx = _limited_ctx(make_context, rate_limit_ip="3/minute", rate_limit_key="100/minute")
    server = serve_in_thread(create_app(ctx))
    try:
        keys = [format_key(generate_key()) for _ in range(4)]
        with httpx.Client(base_url=server.url) as client:
            answers = [client.post("/api/v1/licenses/validate", json=body(key)) for key in keys]
        assert [a.status_code for a in answers] == [200, 200, 200, 429]
        assert int(answers[3].headers["Retry-After"]) >= 1
        error = answers[3].json()["errors"][0]
        assert error["code"] == "TOO_MANY_REQUESTS" and error["retry_after"] >= 1
        assert count(ctx, ValidationLog) == 3
    finally:
        stop_server(server)


def test_rate_limit_per_key(make_context: Callable[..., Context], clock: Clock) -> None:
    import httpx

    from facturo.web.app import create_app

    clock.set(T0)
    ctx = _limited_ctx(make_context, rate_limit_ip="100/minute", rate_limit_key="2/minute")
    seeded = seed_licence(ctx)
    server = serve_in_thread(create_app(ctx))
    try:
        with httpx.Client(base_url=server.url) as client:
            same = [
                client.post("/api/v1/licenses/validate", json=body(spelling)).status_code
                for spelling in (seeded.key, seeded.key.lower(), seeded.key.replace("-", ""))
            ]
            other = client.post("/api/v1/licenses/validate", json=body(format_key(generate_key())))
        # Every spelling of one key shares one counter.
        assert same == [200, 200, 429]
        assert other.status_code == 200
    finally:
        stop_server(server)


def test_batched_log_is_written_when_full_and_after_a_pause(
    make_context: Callable[..., Context], clock: Clock
) -> None:
    import time

    import httpx

    from facturo.web.app import create_app

    clock.set(T0)
    tables = default_plugin_settings(("prestaimport_license",))
    tables["prestaimport_license"]["log_batch_size"] = 3
    ctx = make_context(plugins=("prestaimport_license",), plugin_settings=tables)
    seeded = seed_licence(ctx)
    server = serve_in_thread(create_app(ctx))
    try:
        with httpx.Client(base_url=server.url) as client:
            for _ in range(4):
                assert client.post("/api/v1/licenses/validate", json=body(seeded.key)).is_success
        deadline = time.monotonic() + 5
        while count(ctx, ValidationLog) < 4 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert count(ctx, ValidationLog) == 4  # three when the batch filled, one by the timer
    finally:
        stop_server(server)


def test_buffered_log_rows_are_written_when_the_server_stops(
    make_context: Callable[..., Context], clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    import httpx

    from facturo.web.app import create_app
    from facturo_prestaimport_license import validation_log

    # Neither a full batch nor the timer writes anything here: only the lifespan's shutdown.
    monkeypatch.setattr(validation_log, "FLUSH_DELAY_SECONDS", 3600)
    clock.set(T0)
    tables = default_plugin_settings(("prestaimport_license",))
    tables["prestaimport_license"]["log_batch_size"] = 1000
    ctx = make_context(plugins=("prestaimport_license",), plugin_settings=tables)
    seeded = seed_licence(ctx)
    server = serve_in_thread(create_app(ctx))
    try:
        with httpx.Client(base_url=server.url) as client:
            for _ in range(5):
                assert client.post("/api/v1/licenses/validate", json=body(seeded.key)).is_success
        assert count(ctx, ValidationLog) == 0  # still buffered, off the request path
    finally:
        stop_server(server)
    assert not server.thread.is_alive()
    assert count(ctx, ValidationLog) == 5
