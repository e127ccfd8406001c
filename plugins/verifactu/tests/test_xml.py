from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from lxml import etree

from facturo_verifactu.records import (
    CancellationRecord,
    ChainLink,
    ForeignId,
    InvoiceId,
    Recipient,
    RectifiedAmounts,
    RegistrationRecord,
    SoftwareSystem,
    TaxLine,
)
from facturo_verifactu.xml import (
    NS_SUM1,
    ResponseLine,
    SchemaValidationError,
    SoapFault,
    SubmissionResponse,
    build_response,
    build_submission,
    parse_response,
    soap_fault,
    soap_unwrap,
    soap_wrap,
    validate_response,
    validate_submission,
)

NS = {"sum1": NS_SUM1}
NIF = "89890001K"  # the issuer NIF of the conftest records


def field(xml: bytes, path: str) -> list[str]:
    return [str(t) for t in etree.fromstring(xml).xpath(path + "/text()", namespaces=NS)]


def test_first_alta_validates_and_carries_its_hash(
    make_alta: Callable[..., RegistrationRecord], issuer: tuple[str, str]
) -> None:
    record = make_alta()
    xml = build_submission(*issuer, [record])
    validate_submission(xml)
    assert field(xml, "//sum1:Huella") == [record.hash]
    assert field(xml, "//sum1:PrimerRegistro") == ["S"]
    assert field(xml, "//sum1:FechaExpedicionFactura") == ["15-01-2026"]
    assert field(xml, "//sum1:FechaHoraHusoGenRegistro") == ["2026-01-15T10:00:00+01:00"]
    assert field(xml, "//sum1:CuotaTotal") == ["21.00"]
    assert field(xml, "//sum1:TipoHuella") == ["01"]


def test_chained_alta_and_cancellation_validate(
    make_alta: Callable[..., RegistrationRecord],
    system: SoftwareSystem,
    issuer: tuple[str, str],
) -> None:
    first = make_alta("F2026-000001")
    second = make_alta("F2026-000002", previous=ChainLink.of(first))
    cancel = CancellationRecord(
        invoice=second.invoice,
        system=system,
        generated_at=datetime(2026, 1, 15, 9, 5, tzinfo=UTC),
        previous=ChainLink.of(second),
    )
    xml = build_submission(*issuer, [first, second, cancel], incident=True)
    validate_submission(xml)
    assert field(xml, "//sum1:RegistroAnterior/sum1:Huella") == [first.hash, second.hash]
    assert field(xml, "//sum1:NumSerieFacturaAnulada") == ["F2026-000002"]
    assert field(xml, "//sum1:Incidencia") == ["S"]
    assert field(xml, "//sum1:RegistroAnulacion/sum1:Huella") == [cancel.hash]


def test_credit_note_by_differences_lists_the_rectified_invoice(
    make_alta: Callable[..., RegistrationRecord], issuer: tuple[str, str]
) -> None:
    original = make_alta()
    credit = make_alta(
        "R2026-000001",
        invoice_type="R1",
        rectification_type="I",
        rectified=(original.invoice,),
        description="Abono por devolución de la licencia",
        tax_lines=(TaxLine.subject(Decimal("-100.00"), Decimal("21"), Decimal("-21.00")),),
        tax_total=Decimal("-21.00"),
        total=Decimal("-121.00"),
        previous=ChainLink.of(original),
    )
    xml = build_submission(*issuer, [original, credit])
    validate_submission(xml)
    rectified = "//sum1:FacturasRectificadas/sum1:IDFacturaRectificada/sum1:NumSerieFactura"
    assert field(xml, rectified) == ["F2026-000001"]
    assert field(xml, "//sum1:TipoRectificativa") == ["I"]
    assert field(xml, "//sum1:ImporteTotal") == ["121.00", "-121.00"]


def test_corrective_by_substitution_carries_the_replaced_amounts(
    make_alta: Callable[..., RegistrationRecord], issuer: tuple[str, str]
) -> None:
    original = InvoiceId(NIF, "F2026-000001", date(2026, 1, 15))
    record = make_alta(
        "R2026-000002",
        invoice_type="R4",
        rectification_type="S",
        rectified=(original,),
        rectified_amounts=RectifiedAmounts(Decimal("100.00"), Decimal("21.00")),
    )
    xml = build_submission(*issuer, [record])
    validate_submission(xml)
    assert field(xml, "//sum1:ImporteRectificacion/sum1:BaseRectificada") == ["100.00"]


