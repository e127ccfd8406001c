"""Re-sending records: Subsanación, RechazoPrevio S/X and SinRegistroPrevio, as the AEAT's
validations describe them (the stand-in applies the same rules)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import select, update
from starlette.applications import Starlette

from facturo.accounts.customers import create_staff
from facturo.delivery.worker import all_jobs
from facturo.models import AuditEvent
from facturo.plugin import Context
from facturo.testing import free_port, logged_in_cookies, serve_in_thread, stop_server
from facturo.web.app import create_app
from facturo_verifactu import MOUNTED_STANDINS
from facturo_verifactu.chain import (
    ChainError,
    append_cancellation,
    rebuild,
    resend_alta,
    verify_chain,
)
from facturo_verifactu.models import ChainRecord
from facturo_verifactu.records import (
    CancellationRecord,
    ChainLink,
    RegistrationRecord,
    SoftwareSystem,
)
from facturo_verifactu.sender import Outcome, build_request, interpret, send_batch
from facturo_verifactu.standin import StandIn
from facturo_verifactu.testing import customer, invoice, records

PATH = "/aeat/verifactu"
MakeAlta = Callable[..., RegistrationRecord]


@pytest.fixture
def aeat() -> Iterator[tuple[StandIn, httpx.Client, str]]:
    standin = StandIn()
    live = serve_in_thread(Starlette(routes=standin.routes(PATH)))
    try:
        with httpx.Client() as client:
            yield standin, client, live.url + PATH
    finally:
        stop_server(live)


def _send(aeat: tuple[StandIn, httpx.Client, str], issuer, *records):  # type: ignore[no-untyped-def]
    _standin, client, url = aeat
    result = send_batch(client, url, *issuer, list(records))
    return [(o.outcome, o.error_code) for o in result.outcomes]


def test_alta_flags_follow_what_the_aeat_holds(aeat, make_alta: MakeAlta, issuer) -> None:  # type: ignore[no-untyped-def]
    standin = aeat[0]
    rejected = make_alta(description="Licencia #AEAT-REJECT")
    assert _send(aeat, issuer, rejected) == [(Outcome.REJECTED, 1100)]
    # Not registered: a subsanación without RechazoPrevio=X has nothing to replace.
    assert _send(aeat, issuer, make_alta(correction=True)) == [(Outcome.REJECTED, 3001)]
    fixed = make_alta(correction=True, previous_rejection="X")
    assert _send(aeat, issuer, fixed) == [(Outcome.ACCEPTED, None)]
    # Now registered: X again is a duplicate, a plain alta too.
    assert _send(aeat, issuer, make_alta(correction=True, previous_rejection="X")) == [
        (Outcome.REJECTED, 3000)
    ]
    assert _send(aeat, issuer, make_alta()) == [(Outcome.REJECTED, 3000)]
    # A subsanación of the registered record that is itself rejected...
    bad_fix = make_alta(correction=True, description="Otra #AEAT-REJECT")
    assert _send(aeat, issuer, bad_fix) == [(Outcome.REJECTED, 1100)]
    # ...is sent again with RechazoPrevio=S, and replaces the held record.
    good_fix = make_alta(
        correction=True, previous_rejection="S", generated_at=datetime(2026, 1, 16, tzinfo=UTC)
    )
    assert _send(aeat, issuer, good_fix) == [(Outcome.ACCEPTED, None)]
    [held] = standin.held.values()
    assert held.element.findtext("{*}Huella") == good_fix.hash


def test_rechazo_previo_without_subsanacion_is_refused_both_sides(
    aeat,
    make_alta: MakeAlta,
    issuer,  # type: ignore[no-untyped-def]
) -> None:
    with pytest.raises(ValueError, match="needs Subsanacion=S"):
        make_alta(previous_rejection="X")
    record = make_alta(correction=True, previous_rejection="X")
    body = build_request(*issuer, [record]).replace(b"<sum1:Subsanacion>S</sum1:Subsanacion>", b"")
    standin, client, url = aeat
    answer = client.post(url, content=body)
    result = interpret([record], answer.status_code, answer.content)
    assert (result.outcomes[0].outcome, result.outcomes[0].error_code) == (Outcome.REJECTED, 1153)
    assert standin.held == {}


def test_anulacion_flags(aeat, make_alta: MakeAlta, issuer, system: SoftwareSystem) -> None:  # type: ignore[no-untyped-def]
    standin = aeat[0]
    stamp = datetime(2026, 1, 15, 11, 0, tzinfo=UTC)
    never_sent = make_alta("F2026-000009")
    plain = CancellationRecord(never_sent.invoice, system, stamp)
    assert _send(aeat, issuer, plain) == [(Outcome.REJECTED, 3002)]
    again = CancellationRecord(
        never_sent.invoice, system, stamp, no_prior_record=True, previous_rejection=True
    )
    assert _send(aeat, issuer, again) == [(Outcome.ACCEPTED, None)]
    assert [s.status for s in standin.held.values()] == ["Anulado"]
    registered = make_alta("F2026-000010")
    assert _send(aeat, issuer, registered) == [(Outcome.ACCEPTED, None)]
    needless = CancellationRecord(registered.invoice, system, stamp, no_prior_record=True)
    assert _send(aeat, issuer, needless) == [(Outcome.REJECTED, 3000)]
    after_rejection = CancellationRecord(
        registered.invoice,
        system,
        stamp,
        previous=ChainLink.of(registered),
        previous_rejection=True,
    )
    assert _send(aeat, issuer, after_rejection) == [(Outcome.ACCEPTED, None)]
    # A subsanación reactivates an anulled record.
    assert _send(aeat, issuer, make_alta("F2026-000010", correction=True)) == [
        (Outcome.ACCEPTED, None)
    ]
    assert [s.status for s in standin.held.values()] == ["Anulado", "Correcto"]


# --- through the chain, the staff page and the send job ---------------------------------------


@pytest.fixture
def live(make_context) -> Iterator[tuple[Context, str]]:  # type: ignore[no-untyped-def]
    port = free_port()
    ctx = make_context(plugins=("verifactu",), overrides={"base_url": f"http://127.0.0.1:{port}"})
    server = serve_in_thread(create_app(ctx), port=port)
    try:
        yield ctx, server.url
    finally:
        stop_server(server)


def _send_job(ctx: Context) -> str:
    job = next(job for job in all_jobs(ctx) if job.name == "verifactu_send")
    return str(job.run(ctx))


def _flags(row: ChainRecord) -> tuple[bool, str | None]:
    return bool(row.payload.get("correction")), row.payload.get("previous_rejection")


def test_staff_resend_after_rejection_and_after_errors(live, clock) -> None:  # type: ignore[no-untyped-def]
    ctx, url = live
    who = customer(ctx)
    rejected = invoice(ctx, who, "Licencia #AEAT-REJECT")
    warned = invoice(ctx, who, "Licencia #AEAT-WARN")
    assert "sent 2" in _send_job(ctx)
    first, second = records(ctx)
    assert (first.status, second.status) == ("rejected", "accepted_with_errors")
    with ctx.db.transaction() as session:
        staff, _password = create_staff(session, "books@example.com", "Books", "billing")
    cookies = logged_in_cookies(ctx, staff=staff)
    with httpx.Client(base_url=url, cookies=cookies, headers={"Accept-Language": "en"}) as client:
        page = client.get("/admin/verifactu")
        assert page.text.count("Re-send as subsanación") == 2
        for row in (first, second):
            answer = client.post(
                f"/admin/verifactu/records/{row.id}/resend",
                data={"csrf_token": "test-csrf-token", "description": "Licencia PrestaImport"},
            )
            assert answer.status_code == 303
        stale = client.post(
            f"/admin/verifactu/records/{first.id}/resend", data={"csrf_token": "test-csrf-token"}
        )
        assert stale.status_code == 303
        long = client.post(
            f"/admin/verifactu/records/{records(ctx)[2].id}/resend",
            data={"csrf_token": "test-csrf-token", "description": "x" * 501},
        )
        assert long.status_code == 303
    rows = records(ctx)
    assert len(rows) == 4  # the stale and the too long re-sends added nothing
    assert [(r.number, r.revision, _flags(r)) for r in rows[2:]] == [
        (rejected.number, 1, (True, "X")),  # never registered at the AEAT
        (warned.number, 1, (True, None)),  # registered with errors: a plain subsanación
    ]
    clock.advance(seconds=61)  # TiempoEsperaEnvio
    assert "sent 2" in _send_job(ctx)
    assert [r.status for r in records(ctx)] == [
        "rejected",
        "accepted_with_errors",
        "accepted",
        "accepted",
    ]
    with ctx.db.read_session() as session:
        assert verify_chain(session, "B12345674").intact
        actions = session.scalars(
            select(AuditEvent.action).where(AuditEvent.action == "verifactu.resend")
        ).all()
        assert len(actions) == 2
    with httpx.Client(base_url=url, cookies=cookies) as client:
        page = client.get("/admin/verifactu")
        assert "Re-send as subsanación" not in page.text  # the failures are superseded
    held = MOUNTED_STANDINS[ctx].held
    assert {key[1]: s.status for key, s in held.items()} == {
        rejected.number: "Correcto",
        warned.number: "Correcto",
    }


def test_resend_after_a_rejected_subsanacion_carries_rechazo_previo_s(live, clock) -> None:  # type: ignore[no-untyped-def]
    ctx, _url = live
    paid = invoice(ctx, customer(ctx))
    _send_job(ctx)
    with ctx.db.transaction() as session:
        first = resend_alta(ctx, session, records(ctx)[0].id, "Corrección #AEAT-REJECT")
        first_id = first.id
    clock.advance(seconds=61)
    _send_job(ctx)
    assert [r.status for r in records(ctx)] == ["accepted", "rejected"]
    with ctx.db.transaction() as session:
        again = resend_alta(ctx, session, first_id, "Licencia corregida")
        assert _flags(again) == (True, "S")
    clock.advance(seconds=61)
    _send_job(ctx)
    rows = records(ctx)
    assert [(r.revision, r.status) for r in rows] == [
        (0, "accepted"),
        (1, "rejected"),
        (2, "accepted"),
    ]
    # The XML of the re-sent record validates against the AEAT XSDs and carries both flags.
    with ctx.db.read_session() as session:
        rebuilt = rebuild(rows[2], rows[1])
    body = build_request("Facturo Test S.L.", "B12345674", [rebuilt])
    assert b"<sum1:Subsanacion>S</sum1:Subsanacion>" in body
    assert b"<sum1:RechazoPrevio>S</sum1:RechazoPrevio>" in body
    [held] = MOUNTED_STANDINS[ctx].held.values()
    assert held.element.findtext("{*}Huella") == rows[2].hash
    assert paid.number == rows[2].number


def test_resend_refusals_and_cancellation_flags(live, clock) -> None:  # type: ignore[no-untyped-def]
    ctx, _url = live
    pending = invoice(ctx, customer(ctx))
    row = records(ctx)[0]
    with ctx.db.transaction() as session, pytest.raises(ChainError, match="still being sent"):
        resend_alta(ctx, session, row.id)
    _send_job(ctx)
    with ctx.db.transaction() as session:
        cancel = append_cancellation(ctx, session, row.id, "Emitida por error")
        assert cancel.payload["no_prior_record"] is False
        cancel_id = cancel.id
    with ctx.db.transaction() as session, pytest.raises(ChainError, match="is cancelled"):
        resend_alta(ctx, session, row.id)
    with ctx.db.transaction() as session, pytest.raises(ChainError, match="only a registration"):
        resend_alta(ctx, session, cancel_id)
    with ctx.db.transaction() as session, pytest.raises(ChainError, match="already cancelled"):
        append_cancellation(ctx, session, row.id, "Otra vez")
    # After the AEAT rejected the anulación, it may be sent again with RechazoPrevio=S.
    with ctx.db.transaction() as session:
        session.execute(
            update(ChainRecord).where(ChainRecord.id == cancel_id).values(status="rejected")
        )
    with ctx.db.transaction() as session:
        again = append_cancellation(ctx, session, row.id, "Emitida por error")
        assert (again.revision, again.payload["previous_rejection"]) == (1, True)
    assert pending.number == again.number
