"""A local stand-in for the Redsys payment page and REST endpoint, speaking the real protocol.

Mount the routes anywhere (e.g. under ``/public/ruralvia-sandbox``) and set the terminal's
``sandbox_url`` to that prefix: the form posts to ``<prefix>/sis/realizarPago`` and refunds
go to ``<prefix>/sis/rest/trataPeticionREST``, exactly like the real hosts. The sandbox keeps
the payments it approved in memory (per :func:`sandbox_routes` call) so refunds can be
answered like Redsys does.
"""

from __future__ import annotations

import secrets
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html import escape
from typing import Any
from urllib.parse import quote, quote_plus

import httpx
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from .currency import currency, from_minor_units
from .orders import is_valid_order
from .query import QUERY_PATH, sign_version, unwrap_soap
from .redsys import (
    SIGNATURE_VERSION,
    RedsysError,
    get_field,
    signed_message,
    verify_request,
)
from .responses import describe_response, is_payment_approved
from .sandbox_cof import SandboxToken, answer_mit, issue_token
from .settings import PAYMENT_PATH, REST_PATH

__all__ = [
    "TEST_CARDS",
    "SandboxLedger",
    "TestCard",
    "answer_query",
    "sandbox_ledger",
    "sandbox_routes",
]

SUBMIT_PATH = PAYMENT_PATH + "/submit"
TEST_CVV = "123"


@dataclass(frozen=True)
class TestCard:
    """A documented Redsys test card and the ``Ds_Response`` the sandbox answers for it."""

    number: str
    brand: str
    response: str
    label: str


TEST_CARDS = (
    TestCard("4548810000000003", "1", "0000", "VISA — aprobada / approved (EMV3DS 2.2)"),
    TestCard("4548812049400004", "1", "0000", "VISA — aprobada / approved"),
    TestCard("4918019160034602", "1", "0000", "VISA — aprobada / approved (3DS 2.1)"),
    TestCard("5576440022788500", "2", "0190", "Mastercard — denegada / declined"),
    TestCard("4907271141151707", "1", "0184", "VISA — autenticación fallida / auth failed"),
    TestCard(
        "4548814479727229", "1", "0000", "VISA — guardada: cobros MIT denegados / MIT declined"
    ),
    TestCard("4548817212493017", "1", "0000", "VISA — guardada: caduca antes del MIT / expires"),
)
_CARDS = {card.number: card for card in TEST_CARDS}
_UNKNOWN_CARD = "0180"
_WRONG_CVV = "0129"
_CANCELLED = "9915"
_DUPLICATE = "0913"


@dataclass
class _Payment:
    amount: int
    currency: str
    approved: bool
    refunded: int = 0
    response: str = ""
    authorisation: str = ""
    paid_at: datetime | None = None


@dataclass
class SandboxLedger:
    """What the sandbox remembers: every payment it decided, by (merchant, terminal, order).

    Shared by the payment page, the REST refunds and the operation query; tests may
    :meth:`record` a payment as if a customer had paid it.
    """

    payments: dict[tuple[str, int, str], _Payment] = field(default_factory=dict)
    #: References issued for saved cards (see :mod:`facturo_ruralvia.sandbox_cof`).
    tokens: dict[str, SandboxToken] = field(default_factory=dict)

    def withdraw(self, identifier: str) -> None:
        """Make the saved reference ``identifier`` answer SIS0467 (withdrawn by the bank)."""
        self.tokens[identifier].withdrawn = True

    def record(
        self,
        *,
        merchant_code: str,
        terminal: str,
        order: str,
        amount_minor: int,
        currency_numeric: str,
        response: str = "0000",
        paid_at: datetime | None = None,
    ) -> str:
        """Record a payment decided with ``response``; return its authorisation code."""
        approved = is_payment_approved(response, "0")
        authorisation = f"{secrets.randbelow(10**6):06d}" if approved else ""
        self.payments[(merchant_code, int(terminal), order)] = _Payment(
            amount_minor, currency_numeric, approved, 0, response, authorisation, paid_at
        )
        return authorisation


