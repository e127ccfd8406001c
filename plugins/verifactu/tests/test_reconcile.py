"""The AEAT query service (ConsultaFactuSistemaFacturacion) and the reconciliation job that
compares what the AEAT holds with the local chain."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date

import httpx
import pytest
from sqlalchemy import select
from starlette.applications import Starlette

from facturo.accounts.customers import create_staff
from facturo.delivery.worker import all_jobs
from facturo.plugin import Context
from facturo.testing import free_port, logged_in_cookies, serve_in_thread, stop_server
from facturo.web.app import create_app
from facturo_verifactu import MOUNTED_STANDINS
from facturo_verifactu.models import Difference, Reconciliation
from facturo_verifactu.query import (
    NS_QUERY_ANSWER,
    HeldRecord,
    build_query,
    parse_query_answer,
    validate_query,
    validate_query_answer,
)
from facturo_verifactu.reconcile import compare
from facturo_verifactu.records import ChainLink, InvoiceId, RegistrationRecord
from facturo_verifactu.sender import QueryError, query_period, send_batch
from facturo_verifactu.standin import StandIn
from facturo_verifactu.testing import customer, invoice, records
from facturo_verifactu.xml import SchemaValidationError, soap_unwrap, soap_wrap

PATH = "/aeat/verifactu"
MakeAlta = Callable[..., RegistrationRecord]


@pytest.fixture
def served() -> Iterator[tuple[StandIn, str]]:
    standin = StandIn(page_size=2)
    live = serve_in_thread(Starlette(routes=standin.routes(PATH)))
    try:
        yield standin, live.url + PATH
    finally:
        stop_server(live)


def test_query_request_and_answer_follow_the_aeat_schemas(
    served: tuple[StandIn, str], make_alta: MakeAlta, issuer: tuple[str, str]
) -> None:
    standin, url = served
    first = make_alta("F2026-000001")
    second = make_alta("F2026-000002", previous=ChainLink.of(first))
    third = make_alta("F2026-000003", previous=ChainLink.of(second))
    other_month = make_alta(
        previous=ChainLink.of(third),
        invoice=InvoiceId(third.invoice.issuer_nif, "F2026-000004", date(2026, 2, 3)),
    )
    with httpx.Client() as client:
        send_batch(client, url, *issuer, [first, second, third, other_month])
        request = build_query(*issuer, 2026, 1)
        validate_query(request)
        answer = client.post(url, content=soap_wrap(request))
        page = parse_query_answer(answer.content)
        held = query_period(client, url, *issuer, 2026, 1)
    validate_query_answer(answer.content)
    assert page.more and page.next_key is not None and len(page.records) == 2
    assert [r.number for r in held] == ["F2026-000001", "F2026-000002", "F2026-000003"]
    assert held[2].hash == third.hash and held[2].previous_hash == second.hash
    assert (held[0].status, held[0].invoice_type, held[0].total) == ("Correcto", "F1", "121.00")
    root = soap_unwrap(answer.content)
    assert root.tag == f"{{{NS_QUERY_ANSWER}}}RespuestaConsultaFactuSistemaFacturacion"
    assert len(standin.held) == 4


def test_answer_states_in_the_prose_spelling_are_normalised(
    served: tuple[StandIn, str], make_alta: MakeAlta, issuer: tuple[str, str]
) -> None:
    standin, url = served
    with httpx.Client() as client:
        send_batch(client, url, *issuer, [make_alta()])
        answer = client.post(url, content=soap_wrap(build_query(*issuer, 2026, 1)))
    # The AEAT's own examples write "Correcta" where the XSD says "Correcto": accept both.
    prose = answer.content.replace(b">Correcto<", b">Correcta<")
    with pytest.raises(SchemaValidationError):
        validate_query_answer(prose)
    assert parse_query_answer(prose).records[0].status == "Correcto"


def test_query_errors_are_reported(make_alta: MakeAlta, issuer: tuple[str, str]) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    with httpx.Client(transport=httpx.MockTransport(refuse)) as client:
        with pytest.raises(QueryError, match="transport"):
            query_period(client, "http://aeat.test/x", *issuer, 2026, 1)
    with httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(503))) as client:
        with pytest.raises(QueryError, match="HTTP 503"):
            query_period(client, "http://aeat.test/x", *issuer, 2026, 1)


def _held(number: str, **fields: str) -> HeldRecord:
    return HeldRecord("B12345674", number, "02-03-2026", fields.pop("status", "Correcto"), **fields)  # type: ignore[arg-type]


# --- the job against the stand-in mounted in the app ------------------------------------------


@pytest.fixture
def live(make_context) -> Iterator[tuple[Context, str]]:  # type: ignore[no-untyped-def]
    port = free_port()
    ctx = make_context(plugins=("verifactu",), overrides={"base_url": f"http://127.0.0.1:{port}"})
    server = serve_in_thread(create_app(ctx), port=port)
    try:
        yield ctx, server.url
    finally:
        stop_server(server)


def _job(ctx: Context, name: str) -> str:
    job = next(job for job in all_jobs(ctx) if job.name == name)
    return str(job.run(ctx))


def test_reconciliation_job_finds_differences_planted_in_the_standin(live, clock) -> None:  # type: ignore[no-untyped-def]
    ctx, url = live
    who = customer(ctx)
    docs = [invoice(ctx, who) for _ in range(4)]
    rejected = invoice(ctx, who, "Licencia #AEAT-REJECT")
    assert "sent 5" in _job(ctx, "verifactu_send")
    assert _job(ctx, "verifactu_reconcile") == "2026-02: ok, 2026-03: ok"

    standin = MOUNTED_STANDINS[ctx]
    nif, day = "B12345674", docs[0].invoice_date
    assert day is not None
    standin.tamper(nif, docs[0].number or "", day, ImporteTotal="999.00")
    standin.tamper(nif, docs[1].number or "", day, Huella="0" * 64)
    standin.forget(nif, docs[2].number or "", day)
    standin.tamper(nif, docs[3].number or "", day, EstadoRegistro="Anulado")
    assert "2026-03: differences" in _job(ctx, "verifactu_reconcile")

    with ctx.db.read_session() as session:
        run = session.scalars(select(Reconciliation).order_by(Reconciliation.id.desc())).first()
        assert run is not None and (run.year, run.month, run.status) == (2026, 3, "differences")
        assert (run.aeat_records, run.local_records) == (3, 5)
        found = {
            (d.number, d.problem)
            for d in session.scalars(
                select(Difference).where(Difference.reconciliation_id == run.id)
            )
        }
    assert found == {
        (docs[0].number, "amounts"),
        (docs[1].number, "hash"),
        (docs[2].number, "missing_at_aeat"),
        (docs[3].number, "status"),
    }
    assert rejected.number not in {number for number, _problem in found}

    with ctx.db.transaction() as session:
        staff, _password = create_staff(session, "books@example.com", "Books", "billing")
    cookies = logged_in_cookies(ctx, staff=staff)
    with httpx.Client(base_url=url, cookies=cookies, headers={"Accept-Language": "en"}) as client:
        page = client.get("/admin/verifactu/reconciliation")
        assert page.status_code == 200
        assert "Differences found: 4" in page.text and "999.00" in page.text
        assert "Accepted locally, missing at the AEAT" in page.text
        overview = client.get("/admin/verifactu")
        assert "The last reconciliation with the AEAT" in overview.text
        bad = client.post(
            "/admin/verifactu/reconciliation",
            data={"csrf_token": "test-csrf-token", "year": "2026", "month": "13"},
        )
        assert bad.status_code == 400 and "month from 1 to 12" in bad.text
        again = client.post(
            "/admin/verifactu/reconciliation",
            data={"csrf_token": "test-csrf-token", "year": "2026", "month": "2"},
        )
        assert again.status_code == 303
    with ctx.db.read_session() as session:
        assert (
            session.scalar(select(Reconciliation).order_by(Reconciliation.id.desc())).status == "ok"
        )


def test_compare_rules(live) -> None:  # type: ignore[no-untyped-def]
    ctx, _url = live
    who = customer(ctx)
    sent, waiting = invoice(ctx, who), invoice(ctx, who)
    rows = records(ctx)  # detached copies: the states are set by hand
    rows[0].status = "accepted"
    as_sent = _held(
        sent.number or "",
        hash=rows[0].hash,
        invoice_type="F1",
        tax_total=rows[0].tax_total or "",
        total=rows[0].total or "",
    )
    assert [d.problem for d in compare(rows, [])] == ["missing_at_aeat"]
    # The record still waiting to be sent is left out even when the AEAT already has it.
    assert compare(rows, [as_sent, _held(waiting.number or "")]) == []
    unknown = compare(rows, [as_sent, _held("F2026-999999")])
    assert [(d.number, d.problem) for d in unknown] == [("F2026-999999", "unknown_locally")]
    rows[0].status = "rejected"  # the AEAT refused it, yet holds it
    assert [d.problem for d in compare(rows, [as_sent])] == ["unknown_locally"]


def test_failed_query_is_stored_as_an_error(make_context) -> None:  # type: ignore[no-untyped-def]
    ctx = make_context(
        plugins=("verifactu",),
        plugin_settings={"verifactu": {"endpoint_url": f"http://127.0.0.1:{free_port()}/x"}},
    )
    assert _job(ctx, "verifactu_reconcile") == "2026-02: error, 2026-03: error"
    with ctx.db.read_session() as session:
        run = session.scalars(select(Reconciliation)).first()
        assert run is not None and "transport error" in run.error
