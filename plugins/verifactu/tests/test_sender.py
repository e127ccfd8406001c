from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime

import anyio
import httpx
import pytest
from starlette.applications import Starlette

from facturo_verifactu.records import (
    CancellationRecord,
    ChainLink,
    RegistrationRecord,
    SoftwareSystem,
)
from facturo_verifactu.sender import (
    Outcome,
    batches,
    build_request,
    endpoint,
    interpret,
    send_batch,
    send_batch_async,
)
from facturo_verifactu.standin import standin_routes
from facturo_verifactu.xml import parse_response

PATH = "/aeat/verifactu"
URL = "http://aeat.test" + PATH
MakeAlta = Callable[..., RegistrationRecord]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def app() -> Starlette:
    return Starlette(routes=standin_routes(PATH, wait_seconds=42))


@pytest.fixture
def sync_client(app: Starlette) -> httpx.Client:
    """A blocking httpx.Client whose requests are served by the stand-in app in-process."""

    def forward(request: httpx.Request) -> httpx.Response:
        body = request.read()

        async def call() -> httpx.Response:
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as client:
                answer = await client.request(
                    request.method, str(request.url), content=body, headers=request.headers
                )
                return httpx.Response(answer.status_code, content=answer.content)

        return anyio.run(call)

    return httpx.Client(transport=httpx.MockTransport(forward))


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://aeat.test") as client:
        yield client


@pytest.mark.anyio
async def test_accepted_records_and_wait_time(
    client: httpx.AsyncClient, make_alta: MakeAlta, system: SoftwareSystem, issuer: tuple[str, str]
) -> None:
    first = make_alta("F2026-000001")
    second = make_alta("F2026-000002", previous=ChainLink.of(first))
    cancel = CancellationRecord(
        invoice=second.invoice,
        system=system,
        generated_at=datetime(2026, 1, 15, 9, 1, tzinfo=UTC),
        previous=ChainLink.of(second),
    )
    result = await send_batch_async(client, URL, *issuer, [first, second, cancel])
    assert [o.outcome for o in result.outcomes] == [Outcome.ACCEPTED] * 3
    assert [o.key[3] for o in result.outcomes] == ["Alta", "Alta", "Anulacion"]
    assert result.wait_seconds == 42
    assert result.status == "Correcto"
    assert result.csv is not None and not result.retryable


@pytest.mark.anyio
async def test_rejected_and_accepted_with_errors_per_line(
    client: httpx.AsyncClient, make_alta: MakeAlta, issuer: tuple[str, str]
) -> None:
    good = make_alta("F2026-000001")
    bad = make_alta("F2026-000002", description="Licencia #AEAT-REJECT")
    warned = make_alta("F2026-000003", description="Licencia #AEAT-WARN")
    result = await send_batch_async(client, URL, *issuer, [good, bad, warned])
    outcomes = [(o.outcome, o.error_code) for o in result.outcomes]
    assert outcomes == [
        (Outcome.ACCEPTED, None),
        (Outcome.REJECTED, 1100),
        (Outcome.ACCEPTED_WITH_ERRORS, 2000),
    ]
    assert result.status == "ParcialmenteCorrecto"
    assert result.outcomes[1].error_description
    assert all(o.outcome.final for o in result.outcomes)


@pytest.mark.anyio
async def test_all_rejected_has_no_csv(
    client: httpx.AsyncClient, make_alta: MakeAlta, issuer: tuple[str, str]
) -> None:
    result = await send_batch_async(client, URL, *issuer, [make_alta(description="x #AEAT-REJECT")])
    assert result.status == "Incorrecto" and result.csv is None
    assert result.outcomes[0].outcome is Outcome.REJECTED