def test_simplified_corrective_r5_without_recipient(
    make_alta: Callable[..., RegistrationRecord], issuer: tuple[str, str]
) -> None:
    original = InvoiceId(NIF, "T2026-000009", date(2026, 1, 10))
    record = make_alta(
        "RT2026-000001",
        invoice_type="R5",
        rectification_type="I",
        rectified=(original,),
        recipients=(),
    )
    xml = build_submission(*issuer, [record])
    validate_submission(xml)
    assert field(xml, "//sum1:Destinatarios") == []


def test_eu_business_not_subject_line_with_vat_number(
    make_alta: Callable[..., RegistrationRecord], issuer: tuple[str, str]
) -> None:
    record = make_alta(
        recipients=(Recipient("Boutique SARL", foreign_id=ForeignId("FR", "02", "FR40303265045")),),
        tax_lines=(TaxLine.not_subject(Decimal("100.00")),),
        tax_total=Decimal("0.00"),
        total=Decimal("100.00"),
    )
    xml = build_submission(*issuer, [record])
    validate_submission(xml)
    assert field(xml, "//sum1:CalificacionOperacion") == ["N2"]
    assert field(xml, "//sum1:TipoImpositivo") == []
    assert field(xml, "//sum1:CuotaRepercutida") == []
    assert field(xml, "//sum1:IDOtro/sum1:IDType") == ["02"]


def test_reverse_charge_and_mixed_lines(
    make_alta: Callable[..., RegistrationRecord], issuer: tuple[str, str]
) -> None:
    record = make_alta(
        tax_lines=(
            TaxLine.domestic_reverse_charge(Decimal("50.00")),
            TaxLine.subject(Decimal("100.00"), Decimal("21"), Decimal("21.00")),
            TaxLine.not_subject(Decimal("10.00"), regime="02"),
            TaxLine.exempt(Decimal("5.00"), "E6"),
        ),
        total=Decimal("186.00"),
    )
    xml = build_submission(*issuer, [record])
    validate_submission(xml)
    assert field(xml, "//sum1:CalificacionOperacion") == ["S2", "S1", "N2"]
    assert field(xml, "//sum1:TipoImpositivo") == ["0", "21"]
    assert field(xml, "//sum1:CuotaRepercutida") == ["0.00", "21.00"]
    assert field(xml, "//sum1:OperacionExenta") == ["E6"]


def test_validate_submission_reports_schema_errors(
    make_alta: Callable[..., RegistrationRecord], issuer: tuple[str, str]
) -> None:
    xml = build_submission(*issuer, [make_alta()])
    broken = xml.replace(b">F1<", b">X9<")
    with pytest.raises(SchemaValidationError, match="TipoFactura") as info:
        validate_submission(broken)
    assert info.value.errors
    with pytest.raises(SchemaValidationError, match="well-formed"):
        validate_submission(b"<not-xml")


def test_submission_size_is_bounded(
    make_alta: Callable[..., RegistrationRecord], issuer: tuple[str, str]
) -> None:
    record = make_alta()
    with pytest.raises(ValueError, match="1 to 1000"):
        build_submission(*issuer, [])
    with pytest.raises(ValueError, match="1 to 1000"):
        build_submission(*issuer, [record] * 1001)


def test_soap_envelope_round_trip(
    make_alta: Callable[..., RegistrationRecord], issuer: tuple[str, str]
) -> None:
    xml = build_submission(*issuer, [make_alta()])
    envelope = soap_wrap(xml)
    assert b"schemas.xmlsoap.org/soap/envelope" in envelope
    assert validate_submission(envelope).tag.endswith("RegFactuSistemaFacturacion")
    c14n = {"method": "c14n", "exclusive": True}
    assert etree.tostring(soap_unwrap(envelope), **c14n) == etree.tostring(
        etree.fromstring(xml), **c14n
    )
    with pytest.raises(SoapFault) as info:
        soap_unwrap(soap_fault("Server", "busy"))
    assert info.value.is_server and info.value.message == "busy"


def test_response_round_trip() -> None:
    answer = SubmissionResponse(
        issuer_name="Empresa de Pruebas SL",
        issuer_nif=NIF,
        wait_seconds=60,
        status="ParcialmenteCorrecto",
        csv="A-Y23JP3582934",
        submitted_at=datetime(2026, 1, 15, 9, 0, 1, tzinfo=UTC),
        lines=(
            ResponseLine(NIF, "F2026-000001", "15-01-2026", "Alta", "Correcto"),
            ResponseLine(NIF, "F2026-000002", "15-01-2026", "Alta", "Incorrecto", 1100, "Mal"),
        ),
    )
    xml = soap_wrap(build_response(answer))
    validate_response(xml)
    assert parse_response(xml) == answer
