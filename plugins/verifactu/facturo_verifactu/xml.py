"""VERI*FACTU XML: the RegFactuSistemaFacturacion request, the AEAT answer, and SOAP 1.1.

Element order follows the AEAT XSDs in ``xsd/`` (tikeV1.0). Validation is offline: the xmldsig
import of ``SuministroInformacion.xsd`` is resolved to the local copy. The compiled schemas are
cached per process (the only module state).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from pathlib import Path

from lxml import etree
from lxml.etree import _Element

from .hashing import format_amount, format_date, format_rate, format_timestamp
from .records import (
    ID_VERSION,
    CancellationRecord,
    ChainLink,
    InvoiceId,
    Recipient,
    Record,
    RegistrationRecord,
    SoftwareSystem,
    TaxLine,
)

_WS = "https://www2.agenciatributaria.gob.es/static_files/common/internet/dep/aplicaciones/es/aeat/tike/cont/ws/"
NS_SUM = _WS + "SuministroLR.xsd"
NS_SUM1 = _WS + "SuministroInformacion.xsd"
NS_RESP = _WS + "RespuestaSuministro.xsd"
NS_SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
_XMLDSIG_URL = "http://www.w3.org/TR/xmldsig-core/xmldsig-core-schema.xsd"

XSD_DIR = Path(__file__).parent / "xsd"
MAX_RECORDS = 1000


class SchemaValidationError(ValueError):
    """The XML does not conform to the AEAT schema; ``errors`` lists libxml2's messages."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = errors
        shown = "; ".join(errors[:5])
        more = f" (+{len(errors) - 5} more)" if len(errors) > 5 else ""
        super().__init__(f"XML does not match the AEAT schema: {shown}{more}")


