"""The verifactu_send job and the staff page, against the stand-in AEAT served by the app."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select

from facturo.accounts.customers import create_staff
from facturo.delivery.worker import all_jobs
from facturo.plugin import Context
from facturo.testing import free_port, logged_in_cookies, serve_in_thread, stop_server
from facturo.web.app import create_app
from facturo_verifactu.chain import verify_chain
from facturo_verifactu.models import ChainHead
from facturo_verifactu.testing import customer, invoice, records


@pytest.fixture
def live(make_context) -> Iterator[tuple[Context, str]]:  # type: ignore[no-untyped-def]
    port = free_port()
    ctx = make_context(plugins=("verifactu",), overrides={"base_url": f"http://127.0.0.1:{port}"})
    server = serve_in_thread(create_app(ctx), port=port)
    try:
        yield ctx, server.url
    finally:
        stop_server(server)


def _run_job(ctx: Context) -> str:
    job = next(job for job in all_jobs(ctx) if job.name == "verifactu_send")
    return str(job.run(ctx))


def _statuses(ctx: Context) -> list[tuple[str, str, int]]:
    return [(r.number, r.status, r.attempts) for r in records(ctx)]


def test_job_stores_answers_honours_wait_and_retries(live, clock) -> None:  # type: ignore[no-untyped-def]
    ctx, _url = live
    who = customer(ctx)
    ok = invoice(ctx, who)
    warn = invoice(ctx, who, "Licencia #AEAT-WARN")
    bad = invoice(ctx, who, "Licencia #AEAT-REJECT")
    assert "sent 3" in _run_job(ctx)
    rows = records(ctx)
    assert [(r.number, r.status) for r in rows] == [
        (ok.number, "accepted"),
        (warn.number, "accepted_with_errors"),
        (bad.number, "rejected"),
    ]
    assert rows[0].csv and rows[0].submitted_at is not None
    assert (rows[1].error_code, rows[2].error_code) == (2000, 1100)
    with ctx.db.read_session() as session:
        head = session.scalar(select(ChainHead))
        assert head is not None and head.last_wait_seconds == 60
        assert head.next_send_at == clock() + timedelta(seconds=60)

    later = invoice(ctx, who)
    assert _run_job(ctx).startswith("waiting until")
    assert records(ctx)[3].status == "pending"
    clock.advance(seconds=61)
    assert "sent 1" in _run_job(ctx)
    assert records(ctx)[3].status == "accepted"

    down = invoice(ctx, who, "Licencia #AEAT-503")
    clock.advance(seconds=61)
    _run_job(ctx)
    clock.advance(seconds=61)
    _run_job(ctx)
    assert _statuses(ctx)[3:] == [(later.number, "accepted", 1), (down.number, "retry", 2)]
    assert [r.status for r in records(ctx)[:3]] == ["accepted", "accepted_with_errors", "rejected"]
    with ctx.db.read_session() as session:
        assert verify_chain(session, "B12345674").intact


def test_staff_page_and_cancellation(live, clock) -> None:  # type: ignore[no-untyped-def]
    ctx, url = live
    with ctx.db.transaction() as session:
        staff, _password = create_staff(session, "boss@example.com", "Boss", "admin")
    who = customer(ctx)
    wrong = invoice(ctx, who)
    invoice(ctx, who, "Licencia #AEAT-REJECT")
    cookies = logged_in_cookies(ctx, staff=staff)
    with httpx.Client(base_url=url, cookies=cookies) as client:
        page = client.get("/admin/verifactu")
        assert page.status_code == 200
        assert "Pending submission" in page.text or "Pendientes" in page.text
        assert wrong.number in page.text
        alta_id = records(ctx)[0].id
        answer = client.post(
            f"/admin/verifactu/records/{alta_id}/cancel",
            data={"csrf_token": "test-csrf-token", "reason": "Emitida por error"},
        )
        assert answer.status_code == 303
        again = client.post(
            f"/admin/verifactu/records/{alta_id}/cancel",
            data={"csrf_token": "test-csrf-token", "reason": "Otra vez"},
        )
        assert again.status_code == 303
    rows = records(ctx)
    assert [(r.kind, r.number) for r in rows] == [
        ("alta", wrong.number),
        ("alta", rows[1].number),
        ("anulacion", wrong.number),
    ]
    assert rows[2].previous_hash == rows[1].hash and rows[2].reason == "Emitida por error"
    assert "sent 3" in _run_job(ctx)
    assert [r.status for r in records(ctx)] == ["accepted", "rejected", "accepted"]
    with httpx.Client(base_url=url, cookies=cookies) as client:
        page = client.get("/admin/verifactu")
        assert page.status_code == 200
        assert "1100" in page.text and "broken" not in page.text