@pytest.mark.anyio
async def test_duplicate_alta_is_rejected_but_a_correction_is_not(
    client: httpx.AsyncClient, make_alta: MakeAlta, issuer: tuple[str, str]
) -> None:
    record = make_alta()
    first = await send_batch_async(client, URL, *issuer, [record])
    again = await send_batch_async(client, URL, *issuer, [record])
    fixed = await send_batch_async(client, URL, *issuer, [make_alta(correction=True)])
    assert first.outcomes[0].outcome is Outcome.ACCEPTED
    assert (again.outcomes[0].outcome, again.outcomes[0].error_code) == (Outcome.REJECTED, 3000)
    assert fixed.outcomes[0].outcome is Outcome.ACCEPTED


@pytest.mark.anyio
@pytest.mark.parametrize("marker", ["#AEAT-503", "#AEAT-FAULT"])
async def test_unavailable_service_is_retryable_and_then_accepts(
    client: httpx.AsyncClient, make_alta: MakeAlta, issuer: tuple[str, str], marker: str
) -> None:
    failing = make_alta(description=f"Licencia {marker}")
    result = await send_batch_async(client, URL, *issuer, [failing])
    assert result.retryable and result.wait_seconds is None
    assert result.outcomes[0].outcome is Outcome.RETRY
    assert result.error is not None
    retried = await send_batch_async(client, URL, *issuer, [make_alta()])
    assert retried.outcomes[0].outcome is Outcome.ACCEPTED


@pytest.mark.anyio
async def test_tampered_hash_is_accepted_with_errors(
    client: httpx.AsyncClient, make_alta: MakeAlta, issuer: tuple[str, str]
) -> None:
    record = make_alta()
    body = build_request(*issuer, [record]).replace(record.hash.encode(), b"0" * 64)
    answer = await client.post(PATH, content=body)
    line = parse_response(answer.content).lines[0]
    assert (line.status, line.error_code) == ("AceptadoConErrores", 2000)


@pytest.mark.anyio
async def test_schema_invalid_request_is_a_final_client_fault(
    client: httpx.AsyncClient, make_alta: MakeAlta, issuer: tuple[str, str]
) -> None:
    record = make_alta()
    body = build_request(*issuer, [record]).replace(b">F1<", b">X9<")
    answer = await client.post(PATH, content=body)
    assert answer.status_code == 500
    result = interpret([record], answer.status_code, answer.content)
    assert result.outcomes[0].outcome is Outcome.REJECTED
    assert result.error is not None and "soapenv:Client" in result.error


def test_transport_errors_are_retryable(make_alta: MakeAlta, issuer: tuple[str, str]) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    with httpx.Client(transport=httpx.MockTransport(refuse)) as client:
        result = send_batch(client, endpoint(production=False), *issuer, [make_alta()])
    assert result.outcomes[0].outcome is Outcome.RETRY
    assert result.error is not None and "ConnectError" in result.error


def test_sync_client_against_the_standin(
    sync_client: httpx.Client, make_alta: MakeAlta, issuer: tuple[str, str]
) -> None:
    with sync_client:
        result = send_batch(sync_client, URL, *issuer, [make_alta()])
    assert result.outcomes[0].outcome is Outcome.ACCEPTED
    assert result.wait_seconds == 42


def test_missing_line_in_answer_means_retry(
    sync_client: httpx.Client, make_alta: MakeAlta, issuer: tuple[str, str]
) -> None:
    sent, forgotten = make_alta("F2026-000001"), make_alta("F2026-000002")
    with sync_client:
        answer = sync_client.post(URL, content=build_request(*issuer, [sent]))
    result = interpret([sent, forgotten], answer.status_code, answer.content)
    assert [o.outcome for o in result.outcomes] == [Outcome.ACCEPTED, Outcome.RETRY]


def test_batches_hold_at_most_1000_records(make_alta: MakeAlta) -> None:
    records = [make_alta()] * 2500
    assert [len(b) for b in batches(records)] == [1000, 1000, 500]
    with pytest.raises(ValueError):
        list(batches(records, size=1001))


def test_endpoints() -> None:
    assert endpoint(production=False).startswith("https://prewww1.aeat.es/")
    assert endpoint(production=True).startswith("https://www1.agenciatributaria.gob.es/")
    assert endpoint(production=True, seal_certificate=True).startswith(
        "https://www10.agenciatributaria.gob.es/"
    )