class _Rejected(Exception):
    """The request cannot reach the card form (Redsys shows a SISxxxx error page)."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


_ENVELOPE = ("Ds_SignatureVersion", "Ds_MerchantParameters", "Ds_Signature")


def _page(title: str, body: str, status_code: int = 200) -> HTMLResponse:
    # Plain HTML: no inline script or style, so it works under the site's strict CSP.
    html = (
        '<!doctype html><html lang="es"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title></head><body><main>"
        f"<h1>{escape(title)}</h1>{body}</main></body></html>"
    )
    return HTMLResponse(html, status_code=status_code)


def _error_page(error: _Rejected) -> HTMLResponse:
    return _page(
        "Redsys sandbox — error",
        f"<p><strong>{escape(error.code)}</strong> {escape(error.reason)}</p>",
        status_code=400,
    )


def _key(fields: Mapping[str, Any]) -> tuple[str, int, str]:
    return (
        get_field(fields, "DS_MERCHANT_MERCHANTCODE"),
        int(get_field(fields, "DS_MERCHANT_TERMINAL") or 0),
        get_field(fields, "DS_MERCHANT_ORDER"),
    )


def _check_request(secret_key_b64: str, message: Mapping[str, Any]) -> dict[str, Any]:
    """Verify an incoming envelope and the fields a payment needs, as Redsys would."""
    if message.get("Ds_SignatureVersion") != SIGNATURE_VERSION:
        raise _Rejected("SIS0295", "Ds_SignatureVersion no soportada / unsupported")
    try:
        fields = verify_request(
            secret_key_b64,
            str(message.get("Ds_MerchantParameters") or ""),
            str(message.get("Ds_Signature") or ""),
        )
    except RedsysError as exc:
        raise _Rejected(
            "SIS0042", f"Error en el cálculo de la firma / bad signature ({exc})"
        ) from exc
    if not is_valid_order(get_field(fields, "DS_MERCHANT_ORDER")):
        raise _Rejected("SIS0074", "Número de pedido no válido / invalid order number")
    if not get_field(fields, "DS_MERCHANT_MERCHANTCODE").isdigit():
        raise _Rejected("SIS0008", "Falta el código de comercio / missing merchant code")
    if not get_field(fields, "DS_MERCHANT_TERMINAL").isdigit():
        raise _Rejected("SIS0010", "Falta el terminal / missing terminal")
    if not get_field(fields, "DS_MERCHANT_AMOUNT").isdigit():
        raise _Rejected("SIS0018", "Falta el importe / missing amount")
    try:
        currency(get_field(fields, "DS_MERCHANT_CURRENCY"))
    except ValueError:
        raise _Rejected("SIS0015", "Moneda no válida / invalid currency") from None
    return fields


def _check_payment(secret_key_b64: str, message: Mapping[str, Any]) -> dict[str, Any]:
    fields = _check_request(secret_key_b64, message)
    if get_field(fields, "DS_MERCHANT_TRANSACTIONTYPE") != "0":
        raise _Rejected("SIS0023", "El sandbox solo admite pagos (tipo 0) / payments only")
    return fields


def _amount_text(fields: Mapping[str, Any]) -> str:
    cur = currency(get_field(fields, "DS_MERCHANT_CURRENCY"))
    return f"{from_minor_units(get_field(fields, 'DS_MERCHANT_AMOUNT'), cur.code)} {cur.code}"


def _card_form(message: Mapping[str, Any], fields: Mapping[str, Any]) -> str:
    hidden = "".join(
        f'<input type="hidden" name="{name}" value="{escape(str(message.get(name, "")))}">'
        for name in _ENVELOPE
    )
    options = "".join(f'<option value="{c.number}">{escape(c.label)}</option>' for c in TEST_CARDS)
    rows = "".join(f"<tr><td>{c.number}</td><td>{escape(c.label)}</td></tr>" for c in TEST_CARDS)
    description = get_field(fields, "DS_MERCHANT_PRODUCTDESCRIPTION")
    # A relative action keeps working whatever prefix the sandbox is mounted under.
    return (
        "<dl>"
        f"<dt>Comercio / Merchant</dt><dd>{escape(get_field(fields, 'DS_MERCHANT_MERCHANTCODE'))}"
        f" / {escape(get_field(fields, 'DS_MERCHANT_TERMINAL'))}</dd>"
        f"<dt>Pedido / Order</dt><dd>{escape(get_field(fields, 'DS_MERCHANT_ORDER'))}</dd>"
        f"<dt>Importe / Amount</dt><dd>{escape(_amount_text(fields))}</dd>"
        + (f"<dt>Concepto / Description</dt><dd>{escape(description)}</dd>" if description else "")
        + "</dl>"
        f'<form method="post" action="realizarPago/submit">{hidden}'
        '<p><label>Tarjeta / Card number <input name="card_number" list="test-cards" '
        'inputmode="numeric" autocomplete="off" required></label></p>'
        f'<datalist id="test-cards">{options}</datalist>'
        '<p><label>Caducidad / Expiry <input name="expiry" value="12/49" size="5"></label></p>'
        f'<p><label>CVV <input name="cvv" value="{TEST_CVV}" size="4"></label></p>'
        '<p><button type="submit" name="action" value="pay">Pagar / Pay</button> '
        '<button type="submit" name="action" value="cancel" formnovalidate>'
        "Cancelar / Cancel</button></p></form>"
        "<h2>Tarjetas de prueba / Test cards</h2>"
        f"<table><tr><th>Tarjeta / Card</th><th>Resultado / Result</th></tr>{rows}</table>"
        f"<p>CVV {TEST_CVV}</p>"
    )


def _card_response(action: str, card_number: str, cvv: str) -> tuple[str, str]:
    """Return (``Ds_Response``, card brand) for what the customer submitted."""
    if action == "cancel":
        return _CANCELLED, ""
    card = _CARDS.get(card_number.replace(" ", ""))
    if card is None:
        return _UNKNOWN_CARD, ""
    if cvv.strip() != TEST_CVV:
        return _WRONG_CVV, card.brand
    return card.response, card.brand


def _masked(card_number: str) -> str:
    digits = card_number.replace(" ", "")
    return digits[:6] + "*" * max(len(digits) - 10, 0) + digits[-4:] if len(digits) > 10 else ""


_LEDGERS: weakref.WeakKeyDictionary[Any, SandboxLedger] = weakref.WeakKeyDictionary()


def sandbox_ledger(owner: Any) -> SandboxLedger:
    """The ledger of the sandbox served for ``owner`` (the Context), created on first use."""
    ledger = _LEDGERS.get(owner)
    if ledger is None:
        ledger = _LEDGERS.setdefault(owner, SandboxLedger())
    return ledger


def sandbox_routes(
    secret_key_b64: str,
    http_client_factory: Callable[[], httpx.AsyncClient],
    *,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ledger: SandboxLedger | None = None,
) -> list[BaseRoute]:
    """Return the sandbox's routes, verifying everything with ``secret_key_b64``.

    ``http_client_factory`` returns a new ``httpx.AsyncClient`` (closed after use) that
    delivers the server-to-server notification to ``DS_MERCHANT_MERCHANTURL``. ``ledger``
    keeps the decided payments (a new one when omitted).
    """
    book = ledger or SandboxLedger()
    payments = book.payments

    async def payment_page(request: Request) -> Response:
        message: Mapping[str, Any]
        message = request.query_params if request.method == "GET" else await request.form()
        try:
            fields = _check_payment(secret_key_b64, message)
        except _Rejected as error:
            return _error_page(error)
        return _page("Redsys sandbox — pago / payment", _card_form(message, fields))

    async def submit(request: Request) -> Response:
        form = await request.form()
        try:
            fields = _check_payment(secret_key_b64, form)
        except _Rejected as error:
            return _error_page(error)
        card_number = str(form.get("card_number") or "")
        response, brand = _card_response(
            str(form.get("action") or "pay"), card_number, str(form.get("cvv") or "")
        )
        key = _key(fields)
        if key in payments:
            response = _DUPLICATE
        approved = is_payment_approved(response, get_field(fields, "DS_MERCHANT_TRANSACTIONTYPE"))
        now = clock()
        authorisation = f"{secrets.randbelow(10**6):06d}" if approved else ""
        if key not in payments:
            payments[key] = _Payment(
                int(get_field(fields, "DS_MERCHANT_AMOUNT")),
                get_field(fields, "DS_MERCHANT_CURRENCY"),
                approved,
                response=response,
                authorisation=authorisation,
                paid_at=now,
            )
        language = get_field(fields, "DS_MERCHANT_CONSUMERLANGUAGE") or "1"
        # Redirect notifications URL-encode every value inside the JSON, like the real one.
        notification = {
            "Ds_Date": quote(now.strftime("%d/%m/%Y"), safe=""),
            "Ds_Hour": quote(now.strftime("%H:%M"), safe=""),
            "Ds_SecurePayment": "1" if approved else "0",
            "Ds_Card_Number": _masked(card_number) if brand else "",
            "Ds_Card_Country": "724",
            "Ds_Amount": get_field(fields, "DS_MERCHANT_AMOUNT"),
            "Ds_Currency": get_field(fields, "DS_MERCHANT_CURRENCY"),
            "Ds_Order": key[2],
            "Ds_MerchantCode": key[0],
            "Ds_Terminal": f"{key[1]:03d}",
            "Ds_Response": response,
            "Ds_MerchantData": quote_plus(get_field(fields, "DS_MERCHANT_MERCHANTDATA")),
            "Ds_TransactionType": get_field(fields, "DS_MERCHANT_TRANSACTIONTYPE"),
            "Ds_ConsumerLanguage": str(int(language)) if language.isdigit() else "1",
            "Ds_AuthorisationCode": authorisation,
            "Ds_Card_Brand": brand,
        }
        wants_token = get_field(fields, "DS_MERCHANT_IDENTIFIER").upper() == "REQUIRED"
        if approved and brand and wants_token:
            notification.update(
                issue_token(book, card_number, brand, str(form.get("expiry") or ""))
            )
        body = signed_message(secret_key_b64, notification, urlsafe=True)
        notification_url = get_field(fields, "DS_MERCHANT_MERCHANTURL")
        if notification_url:
            try:
                async with http_client_factory() as client:
                    await client.post(notification_url, data=body)
            except httpx.HTTPError:
                pass  # Redsys does not tell the customer when the merchant is unreachable.
        target = get_field(fields, "DS_MERCHANT_URLOK" if approved else "DS_MERCHANT_URLKO")
        if target:
            return RedirectResponse(target, status_code=303)
        meaning = describe_response(response)
        return _page(
            "Redsys sandbox — resultado / result",
            f"<p>{escape(response)}: {escape(meaning.es)} / {escape(meaning.en)}</p>",
        )

    async def rest(request: Request) -> Response:
        try:
            message = await request.json()
        except ValueError:
            return JSONResponse({"errorCode": "SIS0007"})
        if not isinstance(message, dict):
            return JSONResponse({"errorCode": "SIS0007"})
        try:
            fields = _check_request(secret_key_b64, message)
        except _Rejected as error:
            return JSONResponse({"errorCode": error.code})
        if get_field(fields, "DS_MERCHANT_TRANSACTIONTYPE") == "0":
            return JSONResponse(answer_mit(secret_key_b64, book, fields, clock()))
        if get_field(fields, "DS_MERCHANT_TRANSACTIONTYPE") != "3":
            return JSONResponse({"errorCode": "SIS0023"})  # only charges and refunds
        key = _key(fields)
        payment = payments.get(key)
        amount = int(get_field(fields, "DS_MERCHANT_AMOUNT"))
        if payment is None:
            return JSONResponse({"errorCode": "SIS0054"})
        if not payment.approved:
            return JSONResponse({"errorCode": "SIS0056"})
        if int(get_field(fields, "DS_MERCHANT_CURRENCY")) != int(payment.currency):
            return JSONResponse({"errorCode": "SIS0015"})
        if amount > payment.amount - payment.refunded:
            return JSONResponse({"errorCode": "SIS0057"})
        payment.refunded += amount
        answer = {
            "Ds_Amount": str(amount),
            "Ds_Currency": payment.currency,
            "Ds_Order": key[2],
            "Ds_MerchantCode": key[0],
            "Ds_Terminal": str(key[1]),
            "Ds_Response": "0900",
            "Ds_AuthorisationCode": f"{secrets.randbelow(10**6):06d}",
            "Ds_TransactionType": "3",
            "Ds_SecurePayment": "0",
            "Ds_Language": "1",
            "Ds_MerchantData": "",
            "Ds_Card_Country": "724",
        }
        return JSONResponse(signed_message(secret_key_b64, answer))

    async def consulta(request: Request) -> Response:
        return Response(
            answer_query(
                secret_key_b64, payments, (await request.body()).decode("utf-8", "replace")
            ),
            media_type="text/xml; charset=utf-8",
        )

    return [
        Route(QUERY_PATH, consulta, methods=["POST"], name="ruralvia_sandbox_query"),
        Route(PAYMENT_PATH, payment_page, methods=["GET", "POST"], name="ruralvia_sandbox_payment"),
        Route(SUBMIT_PATH, submit, methods=["POST"], name="ruralvia_sandbox_submit"),
        Route(REST_PATH, rest, methods=["POST"], name="ruralvia_sandbox_rest"),
    ]


def _query_reply(document: str) -> str:
    body = (
        '<ns:consultaOperacionesResponse xmlns:ns="http://webservices.apl02.redsys.es">'
        f"<consultaOperacionesReturn>{escape(document)}</consultaOperacionesReturn>"
        "</ns:consultaOperacionesResponse>"
    )
    return (
        '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">'
        f"<soapenv:Body>{body}</soapenv:Body></soapenv:Envelope>"
    )


def _query_error(code: str) -> str:
    return _query_reply(
        f"<Messages><ErrorMsg><Ds_ErrorCode>{code}</Ds_ErrorCode></ErrorMsg></Messages>"
    )


def answer_query(
    secret_key_b64: str, payments: Mapping[tuple[str, int, str], _Payment], envelope: str
) -> str:
    """Answer a ``consultaOperaciones`` SOAP call like Redsys: the signed operation, or an
    ``ErrorMsg`` (XML0023 bad signature, XML0024 no operation, XML0001 unreadable)."""
    from xml.etree import ElementTree

    try:
        document = unwrap_soap(envelope, "cadenaXML")
        root = ElementTree.fromstring(document)
    except (RedsysError, ElementTree.ParseError):
        return _query_error("XML0001")
    transaction = root.find("./Version/Message/Transaction")
    start, end = document.find("<Version"), document.find("</Version>")
    if transaction is None or start < 0 or end < 0:
        return _query_error("XML0001")
    merchant = (transaction.findtext("Ds_MerchantCode") or "").strip()
    terminal = (transaction.findtext("Ds_Terminal") or "").strip()
    order = (transaction.findtext("Ds_Order") or "").strip()
    try:
        expected = sign_version(secret_key_b64, order, document[start : end + len("</Version>")])
    except RedsysError:
        return _query_error("XML0023")
    signature = (root.findtext("Signature") or "").strip()
    if not secrets.compare_digest(signature.encode(), expected.encode()):
        return _query_error("XML0023")
    payment = payments.get((merchant, int(terminal or 0), order))
    if payment is None:
        return _query_error("XML0024")
    when = payment.paid_at or datetime.now(UTC)
    values = {
        "Ds_MerchantCode": merchant,
        "Ds_Terminal": str(int(terminal)),
        "Ds_Order": order,
        "Ds_TransactionType": "0",
        "Ds_Date": when.strftime("%d/%m/%Y"),
        "Ds_Hour": when.strftime("%H:%M"),
        "Ds_Amount": str(payment.amount),
        "Ds_Currency": payment.currency,
        "Ds_SecurePayment": "1" if payment.approved else "0",
        "Ds_State": "F",
        "Ds_Response": payment.response or ("0000" if payment.approved else "0190"),
        "Ds_AuthorisationCode": payment.authorisation,
    }
    inner = "".join(f"<{k}>{escape(v)}</{k}>" for k, v in values.items())
    version = f'<Version Ds_Version="0.0"><Message><Response>{inner}</Response></Message></Version>'
    signature = sign_version(secret_key_b64, order, version)
    return _query_reply(f"<Messages>{version}<Signature>{signature}</Signature></Messages>")
