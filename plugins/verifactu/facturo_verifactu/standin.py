"""A local stand-in for the AEAT VERI*FACTU SOAP endpoint, for development and tests.

It speaks the real protocol on one address, like the AEAT's ``sfVerifactu`` port: SOAP 1.1
POSTs of ``RegFactuSistemaFacturacion`` (validated against the AEAT XSDs, answered with a
``RespuestaRegFactuSistemaFacturacion``) and of ``ConsultaFactuSistemaFacturacion`` (answered
from what it holds with a ``RespuestaConsultaFactuSistemaFacturacion``, paged).

What it answers to a submission is driven by markers in each record's DescripcionOperacion
(anulaciones carry no description), so a test picks the outcome through ordinary data:

- ``reject_marker``: the record is Incorrecto with ``reject_code``;
- ``warn_marker``: the record is AceptadoConErrores with ``warn_code``;
- ``unavailable_marker``: the whole request gets HTTP 503 and no body (retryable);
- ``server_fault_marker``: the whole request gets a ``soapenv:Server`` Fault (retryable).

Like the AEAT it keeps every registered record and applies the correction flags (Validaciones
§6): a plain alta of a registered invoice is a duplicate; ``Subsanacion=S`` replaces a
registered record (reactivating an anulled one), with ``RechazoPrevio=X`` it registers one the
AEAT never accepted; RechazoPrevio S or X without Subsanacion is refused; an anulación needs the
record unless ``SinRegistroPrevio=S``, which records it as anulled. It recomputes each huella
and answers AceptadoConErrores when it differs, checks CuotaTotal and ImporteTotal against the
breakdown (±10 €, Validaciones v1.1.9), checks FechaFinVeriFactu (31-12 of this or the previous
year from 2027, v1.2.0), and answers a schema-invalid request with a ``soapenv:Client`` Fault.
The error codes are the stand-in's own defaults, not a copy of the AEAT list.

Tests plant differences between what it holds and the local chain with :meth:`StandIn.tamper`
and :meth:`StandIn.forget`.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation

from lxml import etree
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .hashing import cancellation_hash, format_date, registration_hash
from .query import NS_QUERY, StoredRecord, build_query_answer, parse_query
from .records import fixed_end_date_problem
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
Key = tuple[str, str, str]
TOTALS_TOLERANCE = Decimal("10.00")
# ClaveRegimen values for which the AEAT skips the CuotaTotal check (Validaciones v1.1.9).
UNCHECKED_REGIMES = frozenset(("03", "05", "06", "08", "09"))


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


def _amount(node: etree._Element, path: str) -> Decimal:
    try:
        return Decimal(_text(node, path) or "0")
    except InvalidOperation:
        return Decimal("0")


def totals_problem(record: etree._Element) -> str | None:
    """Which total of an alta disagrees with its breakdown beyond ±10 €, if any."""
    lines = record.findall(f"{{{NS_SUM1}}}Desglose/{{{NS_SUM1}}}DetalleDesglose")
    quotas = sum(
        (_amount(x, "CuotaRepercutida") + _amount(x, "CuotaRecargoEquivalencia") for x in lines),
        Decimal(0),
    )
    gross = quotas + sum((_amount(x, "BaseImponibleOimporteNoSujeto") for x in lines), Decimal(0))
    regimes = {_text(x, "ClaveRegimen") for x in lines}
    if (
        not regimes <= UNCHECKED_REGIMES
        and abs(_amount(record, "CuotaTotal") - quotas) > TOTALS_TOLERANCE
    ):
        return "CuotaTotal"
    if abs(_amount(record, "ImporteTotal") - gross) > TOTALS_TOLERANCE:
        return "ImporteTotal"
    return None


def _period(record: etree._Element, alta: bool) -> tuple[int, int]:
    """Ejercicio and month of PeriodoImputacion: of FechaOperacion, else of the issue date."""
    suffix = "" if alta else "Anulada"
    day = _text(record, "FechaOperacion") or _text(
        record, f"IDFactura/FechaExpedicionFactura{suffix}"
    )
    parsed = datetime.strptime(day, "%d-%m-%Y")
    return parsed.year, parsed.month


class StandIn:
    """The stand-in service and the records it holds (see the module docstring)."""

    def __init__(
        self,
        *,
        wait_seconds: int = 60,
        reject_marker: str = "#AEAT-REJECT",
        reject_code: int = 1100,
        warn_marker: str = "#AEAT-WARN",
        warn_code: int = 2000,
        unavailable_marker: str = "#AEAT-503",
        server_fault_marker: str = "#AEAT-FAULT",
        duplicate_code: int = 3000,
        missing_code: int = 3001,
        missing_cancelled_code: int = 3002,
        flags_code: int = 1153,
        totals_codes: tuple[int, int] = (2005, 2006),
        end_date_code: int = 4120,
        page_size: int = 10_000,
        today: Callable[[], date] | None = None,
    ) -> None:
        self.wait_seconds = wait_seconds
        self.reject_marker, self.reject_code = reject_marker, reject_code
        self.warn_marker, self.warn_code = warn_marker, warn_code
        self.unavailable_marker = unavailable_marker
        self.server_fault_marker = server_fault_marker
        self.duplicate_code, self.missing_code = duplicate_code, missing_code
        self.missing_cancelled_code, self.flags_code = missing_cancelled_code, flags_code
        self.totals_codes, self.end_date_code = totals_codes, end_date_code
        self.page_size = page_size
        self.today = today or (lambda: datetime.now(UTC).date())
        #: Registered records by (NIF, number, dd-mm-yyyy), in first-submission order.
        self.held: dict[Key, StoredRecord] = {}
        self.periods: dict[Key, tuple[int, int]] = {}
        self._csv = itertools.count(1)
        self._requests = itertools.count(1)

    # --- planting differences (tests) ---------------------------------------------------------

    def tamper(self, issuer_nif: str, number: str, issue_date: date, **fields: str) -> None:
        """Change fields (e.g. ``ImporteTotal="999.00"``, ``Huella=…``) of a held record, or its
        state with ``EstadoRegistro="Anulado"``; KeyError if the AEAT does not hold it."""
        key = (issuer_nif, number, format_date(issue_date))
        stored = self.held[key]
        status = fields.pop("EstadoRegistro", stored.status)
        element = etree.fromstring(etree.tostring(stored.element))
        for name, value in fields.items():
            node = element.find(f"{{{NS_SUM1}}}{name}")
            if node is None:
                raise KeyError(name)
            node.text = value
        self.held[key] = replace(stored, element=element, status=status)

    def forget(self, issuer_nif: str, number: str, issue_date: date) -> None:
        """Drop a held record, as if the AEAT had never registered it."""
        key = (issuer_nif, number, format_date(issue_date))
        del self.held[key]
        del self.periods[key]

    # --- submissions --------------------------------------------------------------------------

    def _store(
        self,
        key: Key,
        record: etree._Element,
        status: str,
        presenter: str,
        code: int | None,
        message: str | None,
        alta: bool,
    ) -> None:
        now = datetime.now(UTC).replace(microsecond=0)
        previous = self.held.get(key)
        self.held[key] = StoredRecord(
            element=record,
            status=status,
            modified_at=now,
            submitted_at=previous.submitted_at if previous else now,
            request_id=f"SIM{next(self._requests):09d}",
            presenter_nif=presenter,
            error_code=code,
            error_description=message,
        )
        self.periods[key] = _period(record, alta)

    def _alta(
        self, key: Key, record: etree._Element, presenter: str
    ) -> tuple[str, int | None, str | None]:
        description = _text(record, "DescripcionOperacion")
        correction = _text(record, "Subsanacion") == "S"
        rejection = _text(record, "RechazoPrevio")
        if rejection in ("S", "X") and not correction:
            return "Incorrecto", self.flags_code, "RechazoPrevio S o X solo con Subsanacion=S."
        if self.reject_marker in description:
            return "Incorrecto", self.reject_code, "Registro rechazado por el simulador."
        exists = key in self.held
        if exists and (not correction or rejection == "X"):
            return "Incorrecto", self.duplicate_code, "Registro de facturación duplicado."
        if not exists and correction and rejection != "X":
            return "Incorrecto", self.missing_code, "No existe el registro que se subsana."
        verdict: tuple[str, int | None, str | None] = ("Correcto", None, None)
        problem = totals_problem(record)
        if problem is not None:
            code = self.totals_codes[0 if problem == "CuotaTotal" else 1]
            verdict = ("AceptadoConErrores", code, f"{problem} no cuadra con el desglose.")
        elif _recomputed_hash(record, True) != _text(record, "Huella"):
            verdict = (
                "AceptadoConErrores",
                self.warn_code,
                "La huella no coincide con la calculada.",
            )
        elif self.warn_marker in description:
            verdict = (
                "AceptadoConErrores",
                self.warn_code,
                "Registro aceptado con errores (simulador).",
            )
        self._store(key, record, verdict[0], presenter, verdict[1], verdict[2], True)
        return verdict

    def _anulacion(
        self, key: Key, record: etree._Element, presenter: str
    ) -> tuple[str, int | None, str | None]:
        no_prior = _text(record, "SinRegistroPrevio") == "S"
        stored = self.held.get(key)
        if no_prior and stored is not None:
            return "Incorrecto", self.duplicate_code, "El registro existe: sobra SinRegistroPrevio."
        if not no_prior and stored is None:
            return "Incorrecto", self.missing_cancelled_code, "No existe el registro que se anula."
        if stored is None:
            self._store(key, record, "Anulado", presenter, None, None, False)
        else:
            self.held[key] = replace(
                stored, status="Anulado", modified_at=datetime.now(UTC).replace(microsecond=0)
            )
        if _recomputed_hash(record, False) != _text(record, "Huella"):
            return "AceptadoConErrores", self.warn_code, "La huella no coincide con la calculada."
        return "Correcto", None, None

    def _submission(self, submission: etree._Element) -> Response:
        descriptions = " ".join(
            (node.text or "") for node in submission.iter(f"{{{NS_SUM1}}}DescripcionOperacion")
        )
        if self.unavailable_marker in descriptions:
            return Response(b"Service Unavailable", status_code=503, media_type="text/plain")
        if self.server_fault_marker in descriptions:
            fault = soap_fault("Server", "Error interno del simulador; reintente más tarde.")
            return Response(fault, status_code=500, media_type=_XML)
        header = submission.find(f"{{{NS_SUM}}}Cabecera")
        assert header is not None  # guaranteed by the schema
        issuer = header.find(f"{{{NS_SUM1}}}ObligadoEmision")
        assert issuer is not None
        end_problem = fixed_end_date_problem(
            _text(header, "RemisionVoluntaria/FechaFinVeriFactu"), self.today()
        )
        lines = []
        for item in submission.iterfind(f"{{{NS_SUM}}}RegistroFactura"):
            record = item[0]
            alta = record.tag == f"{{{NS_SUM1}}}RegistroAlta"
            suffix = "" if alta else "Anulada"
            key = (
                _text(record, f"IDFactura/IDEmisorFactura{suffix}"),
                _text(record, f"IDFactura/NumSerieFactura{suffix}"),
                _text(record, f"IDFactura/FechaExpedicionFactura{suffix}"),
            )
            presenter = _text(issuer, "NIF")
            code: int | None
            message: str | None
            if end_problem is not None:
                status, code, message = "Incorrecto", self.end_date_code, end_problem
            elif alta:
                status, code, message = self._alta(key, record, presenter)
            else:
                status, code, message = self._anulacion(key, record, presenter)
            lines.append(
                ResponseLine(
                    issuer_nif=key[0],
                    number=key[1],
                    issue_date=key[2],
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
            wait_seconds=self.wait_seconds,
            status=overall,
            lines=tuple(lines),
            csv=f"SIM{next(self._csv):013d}" if any_accepted else None,
            submitted_at=datetime.now(UTC) if any_accepted else None,
        )
        return Response(soap_wrap(build_response(answer)), media_type=_XML)

    # --- queries ------------------------------------------------------------------------------

    def _query(self, body: etree._Element) -> Response:
        asked = parse_query(body)
        found = [
            (key, stored)
            for key, stored in self.held.items()
            if key[0] == asked.issuer_nif and self.periods[key] == (asked.year, asked.month)
        ]
        if asked.after is not None:
            after = (asked.after.issuer_nif, asked.after.number, asked.after.issue_date)
            keys = [key for key, _stored in found]
            found = found[keys.index(after) + 1 :] if after in keys else []
        page = found[: self.page_size]
        answer = build_query_answer(
            asked.issuer_name,
            asked.issuer_nif,
            asked.year,
            asked.month,
            page,
            more=len(found) > len(page),
        )
        return Response(soap_wrap(answer), media_type=_XML)

    # --- the endpoint -------------------------------------------------------------------------

    async def endpoint(self, request: Request) -> Response:
        body = await request.body()
        try:
            payload = soap_unwrap(body)
            if payload.tag == f"{{{NS_QUERY}}}ConsultaFactuSistemaFacturacion":
                return self._query(payload)
            return self._submission(validate_submission(payload))
        except (SchemaValidationError, SoapFault) as exc:
            return Response(soap_fault("Client", str(exc)), status_code=500, media_type=_XML)

    def routes(
        self, path: str = "/wlpl/TIKE-CONT/ws/SistemaFacturacion/VerifactuSOAP"
    ) -> list[Route]:
        """Starlette routes serving this stand-in at ``path`` (POST only)."""
        return [Route(path, self.endpoint, methods=["POST"])]


def standin_routes(
    path: str = "/wlpl/TIKE-CONT/ws/SistemaFacturacion/VerifactuSOAP", **options: object
) -> list[Route]:
    """Routes of a new :class:`StandIn` (``options`` are its keyword arguments) at ``path``."""
    return StandIn(**options).routes(path)  # type: ignore[arg-type]
