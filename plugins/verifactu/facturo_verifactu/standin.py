"""A local stand-in for the AEAT VERI*FACTU SOAP endpoint, for development and tests.

It speaks the real protocol: SOAP 1.1 over POST, the request validated against the AEAT XSDs,
an answer that validates against ``RespuestaSuministro.xsd``. What it answers is driven by
markers in each record's DescripcionOperacion (anulaciones carry no description and are
accepted), so a test picks the outcome through ordinary data:

- ``reject_marker``: the record is Incorrecto with ``reject_code``;
- ``warn_marker``: the record is AceptadoConErrores with ``warn_code``;
- ``unavailable_marker``: the whole request gets HTTP 503 and no body (retryable);
- ``server_fault_marker``: the whole request gets a ``soapenv:Server`` Fault (retryable).

Like the AEAT it also recomputes each record's huella from the XML and answers
AceptadoConErrores when it differs, rejects an alta already accepted (``duplicate_code``), and
answers a schema-invalid request with a ``soapenv:Client`` Fault. The error codes are the
stand-in's own defaults, not a copy of the AEAT error list. Each call of :func:`standin_routes`
keeps its own memory of accepted records.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

from lxml import etree
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .hashing import cancellation_hash, registration_hash
from .xml import (
    NS_SUM,
    NS_SUM1,
    ResponseLine,
    SchemaValidationError,
    SoapFault,
    SubmissionResponse,
    build_response,
    soap_fault,
    soap_unwrap,
    soap_wrap,
    validate_submission,
)

_XML = "text/xml; charset=utf-8"


def _text(node: etree._Element, path: str) -> str:
    """Return the stripped text at ``path`` (tags in the SuministroInformacion namespace)."""
    steps = "/".join(f"{{{NS_SUM1}}}{tag}" for tag in path.split("/"))
    return (node.findtext(steps) or "").strip()


def _recomputed_hash(record: etree._Element, alta: bool) -> str:
    previous = _text(record, "Encadenamiento/RegistroAnterior/Huella")
    if alta:
        return registration_hash(
            _text(record, "IDFactura/IDEmisorFactura"),
            _text(record, "IDFactura/NumSerieFactura"),
            _text(record, "IDFactura/FechaExpedicionFactura"),
            _text(record, "TipoFactura"),
            _text(record, "CuotaTotal"),
            _text(record, "ImporteTotal"),
            previous,
            _text(record, "FechaHoraHusoGenRegistro"),
        )
    return cancellation_hash(
        _text(record, "IDFactura/IDEmisorFacturaAnulada"),
        _text(record, "IDFactura/NumSerieFacturaAnulada"),
        _text(record, "IDFactura/FechaExpedicionFacturaAnulada"),
        previous,
        _text(record, "FechaHoraHusoGenRegistro"),
    )


def standin_routes(
    path: str = "/wlpl/TIKE-CONT/ws/SistemaFacturacion/VerifactuSOAP",
    *,
    wait_seconds: int = 60,
    reject_marker: str = "#AEAT-REJECT",
    reject_code: int = 1100,
    warn_marker: str = "#AEAT-WARN",
    warn_code: int = 2000,
    unavailable_marker: str = "#AEAT-503",
    server_fault_marker: str = "#AEAT-FAULT",
    duplicate_code: int = 3000,
) -> list[Route]:
    """Return Starlette routes serving a stand-in AEAT endpoint at ``path`` (POST only).

    ``wait_seconds`` is the TiempoEsperaEnvio of every answer. See the module docstring for the
    markers; the defaults never occur in real invoice descriptions.
    """
    accepted: set[tuple[str, str, str]] = set()
    csv_counter = itertools.count(1)

    def verdict(record: etree._Element, alta: bool) -> tuple[str, int | None, str | None]:
        description = _text(record, "DescripcionOperacion")
        if alta and reject_marker in description:
            return "Incorrecto", reject_code, "Registro rechazado por el simulador."
        if alta:
            key = (
                _text(record, "IDFactura/IDEmisorFactura"),
                _text(record, "IDFactura/NumSerieFactura"),
                _text(record, "IDFactura/FechaExpedicionFactura"),
            )
            is_resend = _text(record, "Subsanacion") == "S" or _text(record, "RechazoPrevio")
            if key in accepted and not is_resend:
                return "Incorrecto", duplicate_code, "Registro de facturación duplicado."
            accepted.add(key)
        if _recomputed_hash(record, alta) != _text(record, "Huella"):
            return "AceptadoConErrores", warn_code, "La huella no coincide con la calculada."
        if alta and warn_marker in description:
            return "AceptadoConErrores", warn_code, "Registro aceptado con errores (simulador)."
        return "Correcto", None, None

    async def endpoint(request: Request) -> Response:
        body = await request.body()
        try:
            submission = validate_submission(soap_unwrap(body))
        except (SchemaValidationError, SoapFault) as exc:
            return Response(soap_fault("Client", str(exc)), status_code=500, media_type=_XML)
        descriptions = " ".join(
            (node.text or "") for node in submission.iter(f"{{{NS_SUM1}}}DescripcionOperacion")
        )
        if unavailable_marker in descriptions:
            return Response(b"Service Unavailable", status_code=503, media_type="text/plain")
        if server_fault_marker in descriptions:
            fault = soap_fault("Server", "Error interno del simulador; reintente más tarde.")
            return Response(fault, status_code=500, media_type=_XML)

        issuer = submission.find(f"{{{NS_SUM}}}Cabecera/{{{NS_SUM1}}}ObligadoEmision")
        assert issuer is not None  # guaranteed by the schema
        lines = []
        for item in submission.iterfind(f"{{{NS_SUM}}}RegistroFactura"):
            record = item[0]
            alta = record.tag == f"{{{NS_SUM1}}}RegistroAlta"
            suffix = "" if alta else "Anulada"
            status, code, message = verdict(record, alta)
            lines.append(
                ResponseLine(
                    issuer_nif=_text(record, f"IDFactura/IDEmisorFactura{suffix}"),
                    number=_text(record, f"IDFactura/NumSerieFactura{suffix}"),
                    issue_date=_text(record, f"IDFactura/FechaExpedicionFactura{suffix}"),
                    operation="Alta" if alta else "Anulacion",
                    status=status,
                    error_code=code,
                    error_description=message,
                    external_ref=_text(record, "RefExterna") or None,
                )
            )
        statuses = {line.status for line in lines}
        if statuses == {"Correcto"}:
            overall = "Correcto"
        elif statuses == {"Incorrecto"}:
            overall = "Incorrecto"
        else:
            overall = "ParcialmenteCorrecto"
        any_accepted = overall != "Incorrecto"
        answer = SubmissionResponse(
            issuer_name=_text(issuer, "NombreRazon"),
            issuer_nif=_text(issuer, "NIF"),
            wait_seconds=wait_seconds,
            status=overall,
            lines=tuple(lines),
            csv=f"SIM{next(csv_counter):013d}" if any_accepted else None,
            submitted_at=datetime.now(UTC) if any_accepted else None,
        )
        return Response(soap_wrap(build_response(answer)), media_type=_XML)

    return [Route(path, endpoint, methods=["POST"])]
