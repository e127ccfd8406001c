"""Redsys operation query ("consulta de operaciones", SOAP web service ``SerClsWSConsulta``).

The request is a ``<Messages>`` document carried as CDATA in a SOAP 1.1 ``consultaOperaciones``
call; its ``<Signature>`` is base64(HMAC-SHA256) keyed with the order's 3DES-derived key over
the exact ``<Version …>…</Version>`` text. The reply is the same kind of document, escaped in
``consultaOperacionesReturn``: one ``<Response>`` per operation, or ``<ErrorMsg>``.

``Ds_State`` ``F`` is final (``Ds_Response`` decides); ``P``/``S``/``W``/``T`` and responses
9998/9999 are still in progress; error ``XML0024`` means no operation for that order.
"""

from __future__ import annotations

import base64
import hmac
import re
from dataclasses import dataclass, field
from hashlib import sha256
from html import escape
from xml.etree import ElementTree

import httpx

from .redsys import RedsysError, order_key
from .settings import RuralviaSettings

__all__ = [
    "NO_OPERATIONS",
    "QUERY_PATH",
    "QueryAnswer",
    "build_request",
    "parse_reply",
    "query_order",
    "sign_version",
    "soap_envelope",
    "unwrap_soap",
]

QUERY_PATH = "/apl02/services/SerClsWSConsulta"
TEST_QUERY_URL = "https://sis-t.redsys.es:25443" + QUERY_PATH
LIVE_QUERY_URL = "https://sis.redsys.es" + QUERY_PATH
NO_OPERATIONS = "XML0024"
SIGNATURE_VERSION = "HMAC_SHA256_V1"
_SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
_WEB_NS = "http://webservices.apl02.redsys.es"
_VERSION = re.compile(r"<Version\b.*?</Version>", re.S)
_PENDING_RESPONSES = ("9998", "9999")


@dataclass(frozen=True)
class QueryAnswer:
    """One operation of the reply (``fields``), or an error code (``error``)."""

    raw: str
    error: str | None = None
    fields: dict[str, str] = field(default_factory=dict)

    @property
    def is_final(self) -> bool:
        """True when the bank has decided (state F with a real response code)."""
        return (
            self.error is None
            and self.fields.get("Ds_State") == "F"
            and self.fields.get("Ds_Response", "").isdigit()
            and self.fields.get("Ds_Response") not in _PENDING_RESPONSES
        )


def sign_version(secret_key_b64: str, order: str, version_xml: str) -> str:
    """The ``<Signature>`` of a query document: base64 HMAC-SHA256 over ``version_xml``."""
    key = order_key(secret_key_b64, order)
    return base64.b64encode(hmac.new(key, version_xml.encode("utf-8"), sha256).digest()).decode()


def _elements(values: dict[str, str]) -> str:
    return "".join(f"<{name}>{escape(value)}</{name}>" for name, value in values.items())


def build_request(settings: RuralviaSettings, order: str, transaction_type: str = "0") -> str:
    """The signed ``<Messages>`` document asking for ``order``'s operations of that type."""
    version = (
        '<Version Ds_Version="0.0"><Message><Transaction>'
        + _elements(
            {
                "Ds_MerchantCode": settings.merchant_code,
                "Ds_Terminal": settings.terminal,
                "Ds_Order": order,
                "Ds_TransactionType": transaction_type,
            }
        )
        + "</Transaction></Message></Version>"
    )
    signature = sign_version(settings.secret_key, order, version)
    return (
        f"<Messages>{version}<Signature>{signature}</Signature>"
        f"<SignatureVersion>{SIGNATURE_VERSION}</SignatureVersion></Messages>"
    )


def soap_envelope(operation: str, argument: str, payload: str) -> str:
    """A SOAP 1.1 envelope calling ``operation`` with one string argument (as CDATA)."""
    safe = payload.replace("]]>", "]]]]><![CDATA[>")
    return (
        f'<soapenv:Envelope xmlns:soapenv="{_SOAP_NS}" xmlns:web="{_WEB_NS}">'
        f"<soapenv:Header/><soapenv:Body><web:{operation}><{argument}><![CDATA[{safe}]]>"
        f"</{argument}></web:{operation}></soapenv:Body></soapenv:Envelope>"
    )


def unwrap_soap(envelope: str, element: str) -> str:
    """The text of the first element named ``element`` (any namespace) in a SOAP envelope."""
    try:
        root = ElementTree.fromstring(envelope)
    except ElementTree.ParseError as exc:
        raise RedsysError(f"the query reply is not XML: {exc}") from exc
    for node in root.iter():
        if node.tag.rsplit("}", 1)[-1] == element:
            return node.text or ""
    raise RedsysError(f"the query reply has no {element}")


def parse_reply(secret_key_b64: str, order: str, document: str) -> list[QueryAnswer]:
    """Read a reply document; verify its signature when it carries operations.

    Returns one answer per ``<Response>``, or a single answer with ``error`` set.
    """
    try:
        root = ElementTree.fromstring(document)
    except ElementTree.ParseError as exc:
        raise RedsysError(f"the query answer is not XML: {exc}") from exc
    code = root.findtext(".//ErrorMsg/Ds_ErrorCode")
    if code:
        return [QueryAnswer(raw=document, error=code.strip())]
    version = _VERSION.search(document)
    signature = (root.findtext("Signature") or "").strip()
    expected = sign_version(secret_key_b64, order, version.group(0)) if version else ""
    if not version or not hmac.compare_digest(signature.encode(), expected.encode()):
        raise RedsysError("the query answer's signature does not match")
    answers = []
    for response in root.iter("Response"):
        fields = {child.tag: (child.text or "").strip() for child in response}
        answers.append(QueryAnswer(raw=document, fields=fields))
    return answers


def query_url(settings: RuralviaSettings) -> str:
    """The web service's URL for the terminal's environment (the sandbox serves it too)."""
    if settings.environment.value == "live":
        return LIVE_QUERY_URL
    if settings.environment.value == "sandbox":
        return (settings.sandbox_url or "").rstrip("/") + QUERY_PATH
    return TEST_QUERY_URL


def query_order(client: httpx.Client, settings: RuralviaSettings, order: str) -> QueryAnswer:
    """Ask Redsys about payment ``order`` (type 0); return its latest operation or the error.

    Raises httpx errors when unreachable and RedsysError for an unreadable or forged reply.
    """
    envelope = soap_envelope("consultaOperaciones", "cadenaXML", build_request(settings, order))
    response = client.post(
        query_url(settings),
        content=envelope.encode("utf-8"),
        headers={"Content-Type": "text/xml;charset=utf-8", "SOAPAction": "consultaOperaciones"},
    )
    response.raise_for_status()
    document = unwrap_soap(response.text, "consultaOperacionesReturn")
    answers = parse_reply(settings.secret_key, order, document)
    if not answers:
        return QueryAnswer(raw=document, error=NO_OPERATIONS)
    return answers[-1]
