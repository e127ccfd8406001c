"""The AEAT query service (ConsultaFactuSistemaFacturacion): the request, the answer, and the
answer's construction for the stand-in.

The issuer asks for the records the AEAT holds for one month (PeriodoImputacion: the month of
FechaOperacion, else of FechaExpedicionFactura); an answer holds up to 10 000 records in
submission order and, when ``IndicadorPaginacion=S``, the key (ClavePaginacion = the last
record's IDFactura) to ask for the next page. Documents are validated against
``ConsultaLR.xsd`` and ``RespuestaConsultaLR.xsd``.

⚠ The record state enumeration: the XSD says Correcto / AceptadoConErrores / Anulado, the AEAT
prose and examples Correcta / AceptadaConErrores / Anulada; answers are parsed in either form
and normalised to the XSD values, which the stand-in writes.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from lxml import etree
from lxml.etree import _Element

from .hashing import format_timestamp
from .records import ID_VERSION
from .xml import _WS, NS_SUM1, _parse, _person, _sub, _validate

NS_QUERY = _WS + "ConsultaLR.xsd"
NS_QUERY_ANSWER = _WS + "RespuestaConsultaLR.xsd"
MAX_PAGE = 10_000
STATES = {
    "Correcto": "Correcto",
    "Correcta": "Correcto",
    "AceptadoConErrores": "AceptadoConErrores",
    "AceptadaConErrores": "AceptadoConErrores",
    "Anulado": "Anulado",
    "Anulada": "Anulado",
}
# DatosRegistroFacturacion of an answer, in XSD order. The four wrappers are declared inside
# RespuestaConsultaLR.xsd, so their direct children are in its namespace too.
ANSWER_FIELDS = (
    "NombreRazonEmisor RefExterna Subsanacion RechazoPrevio SinRegistroPrevio GeneradoPor "
    "Generador TipoFactura TipoRectificativa FacturasRectificadas FacturasSustituidas "
    "ImporteRectificacion FechaOperacion DescripcionOperacion FacturaSimplificadaArt7273 "
    "FacturaSinIdentifDestinatarioArt61d Macrodato EmitidaPorTerceroODestinatario Tercero "
    "Destinatarios Cupon Desglose CuotaTotal ImporteTotal Encadenamiento SistemaInformatico "
    "FechaHoraHusoGenRegistro NumRegistroAcuerdoFacturacion IdAcuerdoSistemaInformatico "
    "TipoHuella Huella NifRepresentante FechaFinVeriFactu Incidencia"
).split()
LOCAL_WRAPPERS = frozenset(
    ("FacturasRectificadas", "FacturasSustituidas", "Destinatarios", "Encadenamiento")
)


def validate_query(xml: bytes | _Element) -> _Element:
    """Validate a ConsultaFactuSistemaFacturacion (bare or enveloped); return its element."""
    return _validate(xml, "ConsultaLR.xsd")


def validate_query_answer(xml: bytes | _Element) -> _Element:
    """Validate a RespuestaConsultaFactuSistemaFacturacion (bare or enveloped)."""
    return _validate(xml, "RespuestaConsultaLR.xsd")


@dataclass(frozen=True)
class PageKey:
    """ClavePaginacion: the IDFactura (dd-mm-yyyy date as the AEAT writes it) to go on after."""

    issuer_nif: str
    number: str
    issue_date: str


def build_query(
    issuer_name: str, issuer_nif: str, year: int, month: int, after: PageKey | None = None
) -> bytes:
    """Return the query for the records of ``year``/``month`` issued by ``issuer_nif``,
    validated against ConsultaLR.xsd; ``after`` asks for the page after that record."""
    if not 1 <= month <= 12:
        raise ValueError("month is 1 to 12")
    root = etree.Element(
        f"{{{NS_QUERY}}}ConsultaFactuSistemaFacturacion",
        nsmap={"con": NS_QUERY, "sum1": NS_SUM1},
    )
    header = _sub(root, NS_QUERY, "Cabecera")
    _sub(header, NS_SUM1, "IDVersion", ID_VERSION)
    _person(header, "ObligadoEmision", issuer_name, issuer_nif)
    query = _sub(root, NS_QUERY, "FiltroConsulta")
    period = _sub(query, NS_QUERY, "PeriodoImputacion")
    _sub(period, NS_SUM1, "Ejercicio", f"{year:04d}")
    _sub(period, NS_SUM1, "Periodo", f"{month:02d}")
    if after is not None:
        key = _sub(query, NS_QUERY, "ClavePaginacion")
        _sub(key, NS_SUM1, "IDEmisorFactura", after.issuer_nif)
        _sub(key, NS_SUM1, "NumSerieFactura", after.number)
        _sub(key, NS_SUM1, "FechaExpedicionFactura", after.issue_date)
    extra = _sub(root, NS_QUERY, "DatosAdicionalesRespuesta")
    _sub(extra, NS_QUERY, "MostrarSistemaInformatico", "S")
    validate_query(root)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


@dataclass(frozen=True)
class QueryRequest:
    """What a query asks (as the stand-in reads it)."""

    issuer_name: str
    issuer_nif: str
    year: int
    month: int
    after: PageKey | None


def _text(node: _Element | None, ns: str, path: str) -> str | None:
    if node is None:
        return None
    steps = "/".join(f"{{{ns}}}{tag}" for tag in path.split("/"))
    found = node.find(steps)
    return None if found is None or found.text is None else found.text.strip()


def parse_query(xml: bytes | _Element) -> QueryRequest:
    """Read a query (validated first: SchemaValidationError if it breaks ConsultaLR.xsd)."""
    root = validate_query(xml)
    issuer = root.find(f"{{{NS_QUERY}}}Cabecera/{{{NS_SUM1}}}ObligadoEmision")
    query = root.find(f"{{{NS_QUERY}}}FiltroConsulta")
    key = query.find(f"{{{NS_QUERY}}}ClavePaginacion") if query is not None else None
    period = query.find(f"{{{NS_QUERY}}}PeriodoImputacion") if query is not None else None
    after = None
    if key is not None:
        after = PageKey(
            _text(key, NS_SUM1, "IDEmisorFactura") or "",
            _text(key, NS_SUM1, "NumSerieFactura") or "",
            _text(key, NS_SUM1, "FechaExpedicionFactura") or "",
        )
    return QueryRequest(
        issuer_name=_text(issuer, NS_SUM1, "NombreRazon") or "",
        issuer_nif=_text(issuer, NS_SUM1, "NIF") or "",
        year=int(_text(period, NS_SUM1, "Ejercicio") or 0),
        month=int(_text(period, NS_SUM1, "Periodo") or 0),
        after=after,
    )


@dataclass(frozen=True)
class HeldRecord:
    """One record as the AEAT holds it (RegistroRespuestaConsultaFactuSistemaFacturacion).

    Amounts and dates are the strings the AEAT answered; ``status`` is normalised to
    Correcto, AceptadoConErrores or Anulado.
    """

    issuer_nif: str
    number: str
    issue_date: str
    status: str
    invoice_type: str | None = None
    tax_total: str | None = None
    total: str | None = None
    hash: str | None = None
    previous_hash: str | None = None
    generated_at: str | None = None
    correction: str | None = None
    previous_rejection: str | None = None
    error_code: int | None = None
    error_description: str | None = None

    @property
    def key(self) -> PageKey:
        return PageKey(self.issuer_nif, self.number, self.issue_date)


@dataclass(frozen=True)
class QueryAnswer:
    """RespuestaConsultaFactuSistemaFacturacion: one page of held records."""

    issuer_name: str
    issuer_nif: str
    year: int
    month: int
    records: tuple[HeldRecord, ...]
    more: bool = False
    next_key: PageKey | None = None


def _previous_hash(data: _Element | None) -> str | None:
    q = NS_QUERY_ANSWER
    link = None if data is None else data.find(f"{{{q}}}Encadenamiento/{{{q}}}RegistroAnterior")
    return _text(link, NS_SUM1, "Huella")


def parse_query_answer(xml: bytes | _Element) -> QueryAnswer:
    """Parse an answer (bare or enveloped). Raises SoapFault for a Fault and
    SchemaValidationError when the answer breaks RespuestaConsultaLR.xsd."""
    q = NS_QUERY_ANSWER
    root = xml if isinstance(xml, _Element) else _parse(xml)
    for node in root.iter(f"{{{q}}}EstadoRegistro"):
        if len(node) == 0 and node.text and node.text.strip() in STATES:
            node.text = STATES[node.text.strip()]  # the prose spelling, before the XSD check
    root = validate_query_answer(root)
    issuer = root.find(f"{{{q}}}Cabecera/{{{NS_SUM1}}}ObligadoEmision")
    records = []
    for node in root.iterfind(f"{{{q}}}RegistroRespuestaConsultaFactuSistemaFacturacion"):
        invoice = node.find(f"{{{q}}}IDFactura")
        data = node.find(f"{{{q}}}DatosRegistroFacturacion")
        state = node.find(f"{{{q}}}EstadoRegistro")
        code = _text(state, q, "CodigoErrorRegistro")
        raw_status = _text(state, q, "EstadoRegistro") or ""
        records.append(
            HeldRecord(
                issuer_nif=_text(invoice, NS_SUM1, "IDEmisorFactura") or "",
                number=_text(invoice, NS_SUM1, "NumSerieFactura") or "",
                issue_date=_text(invoice, NS_SUM1, "FechaExpedicionFactura") or "",
                status=STATES.get(raw_status, raw_status),
                invoice_type=_text(data, q, "TipoFactura"),
                tax_total=_text(data, q, "CuotaTotal"),
                total=_text(data, q, "ImporteTotal"),
                hash=_text(data, q, "Huella"),
                previous_hash=_previous_hash(data),
                generated_at=_text(data, q, "FechaHoraHusoGenRegistro"),
                correction=_text(data, q, "Subsanacion"),
                previous_rejection=_text(data, q, "RechazoPrevio"),
                error_code=int(code) if code else None,
                error_description=_text(state, q, "DescripcionErrorRegistro"),
            )
        )
    key = root.find(f"{{{q}}}ClavePaginacion")
    next_key = None
    if key is not None:
        next_key = PageKey(
            _text(key, NS_SUM1, "IDEmisorFactura") or "",
            _text(key, NS_SUM1, "NumSerieFactura") or "",
            _text(key, NS_SUM1, "FechaExpedicionFactura") or "",
        )
    return QueryAnswer(
        issuer_name=_text(issuer, NS_SUM1, "NombreRazon") or "",
        issuer_nif=_text(issuer, NS_SUM1, "NIF") or "",
        year=int(_text(root, q, "PeriodoImputacion/Ejercicio") or 0),
        month=int(_text(root, q, "PeriodoImputacion/Periodo") or 0),
        records=tuple(records),
        more=_text(root, q, "IndicadorPaginacion") == "S",
        next_key=next_key,
    )


# --- answers, for the stand-in ----------------------------------------------------------------


@dataclass(frozen=True)
class StoredRecord:
    """What a stand-in keeps of a registered invoice: the RegistroAlta (or, for an anulación
    without a prior record, the RegistroAnulacion) element and the state to answer."""

    element: _Element
    status: str
    modified_at: datetime
    submitted_at: datetime
    request_id: str
    presenter_nif: str
    error_code: int | None = None
    error_description: str | None = None


def _copy_field(parent: _Element, source: _Element) -> None:
    local = etree.QName(source).localname
    node = _sub(parent, NS_QUERY_ANSWER, local, source.text)
    for child in source:
        if local in LOCAL_WRAPPERS:
            inner = _sub(node, NS_QUERY_ANSWER, etree.QName(child).localname, child.text)
            inner.extend(copy.deepcopy(grandchild) for grandchild in child)
        else:
            node.append(copy.deepcopy(child))


def build_query_answer(
    issuer_name: str,
    issuer_nif: str,
    year: int,
    month: int,
    records: Sequence[tuple[tuple[str, str, str], StoredRecord]],
    more: bool = False,
) -> bytes:
    """Return the answer for ``records`` ((NIF, number, dd-mm-yyyy), stored record) of the
    period; ``more`` sets IndicadorPaginacion=S and the last record as ClavePaginacion."""
    q = NS_QUERY_ANSWER
    root = etree.Element(
        f"{{{q}}}RespuestaConsultaFactuSistemaFacturacion",
        nsmap={"tikLRRC": q, "sf": NS_SUM1},
    )
    header = _sub(root, q, "Cabecera")
    _sub(header, NS_SUM1, "IDVersion", ID_VERSION)
    _person(header, "ObligadoEmision", issuer_name, issuer_nif)
    period = _sub(root, q, "PeriodoImputacion")
    _sub(period, q, "Ejercicio", f"{year:04d}")
    _sub(period, q, "Periodo", f"{month:02d}")
    _sub(root, q, "IndicadorPaginacion", "S" if more else "N")
    _sub(root, q, "ResultadoConsulta", "ConDatos" if records else "SinDatos")
    for (nif, number, day), stored in records:
        node = _sub(root, q, "RegistroRespuestaConsultaFactuSistemaFacturacion")
        invoice = _sub(node, q, "IDFactura")
        _sub(invoice, NS_SUM1, "IDEmisorFactura", nif)
        _sub(invoice, NS_SUM1, "NumSerieFactura", number)
        _sub(invoice, NS_SUM1, "FechaExpedicionFactura", day)
        data = _sub(node, q, "DatosRegistroFacturacion")
        fields = {etree.QName(child).localname: child for child in stored.element}
        for name in ANSWER_FIELDS:
            if name in fields:
                _copy_field(data, fields[name])
        presented = _sub(node, q, "DatosPresentacion")
        _sub(presented, NS_SUM1, "NIFPresentador", stored.presenter_nif)
        _sub(presented, NS_SUM1, "TimestampPresentacion", format_timestamp(stored.submitted_at))
        _sub(presented, NS_SUM1, "IdPeticion", stored.request_id)
        state = _sub(node, q, "EstadoRegistro")
        _sub(state, q, "TimestampUltimaModificacion", format_timestamp(stored.modified_at))
        _sub(state, q, "EstadoRegistro", stored.status)
        if stored.error_code is not None:
            _sub(state, q, "CodigoErrorRegistro", str(stored.error_code))
        if stored.error_description:
            _sub(state, q, "DescripcionErrorRegistro", stored.error_description[:500])
    if more and records:
        nif, number, day = records[-1][0]
        key = _sub(root, q, "ClavePaginacion")
        _sub(key, NS_SUM1, "IDEmisorFactura", nif)
        _sub(key, NS_SUM1, "NumSerieFactura", number)
        _sub(key, NS_SUM1, "FechaExpedicionFactura", day)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


def parse_xml(xml: bytes) -> _Element:
    """Parse bytes safely (no network, no entities); SchemaValidationError if malformed."""
    return _parse(xml)
