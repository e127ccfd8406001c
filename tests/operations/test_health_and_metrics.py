"""/healthz, /readyz and /metrics served by the app under uvicorn."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import text

from facturo.context import Context
from facturo.contributions import GaugeSample
from facturo.db.migrations import alembic_config, core_head
from facturo.delivery.worker import run_once
from facturo.plugin import hookimpl
from facturo.testing import (
    Clock,
    LiveServer,
    free_port,
    make_customer,
    serve_in_thread,
    stop_server,
)
from facturo.web.app import create_app
from tests.faults.test_email_faults import queue


class PendingAttempts:
    """A gateway plugin that reports its pending payment attempts."""

    @hookimpl
    def operations_gauges(self, ctx: Context, session: Any) -> list[GaugeSample]:
        return [
            GaugeSample("pending_gateway_attempts", "Attempts left pending.", 3, {"gateway": "x"})
        ]


@pytest.fixture
def live(make_context: Callable[..., Context]) -> Iterator[tuple[Context, LiveServer]]:
    ctx = make_context(
        extra=[("pending", PendingAttempts())], overrides={"operations.metrics_token": "s3cret"}
    )
    server = serve_in_thread(create_app(ctx))
    yield ctx, server
    stop_server(server)


def test_healthz_answers_without_the_database(live: tuple[Context, LiveServer]) -> None:
    ctx, server = live
    ctx.db.dispose()
    assert httpx.get(f"{server.url}/healthz").text == "ok"


def test_readyz_names_the_failing_check(live: tuple[Context, LiveServer], clock: Clock) -> None:
    ctx, server = live
    answer = httpx.get(f"{server.url}/readyz")
    assert answer.status_code == 503
    body = answer.json()
    assert body["failed"] == ["worker"] and "never run" in body["checks"]["worker"]["detail"]
    assert body["checks"]["database"] == {"ok": True}
    assert body["checks"]["migrations"] == {"ok": True}
    run_once(ctx, jobs=False)
    answer = httpx.get(f"{server.url}/readyz")
    assert answer.status_code == 200 and answer.json()["ready"] is True
    clock.advance(minutes=6)  # the heartbeat goes stale
    assert httpx.get(f"{server.url}/readyz").json()["failed"] == ["worker"]
    run_once(ctx, jobs=False)
    core = core_head()
    previous = ScriptDirectory.from_config(alembic_config(ctx.db.engine)).get_revision(core)
    head, before = f"'{core}'", f"'{previous.down_revision}'"
    with ctx.db.transaction() as session:  # a migration not applied
        session.execute(
            text(f"UPDATE alembic_version SET version_num = {before} WHERE version_num = {head}")
        )
    try:
        body = httpx.get(f"{server.url}/readyz").json()
    finally:  # the PostgreSQL test database keeps alembic_version between tests
        with ctx.db.transaction() as session:
            session.execute(
                text(
                    f"UPDATE alembic_version SET version_num = {head} WHERE version_num = {before}"
                )
            )
    assert body["failed"] == ["migrations"]
    assert core in body["checks"]["migrations"]["detail"]


def test_readyz_fails_when_the_database_is_unreachable(
    make_context: Callable[..., Context],
) -> None:
    closed = free_port()  # nothing listens there
    ctx = make_context(overrides={"database_url": f"postgresql://postgres@127.0.0.1:{closed}/x"})
    server = serve_in_thread(create_app(ctx))
    try:
        body = httpx.get(f"{server.url}/readyz").json()
    finally:
        stop_server(server)
    assert body["failed"] == ["database", "migrations", "worker"]
    assert "OperationalError" in body["checks"]["database"]["detail"]


def test_metrics_for_local_scrapers_and_token_holders_only(
    live: tuple[Context, LiveServer],
) -> None:
    ctx, server = live
    make_customer(ctx)
    queue(ctx, 2)
    run_once(ctx, jobs=False)  # no SMTP configured: the two emails become .eml files
    queue(ctx, 1, prefix="later")
    httpx.get(f"{server.url}/client/login")
    httpx.get(f"{server.url}/admin/documents/12345")
    answer = httpx.get(f"{server.url}/metrics")
    assert answer.status_code == 200
    text_ = answer.text
    assert (
        'facturo_http_request_duration_seconds_count{method="GET",route="/client/login",status="2xx"}'
        in text_
    )
    assert 'route="/admin/documents/{id:int}"' in text_  # a template, not the concrete path
    assert 'facturo_outbox_rows{kind="email",status="pending"} 1.0' in text_
    assert 'facturo_outbox_oldest_due_seconds{kind="email"}' in text_
    assert 'facturo_job_last_finished_seconds{job="worker"}' in text_
    assert 'facturo_pending_gateway_attempts{gateway="x"} 3.0' in text_
    assert "facturo_refunds_reserved 0.0" in text_
    relayed = httpx.get(f"{server.url}/metrics", headers={"X-Forwarded-For": "203.0.113.9"})
    assert relayed.status_code == 404
    with_token = httpx.get(
        f"{server.url}/metrics",
        headers={"X-Forwarded-For": "203.0.113.9", "Authorization": "Bearer s3cret"},
    )
    assert with_token.status_code == 200
    wrong = httpx.get(
        f"{server.url}/metrics",
        headers={"X-Forwarded-For": "203.0.113.9", "Authorization": "Bearer nope"},
    )
    assert wrong.status_code == 404
