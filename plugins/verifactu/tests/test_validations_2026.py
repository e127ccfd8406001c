"""The AEAT's "Validaciones y errores" changes up to v1.2.1 (2026): FechaFinVeriFactu in the fixed
31-12 form from 2027, totals within ±10 € of the breakdown, NIF-IVA structure."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from decimal import Decimal

import httpx
import pytest
from starlette.applications import Starlette

from facturo.plugin import Context
from facturo.testing import serve_in_thread, stop_server
from facturo_verifactu.records import (
    VALIDATIONS_VERSION,
    ForeignId,
    RegistrationRecord,
    TaxLine,
    fixed_end_date_problem,
    verifactu_end_date,
)
from facturo_verifactu.sender import Outcome, build_request, interpret, send_batch
from facturo_verifactu.standin import StandIn
from facturo_verifactu.submit import send_pending
from facturo_verifactu.testing import customer, invoice
from facturo_verifactu.xml import build_submission, validate_submission

MakeAlta = Callable[..., RegistrationRecord]
PATH = "/aeat"


def test_version_followed() -> None:
    assert VALIDATIONS_VERSION == "1.2.1"


@pytest.mark.parametrize(
    ("text", "today", "ok"),
    [
        (None, date(2027, 5, 1), True),
        ("31-12-2027", date(2027, 5, 1), True),
        ("31-12-2026", date(2027, 5, 1), True),  # the previous year is still accepted
        ("31-12-2025", date(2027, 5, 1), False),
        ("30-06-2027", date(2027, 5, 1), False),
        ("30-06-2026", date(2026, 5, 1), True),  # the fixed form applies from 1 Jan 2027
        ("2026-12-31", date(2026, 5, 1), False),
    ],
)
def test_fixed_end_date_rule(text: str | None, today: date, ok: bool) -> None:
    assert (fixed_end_date_problem(text, today) is None) is ok


@pytest.fixture
def aeat_2027() -> Iterator[tuple[StandIn, str]]:
    standin = StandIn(today=lambda: date(2027, 3, 1))
    live = serve_in_thread(Starlette(routes=standin.routes(PATH)))
    try:
        yield standin, live.url + PATH
    finally:
        stop_server(live)


def test_fecha_fin_verifactu_is_sent_and_checked(
    aeat_2027: tuple[StandIn, str], make_alta: MakeAlta, issuer: tuple[str, str]
) -> None:
    _standin, url = aeat_2027
    end = verifactu_end_date(date(2027, 3, 1))
    assert end == date(2027, 12, 31)
    with httpx.Client() as client:
        good = send_batch(client, url, *issuer, [make_alta()], end_date=end)
        old = make_alta("F2026-000002")
        bad = send_batch(client, url, *issuer, [old], end_date=date(2027, 6, 30))
    assert good.outcomes[0].outcome is Outcome.ACCEPTED
    assert (bad.outcomes[0].outcome, bad.outcomes[0].error_code) == (Outcome.REJECTED, 4120)
    xml = build_submission(*issuer, [make_alta()], incident=True, end_date=end)
    validate_submission(xml)
    assert b"<sum1:FechaFinVeriFactu>31-12-2027</sum1:FechaFinVeriFactu>" in xml
    assert xml.index(b"FechaFinVeriFactu") < xml.index(b"Incidencia")  # XSD order


def test_leave_verifactu_setting_puts_the_end_date_in_every_submission(make_context, clock) -> None:  # type: ignore[no-untyped-def]
    seen: list[bytes] = []

    def spy(request: httpx.Request) -> httpx.Response:
        seen.append(request.content)
        return httpx.Response(503)

    ctx: Context = make_context(
        plugins=("verifactu",),
        plugin_settings={
            "verifactu": {"endpoint_url": "http://aeat.test/x", "leave_verifactu": True}
        },
    )
    invoice(ctx, customer(ctx))
    with httpx.Client(transport=httpx.MockTransport(spy)) as client:
        send_pending(ctx, client)
    assert b"<sum1:FechaFinVeriFactu>31-12-2026</sum1:FechaFinVeriFactu>" in seen[0]


def test_totals_must_agree_with_the_breakdown(make_alta: MakeAlta) -> None:
    make_alta(total=Decimal("130.99"))  # within ±10 €
    with pytest.raises(ValueError, match="ImporteTotal"):
        make_alta(total=Decimal("131.01"))
    with pytest.raises(ValueError, match="CuotaTotal"):
        make_alta(tax_total=Decimal("31.01"), total=Decimal("131.01"))
    # The CuotaTotal check is skipped for IPSI/IGIC (08) lines; ImporteTotal still applies.
    make_alta(
        tax_lines=(TaxLine.not_subject(Decimal("100.00"), regime="08"),),
        tax_total=Decimal("21.00"),
        total=Decimal("100.00"),
    )


def test_standin_answers_totals_beyond_ten_euros_with_errors(
    make_alta: MakeAlta, issuer: tuple[str, str]
) -> None:
    standin = StandIn()
    record = make_alta()
    body = build_request(*issuer, [record]).replace(b">121.00<", b">140.00<")
    live = serve_in_thread(Starlette(routes=standin.routes(PATH)))
    try:
        with httpx.Client() as client:
            answer = client.post(live.url + PATH, content=body)
    finally:
        stop_server(live)
    outcome = interpret([record], answer.status_code, answer.content).outcomes[0]
    assert (outcome.outcome, outcome.error_code) == (Outcome.ACCEPTED_WITH_ERRORS, 2006)


def test_nif_iva_structure_is_checked() -> None:
    ForeignId("NL", "02", "NL004495445B01")  # Países Bajos (formerly listed as Holanda)
    ForeignId("GR", "02", "EL094259216")
    with pytest.raises(ValueError, match="NIF-IVA"):
        ForeignId("NL", "02", "NL000000000B00")
    with pytest.raises(ValueError, match="NIF-IVA"):
        ForeignId("GR", "02", "GR094259216")  # Greece is EL
    ForeignId("US", "04", "123456789")  # other id types are not NIF-IVA