class SoapFault(Exception):
    """A SOAP 1.1 Fault; ``code`` is e.g. ``soapenv:Client`` or ``soapenv:Server``."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        self.message = message
        super().__init__(f"{code}: {message}")

    @property
    def is_server(self) -> bool:
        """Return True for a Server fault (the AEAT side failed; the request may be retried)."""
        return self.code.rsplit(":", 1)[-1] == "Server"


# ---------------------------------------------------------------------------------------------
# Schemas


class _LocalXsdResolver(etree.Resolver):  # type: ignore[misc,unused-ignore]
    def resolve(self, system_url: str, public_id: str, context: object) -> object:
        if system_url == _XMLDSIG_URL:
            return self.resolve_filename(str(XSD_DIR / "xmldsig-core-schema.xsd"), context)
        return None


@cache
def _schema(name: str) -> etree.XMLSchema:
    parser = etree.XMLParser(no_network=True)
    parser.resolvers.add(_LocalXsdResolver())
    return etree.XMLSchema(etree.parse(str(XSD_DIR / name), parser))


def _validate(xml: bytes | _Element, schema_name: str) -> _Element:
    root = xml if isinstance(xml, _Element) else _parse(xml)
    if root.tag == f"{{{NS_SOAP}}}Envelope":
        root = soap_unwrap(root)
    schema = _schema(schema_name)
    if not schema.validate(root):
        raise SchemaValidationError([f"line {e.line}: {e.message}" for e in schema.error_log])
    return root


def _parse(xml: bytes) -> _Element:
    try:
        return etree.fromstring(xml, etree.XMLParser(no_network=True, resolve_entities=False))
    except etree.XMLSyntaxError as exc:
        raise SchemaValidationError([f"not well-formed XML: {exc}"]) from exc


def validate_submission(xml: bytes | _Element) -> _Element:
    """Validate a RegFactuSistemaFacturacion (bare or inside a SOAP envelope) against the XSDs.

    Returns the RegFactuSistemaFacturacion element; raises SchemaValidationError listing the
    schema errors (or a SoapFault if the envelope is a Fault).
    """
    return _validate(xml, "SuministroLR.xsd")


def validate_response(xml: bytes | _Element) -> _Element:
    """Validate an AEAT answer (bare or enveloped) the way validate_submission does a request."""
    return _validate(xml, "RespuestaSuministro.xsd")


# ---------------------------------------------------------------------------------------------
# Request


def _sub(parent: _Element, ns: str, tag: str, text: str | None = None) -> _Element:
    node = etree.SubElement(parent, f"{{{ns}}}{tag}")
    if text is not None:
        node.text = text
    return node


def _yes_no(value: bool) -> str:
    return "S" if value else "N"


def _person(parent: _Element, tag: str, name: str, nif: str) -> None:
    node = _sub(parent, NS_SUM1, tag)
    _sub(node, NS_SUM1, "NombreRazon", name)
    _sub(node, NS_SUM1, "NIF", nif)


def _invoice_id(parent: _Element, tag: str, invoice: InvoiceId, suffix: str = "") -> None:
    node = _sub(parent, NS_SUM1, tag)
    _sub(node, NS_SUM1, f"IDEmisorFactura{suffix}", invoice.issuer_nif)
    _sub(node, NS_SUM1, f"NumSerieFactura{suffix}", invoice.number)
    _sub(node, NS_SUM1, f"FechaExpedicionFactura{suffix}", format_date(invoice.issue_date))


def _chain(parent: _Element, previous: ChainLink | None) -> None:
    node = _sub(parent, NS_SUM1, "Encadenamiento")
    if previous is None:
        _sub(node, NS_SUM1, "PrimerRegistro", "S")
        return
    link = _sub(node, NS_SUM1, "RegistroAnterior")
    _sub(link, NS_SUM1, "IDEmisorFactura", previous.invoice.issuer_nif)
    _sub(link, NS_SUM1, "NumSerieFactura", previous.invoice.number)
    _sub(link, NS_SUM1, "FechaExpedicionFactura", format_date(previous.invoice.issue_date))
    _sub(link, NS_SUM1, "Huella", previous.hash)


def _system(parent: _Element, system: SoftwareSystem) -> None:
    node = _sub(parent, NS_SUM1, "SistemaInformatico")
    _sub(node, NS_SUM1, "NombreRazon", system.producer_name)
    _sub(node, NS_SUM1, "NIF", system.producer_nif)
    _sub(node, NS_SUM1, "NombreSistemaInformatico", system.name)
    _sub(node, NS_SUM1, "IdSistemaInformatico", system.system_id)
    _sub(node, NS_SUM1, "Version", system.version)
    _sub(node, NS_SUM1, "NumeroInstalacion", system.installation_number)
    _sub(node, NS_SUM1, "TipoUsoPosibleSoloVerifactu", _yes_no(system.only_verifactu))
    _sub(node, NS_SUM1, "TipoUsoPosibleMultiOT", _yes_no(system.multi_taxpayer_possible))
    _sub(node, NS_SUM1, "IndicadorMultiplesOT", _yes_no(system.multiple_taxpayers))


def _recipient(parent: _Element, recipient: Recipient) -> None:
    node = _sub(parent, NS_SUM1, "IDDestinatario")
    _sub(node, NS_SUM1, "NombreRazon", recipient.name)
    if recipient.nif is not None:
        _sub(node, NS_SUM1, "NIF", recipient.nif)
        return
    assert recipient.foreign_id is not None
    other = _sub(node, NS_SUM1, "IDOtro")
    _sub(other, NS_SUM1, "CodigoPais", recipient.foreign_id.country)
    _sub(other, NS_SUM1, "IDType", recipient.foreign_id.id_type)
    _sub(other, NS_SUM1, "ID", recipient.foreign_id.id)


def _tax_line(parent: _Element, line: TaxLine) -> None:
    node = _sub(parent, NS_SUM1, "DetalleDesglose")
    _sub(node, NS_SUM1, "Impuesto", line.tax)
    _sub(node, NS_SUM1, "ClaveRegimen", line.regime)
    if line.operation is not None:
        _sub(node, NS_SUM1, "CalificacionOperacion", line.operation)
    else:
        _sub(node, NS_SUM1, "OperacionExenta", line.exemption)
    if line.rate is not None:
        _sub(node, NS_SUM1, "TipoImpositivo", format_rate(line.rate))
    _sub(node, NS_SUM1, "BaseImponibleOimporteNoSujeto", format_amount(line.base))
    if line.tax_amount is not None:
        _sub(node, NS_SUM1, "CuotaRepercutida", format_amount(line.tax_amount))


def _registration(parent: _Element, record: RegistrationRecord) -> None:
    node = _sub(parent, NS_SUM1, "RegistroAlta")
    _sub(node, NS_SUM1, "IDVersion", ID_VERSION)
    _invoice_id(node, "IDFactura", record.invoice)
    if record.external_ref is not None:
        _sub(node, NS_SUM1, "RefExterna", record.external_ref)
    _sub(node, NS_SUM1, "NombreRazonEmisor", record.issuer_name)
    if record.correction:
        _sub(node, NS_SUM1, "Subsanacion", "S")
    if record.previous_rejection is not None:
        _sub(node, NS_SUM1, "RechazoPrevio", record.previous_rejection)
    _sub(node, NS_SUM1, "TipoFactura", record.invoice_type)
    if record.rectification_type is not None:
        _sub(node, NS_SUM1, "TipoRectificativa", record.rectification_type)
    if record.rectified:
        group = _sub(node, NS_SUM1, "FacturasRectificadas")
        for invoice in record.rectified:
            _invoice_id(group, "IDFacturaRectificada", invoice)
    if record.substituted:
        group = _sub(node, NS_SUM1, "FacturasSustituidas")
        for invoice in record.substituted:
            _invoice_id(group, "IDFacturaSustituida", invoice)
    if record.rectified_amounts is not None:
        amounts = _sub(node, NS_SUM1, "ImporteRectificacion")
        _sub(amounts, NS_SUM1, "BaseRectificada", format_amount(record.rectified_amounts.base))
        _sub(
            amounts,
            NS_SUM1,
            "CuotaRectificada",
            format_amount(record.rectified_amounts.tax_amount),
        )
    if record.operation_date is not None:
        _sub(node, NS_SUM1, "FechaOperacion", format_date(record.operation_date))
    _sub(node, NS_SUM1, "DescripcionOperacion", record.description)
    if record.recipients:
        group = _sub(node, NS_SUM1, "Destinatarios")
        for recipient in record.recipients:
            _recipient(group, recipient)
    breakdown = _sub(node, NS_SUM1, "Desglose")
    for line in record.tax_lines:
        _tax_line(breakdown, line)
    _sub(node, NS_SUM1, "CuotaTotal", format_amount(record.tax_total))
    _sub(node, NS_SUM1, "ImporteTotal", format_amount(record.total))
    _chain(node, record.previous)
    _system(node, record.system)
    _sub(node, NS_SUM1, "FechaHoraHusoGenRegistro", format_timestamp(record.generated_at))
    _sub(node, NS_SUM1, "TipoHuella", record.hash_type)
    _sub(node, NS_SUM1, "Huella", record.hash)


def _cancellation(parent: _Element, record: CancellationRecord) -> None:
    node = _sub(parent, NS_SUM1, "RegistroAnulacion")
    _sub(node, NS_SUM1, "IDVersion", ID_VERSION)
    _invoice_id(node, "IDFactura", record.invoice, suffix="Anulada")
    if record.external_ref is not None:
        _sub(node, NS_SUM1, "RefExterna", record.external_ref)
    if record.no_prior_record:
        _sub(node, NS_SUM1, "SinRegistroPrevio", "S")
    if record.previous_rejection:
        _sub(node, NS_SUM1, "RechazoPrevio", "S")
    _chain(node, record.previous)
    _system(node, record.system)
    _sub(node, NS_SUM1, "FechaHoraHusoGenRegistro", format_timestamp(record.generated_at))
    _sub(node, NS_SUM1, "TipoHuella", record.hash_type)
    _sub(node, NS_SUM1, "Huella", record.hash)


def build_submission_element(
    issuer_name: str,
    issuer_nif: str,
    records: Sequence[Record],
    *,
    incident: bool = False,
    end_date: date | None = None,
) -> _Element:
    """Return the RegFactuSistemaFacturacion element; see build_submission."""
    if not 1 <= len(records) <= MAX_RECORDS:
        raise ValueError(f"a submission holds 1 to {MAX_RECORDS} records, not {len(records)}")
    root = etree.Element(
        f"{{{NS_SUM}}}RegFactuSistemaFacturacion", nsmap={"sum": NS_SUM, "sum1": NS_SUM1}
    )
    header = _sub(root, NS_SUM, "Cabecera")
    _person(header, "ObligadoEmision", issuer_name, issuer_nif)
    if incident or end_date is not None:
        voluntary = _sub(header, NS_SUM1, "RemisionVoluntaria")
        if end_date is not None:
            _sub(voluntary, NS_SUM1, "FechaFinVeriFactu", format_date(end_date))
        if incident:
            _sub(voluntary, NS_SUM1, "Incidencia", "S")
    for record in records:
        item = _sub(root, NS_SUM, "RegistroFactura")
        if isinstance(record, RegistrationRecord):
            _registration(item, record)
        else:
            _cancellation(item, record)
    return root


def build_submission(
    issuer_name: str,
    issuer_nif: str,
    records: Sequence[Record],
    *,
    incident: bool = False,
    end_date: date | None = None,
) -> bytes:
    """Return the UTF-8 RegFactuSistemaFacturacion document for 1 to 1 000 records.

    ``issuer_name``/``issuer_nif`` form Cabecera/ObligadoEmision. ``incident`` sets
    RemisionVoluntaria/Incidencia=S, for records sent late after an outage; ``end_date`` sets
    RemisionVoluntaria/FechaFinVeriFactu (leaving VERI*FACTU; see
    :func:`facturo_verifactu.records.verifactu_end_date`). Records go in the order given,
    which should be chain order.
    """
    root = build_submission_element(
        issuer_name, issuer_nif, records, incident=incident, end_date=end_date
    )
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


# ---------------------------------------------------------------------------------------------
# SOAP


def soap_wrap(body: bytes | _Element) -> bytes:
    """Return a SOAP 1.1 envelope (UTF-8) whose Body holds ``body``."""
    payload = body if isinstance(body, _Element) else _parse(body)
    envelope = etree.Element(f"{{{NS_SOAP}}}Envelope", nsmap={"soapenv": NS_SOAP})
    _sub(envelope, NS_SOAP, "Header")
    _sub(envelope, NS_SOAP, "Body").append(payload)
    return bytes(etree.tostring(envelope, xml_declaration=True, encoding="UTF-8"))


def soap_unwrap(envelope: bytes | _Element) -> _Element:
    """Return the element inside a SOAP 1.1 Body; raise SoapFault if it is a Fault.

    Raises SchemaValidationError if the input is not a SOAP envelope with one body element.
    """
    root = envelope if isinstance(envelope, _Element) else _parse(envelope)
    body = root.find(f"{{{NS_SOAP}}}Body")
    if root.tag != f"{{{NS_SOAP}}}Envelope" or body is None or len(body) != 1:
        raise SchemaValidationError(["not a SOAP 1.1 envelope with one body element"])
    payload = body[0]
    if payload.tag == f"{{{NS_SOAP}}}Fault":
        raise SoapFault(
            payload.findtext("faultcode", default="").strip(),
            payload.findtext("faultstring", default="").strip(),
        )
    return payload


def soap_fault(code: str, message: str) -> bytes:
    """Return a SOAP 1.1 envelope holding a Fault; ``code`` is ``Client`` or ``Server``."""
    envelope = etree.Element(f"{{{NS_SOAP}}}Envelope", nsmap={"soapenv": NS_SOAP})
    fault = _sub(_sub(envelope, NS_SOAP, "Body"), NS_SOAP, "Fault")
    etree.SubElement(fault, "faultcode").text = f"soapenv:{code}"
    etree.SubElement(fault, "faultstring").text = message
    return bytes(etree.tostring(envelope, xml_declaration=True, encoding="UTF-8"))


# ---------------------------------------------------------------------------------------------
# Response


@dataclass(frozen=True)
class ResponseLine:
    """RespuestaLinea: the AEAT verdict on one record.

    ``status`` is Correcto, AceptadoConErrores or Incorrecto; ``operation`` Alta or Anulacion.
    The date is kept as the AEAT wrote it (dd-mm-yyyy).
    """

    issuer_nif: str
    number: str
    issue_date: str
    operation: str
    status: str
    error_code: int | None = None
    error_description: str | None = None
    external_ref: str | None = None

    @property
    def key(self) -> tuple[str, str, str, str]:
        """Return (NIF, number, dd-mm-yyyy date, operation), the key matching a sent record."""
        return (self.issuer_nif, self.number, self.issue_date, self.operation)


@dataclass(frozen=True)
class SubmissionResponse:
    """RespuestaRegFactuSistemaFacturacion: the AEAT answer to one submission.

    ``status`` (EstadoEnvio) is Correcto, ParcialmenteCorrecto or Incorrecto; ``wait_seconds``
    (TiempoEsperaEnvio) is how long to wait before the next submission unless 1 000 records are
    pending; ``csv`` is the secure verification code, present when something was accepted.
    """

    issuer_name: str
    issuer_nif: str
    wait_seconds: int
    status: str
    lines: tuple[ResponseLine, ...]
    csv: str | None = None
    submitted_at: datetime | None = None


def record_key(record: Record) -> tuple[str, str, str, str]:
    """Return the key of ``record`` as the AEAT answer lines identify it (see ResponseLine.key)."""
    operation = "Alta" if isinstance(record, RegistrationRecord) else "Anulacion"
    invoice = record.invoice
    return (invoice.issuer_nif, invoice.number, format_date(invoice.issue_date), operation)


def _text(node: _Element, ns: str, tag: str) -> str | None:
    found = node.find(f"{{{ns}}}{tag}")
    return None if found is None or found.text is None else found.text.strip()


def parse_response(xml: bytes | _Element) -> SubmissionResponse:
    """Parse an AEAT answer (bare or in a SOAP envelope) into a SubmissionResponse.

    Raises SoapFault for a Fault and SchemaValidationError if the answer breaks the schema.
    """
    root = validate_response(xml)
    header = root.find(f"{{{NS_RESP}}}Cabecera/{{{NS_SUM1}}}ObligadoEmision")
    assert header is not None  # guaranteed by the schema
    lines = []
    for node in root.iterfind(f"{{{NS_RESP}}}RespuestaLinea"):
        invoice = node.find(f"{{{NS_RESP}}}IDFactura")
        operation = node.find(f"{{{NS_RESP}}}Operacion")
        assert invoice is not None and operation is not None
        code = _text(node, NS_RESP, "CodigoErrorRegistro")
        lines.append(
            ResponseLine(
                issuer_nif=_text(invoice, NS_SUM1, "IDEmisorFactura") or "",
                number=_text(invoice, NS_SUM1, "NumSerieFactura") or "",
                issue_date=_text(invoice, NS_SUM1, "FechaExpedicionFactura") or "",
                operation=_text(operation, NS_SUM1, "TipoOperacion") or "",
                status=_text(node, NS_RESP, "EstadoRegistro") or "",
                error_code=int(code) if code else None,
                error_description=_text(node, NS_RESP, "DescripcionErrorRegistro"),
                external_ref=_text(node, NS_RESP, "RefExterna"),
            )
        )
    submitted = root.find(f"{{{NS_RESP}}}DatosPresentacion/{{{NS_SUM1}}}TimestampPresentacion")
    return SubmissionResponse(
        issuer_name=_text(header, NS_SUM1, "NombreRazon") or "",
        issuer_nif=_text(header, NS_SUM1, "NIF") or "",
        wait_seconds=int(_text(root, NS_RESP, "TiempoEsperaEnvio") or "0"),
        status=_text(root, NS_RESP, "EstadoEnvio") or "",
        lines=tuple(lines),
        csv=_text(root, NS_RESP, "CSV"),
        submitted_at=(
            datetime.fromisoformat(submitted.text.strip())
            if submitted is not None and submitted.text
            else None
        ),
    )


def build_response(response: SubmissionResponse) -> bytes:
    """Return the RespuestaRegFactuSistemaFacturacion document for ``response`` (for stand-ins)."""
    root = etree.Element(
        f"{{{NS_RESP}}}RespuestaRegFactuSistemaFacturacion",
        nsmap={"tikR": NS_RESP, "tik": NS_SUM1},
    )
    if response.csv is not None:
        _sub(root, NS_RESP, "CSV", response.csv)
        if response.submitted_at is not None:
            data = _sub(root, NS_RESP, "DatosPresentacion")
            _sub(data, NS_SUM1, "NIFPresentador", response.issuer_nif)
            _sub(data, NS_SUM1, "TimestampPresentacion", format_timestamp(response.submitted_at))
    header = _sub(root, NS_RESP, "Cabecera")
    _person(header, "ObligadoEmision", response.issuer_name, response.issuer_nif)
    _sub(root, NS_RESP, "TiempoEsperaEnvio", str(response.wait_seconds))
    _sub(root, NS_RESP, "EstadoEnvio", response.status)
    for line in response.lines:
        node = _sub(root, NS_RESP, "RespuestaLinea")
        invoice = _sub(node, NS_RESP, "IDFactura")
        _sub(invoice, NS_SUM1, "IDEmisorFactura", line.issuer_nif)
        _sub(invoice, NS_SUM1, "NumSerieFactura", line.number)
        _sub(invoice, NS_SUM1, "FechaExpedicionFactura", line.issue_date)
        operation = _sub(node, NS_RESP, "Operacion")
        _sub(operation, NS_SUM1, "TipoOperacion", line.operation)
        if line.external_ref is not None:
            _sub(node, NS_RESP, "RefExterna", line.external_ref)
        _sub(node, NS_RESP, "EstadoRegistro", line.status)
        if line.error_code is not None:
            _sub(node, NS_RESP, "CodigoErrorRegistro", str(line.error_code))
        if line.error_description is not None:
            _sub(node, NS_RESP, "DescripcionErrorRegistro", line.error_description)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))
