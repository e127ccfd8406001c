"""The VIES ``checkVatApprox`` SOAP message: building the request, reading the answer.

Hand-built on the standard library rather than a SOAP toolkit: the plugin sends one fixed
document/literal envelope and reads about fifteen elements or a fault, so a WSDL-driven client
(zeep: lxml, requests, a WSDL fetch or copy) would bring far more than it saves. Answers are
parsed by namespace, whatever prefixes the server uses; documents with a DTD are refused so no
entity is ever expanded.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
TYPES_NS = "urn:ec.europa.eu:taxud:vies:services:checkVat:types"
#: The path of the service below the host, for the live service and the local stand-in alike.
SERVICE_PATH = "/taxation_customs/vies/services/checkVatService"
#: ⚠ The production endpoint (the WSDL still says http://; https is what works).
LIVE_ENDPOINT = "https://ec.europa.eu" + SERVICE_PATH

COUNTRY_PATTERN = re.compile(r"^[A-Z]{2}$")
NUMBER_PATTERN = re.compile(r"^[0-9A-Za-z+*.]{2,12}$")

#: Faults after which the answer is unknown and asking again later makes sense.
RETRYABLE_FAULTS = frozenset(
    {
        "SERVICE_UNAVAILABLE",
        "MS_UNAVAILABLE",
        "TIMEOUT",
        "SERVER_BUSY",
        "GLOBAL_MAX_CONCURRENT_REQ",
        "GLOBAL_MAX_CONCURRENT_REQ_TIME",
        "MS_MAX_CONCURRENT_REQ",
        "MS_MAX_CONCURRENT_REQ_TIME",
    }
)
#: Faults that asking again will not change (bad input, our own VAT number, blocked).
PERMANENT_FAULTS = frozenset(
    {"INVALID_INPUT", "INVALID_REQUESTER_INFO", "VAT_BLOCKED", "IP_BLOCKED"}
)
MAX_ANSWER_BYTES = 64 * 1024

_FIELDS = (
    "countryCode",
    "vatNumber",
    "requestDate",
    "valid",
    "traderName",
    "traderCompanyType",
    "traderAddress",
    "traderStreet",
    "traderPostcode",
    "traderCity",
    "requestIdentifier",
)


class ProtocolError(ValueError):
    """The message is not a checkVatApprox request or answer."""


@dataclass(frozen=True)
class Request:
    """What is asked: the number (country prefix apart) and who asks (the seller)."""

    country: str
    number: str
    requester_country: str
    requester_number: str


@dataclass(frozen=True)
class Answer:
    """A ``checkVatApproxResponse``: ``valid`` and the consultation number, name and address."""

    country: str
    number: str
    request_date: str
    valid: bool
    request_identifier: str = ""
    trader_name: str = ""
    trader_address: str = ""
    extra: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Fault:
    """A SOAP fault: ``code`` is the faultstring VIES uses as its error code."""

    code: str
    faultcode: str = "soap:Server"

    @property
    def retryable(self) -> bool:
        """True unless asking again cannot change the answer (bad input, blocked)."""
        return self.code not in PERMANENT_FAULTS


def split_number(country: str, number: str) -> tuple[str, str]:
    """The VIES country code (EL for Greece) and the number without prefix or separators."""
    code = "EL" if country.upper() == "GR" else country.upper()
    compact = re.sub(r"[\s\-./]", "", number).upper()
    if compact.startswith(code) or (code == "EL" and compact.startswith("GR")):
        compact = compact[2:]
    return code, compact


def check_input(request: Request) -> None:
    """Raise ProtocolError when VIES would answer INVALID_INPUT for ``request``."""
    for code, value in (
        (request.country, request.number),
        (request.requester_country, request.requester_number),
    ):
        if not COUNTRY_PATTERN.match(code) or not NUMBER_PATTERN.match(value):
            raise ProtocolError(f"not a VIES country and number: {code} {value}")


def _elements(prefix: str, fields: list[tuple[str, str]]) -> str:
    return "".join(f"<{prefix}:{name}>{escape(value)}</{prefix}:{name}>" for name, value in fields)


def request_envelope(request: Request) -> bytes:
    """The SOAP 1.1 envelope of ``checkVatApprox`` with the requester fields filled in."""
    check_input(request)
    fields = _elements(
        "urn",
        [
            ("countryCode", request.country),
            ("vatNumber", request.number),
            ("requesterCountryCode", request.requester_country),
            ("requesterVatNumber", request.requester_number),
        ],
    )
    return (
        f'<soapenv:Envelope xmlns:soapenv="{SOAP_NS}" xmlns:urn="{TYPES_NS}">'
        f"<soapenv:Header/><soapenv:Body><urn:checkVatApprox>{fields}</urn:checkVatApprox>"
        "</soapenv:Body></soapenv:Envelope>"
    ).encode()


def _parse(payload: bytes) -> ET.Element:
    if len(payload) > MAX_ANSWER_BYTES:
        raise ProtocolError("message too large")
    if b"<!DOCTYPE" in payload.upper() or b"<!ENTITY" in payload.upper():
        raise ProtocolError("documents with a DTD are refused")
    try:
        return ET.fromstring(payload)
    except ET.ParseError as exc:
        raise ProtocolError(f"not XML: {exc}") from exc


def _body(root: ET.Element) -> ET.Element:
    if root.tag != f"{{{SOAP_NS}}}Envelope":
        raise ProtocolError("not a SOAP 1.1 envelope")
    body = root.find(f"{{{SOAP_NS}}}Body")
    if body is None or len(body) == 0:
        raise ProtocolError("the envelope has no body")
    return body[0]


def _text(parent: ET.Element, name: str) -> str:
    node = parent.find(f"{{{TYPES_NS}}}{name}")
    return (node.text or "").strip() if node is not None else ""


def parse_request(payload: bytes) -> Request:
    """Read a ``checkVatApprox`` request (the stand-in's side)."""
    operation = _body(_parse(payload))
    if operation.tag != f"{{{TYPES_NS}}}checkVatApprox":
        raise ProtocolError("not a checkVatApprox request")
    return Request(
        _text(operation, "countryCode"),
        _text(operation, "vatNumber"),
        _text(operation, "requesterCountryCode"),
        _text(operation, "requesterVatNumber"),
    )


def parse_answer(payload: bytes) -> Answer | Fault:
    """Read the service's answer: a ``checkVatApproxResponse`` or a SOAP fault."""
    element = _body(_parse(payload))
    if element.tag == f"{{{SOAP_NS}}}Fault":
        code = (element.findtext("faultstring") or "").strip()
        return Fault(code or "SERVICE_UNAVAILABLE", (element.findtext("faultcode") or "").strip())
    if element.tag != f"{{{TYPES_NS}}}checkVatApproxResponse":
        raise ProtocolError(f"unexpected answer {element.tag}")
    values = {name: _text(element, name) for name in _FIELDS}
    if values["valid"] not in ("true", "false", "1", "0"):
        raise ProtocolError("the answer has no valid element")
    extra = {k: v for k, v in values.items() if k.startswith("trader") and v not in ("", "---")}
    extra.pop("traderName", None)
    extra.pop("traderAddress", None)
    return Answer(
        country=values["countryCode"],
        number=values["vatNumber"],
        request_date=values["requestDate"],
        valid=values["valid"] in ("true", "1"),
        request_identifier=values["requestIdentifier"],
        trader_name=values["traderName"],
        trader_address=values["traderAddress"],
        extra=extra,
    )


def answer_envelope(answer: Answer) -> bytes:
    """A ``checkVatApproxResponse`` envelope as VIES sends it (``env``/``ns2`` prefixes)."""
    fields = [
        ("countryCode", answer.country),
        ("vatNumber", answer.number),
        ("requestDate", answer.request_date),
        ("valid", "true" if answer.valid else "false"),
    ]
    if answer.valid:
        fields += [
            ("traderName", answer.trader_name),
            ("traderCompanyType", "---"),
            ("traderAddress", answer.trader_address),
        ]
    fields.append(("requestIdentifier", answer.request_identifier))
    return (
        f'<env:Envelope xmlns:env="{SOAP_NS}"><env:Header/><env:Body>'
        f'<ns2:checkVatApproxResponse xmlns:ns2="{TYPES_NS}">{_elements("ns2", fields)}'
        "</ns2:checkVatApproxResponse></env:Body></env:Envelope>"
    ).encode()


def fault_envelope(code: str) -> bytes:
    """A SOAP fault as VIES sends it: ``soap:Server`` with the error code as faultstring."""
    return (
        f'<soap:Envelope xmlns:soap="{SOAP_NS}"><soap:Body><soap:Fault>'
        f"<faultcode>soap:Server</faultcode><faultstring>{escape(code)}</faultstring>"
        "</soap:Fault></soap:Body></soap:Envelope>"
    ).encode()
