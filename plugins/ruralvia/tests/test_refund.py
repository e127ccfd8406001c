from __future__ import annotations

import json
from decimal import Decimal

import httpx
import pytest

from facturo_ruralvia.notification import NotificationMismatch
from facturo_ruralvia.redsys import SignatureError, signed_message, verify_request
from facturo_ruralvia.refund import build_refund_request, parse_refund_response, refund
from facturo_ruralvia.settings import TEST_REST_URL, RuralviaSettings

KEY = "sq7HjrUOBfKmC576ILgskD5srU870gJ7"


def _answer(**changes: str) -> dict[str, str]:
    fields = {
        "Ds_Amount": "1000",
        "Ds_Currency": "978",
        "Ds_Order": "2603ABCD1234",
        "Ds_MerchantCode": "999008881",
        "Ds_Terminal": "1",
        "Ds_Response": "0900",
        "Ds_AuthorisationCode": "123456",
        "Ds_TransactionType": "3",
    }
    fields.update(changes)
    return signed_message(KEY, fields)


def test_refund_request_is_signed_type_3(settings: RuralviaSettings) -> None:
    request = build_refund_request(
        settings, order="2603ABCD1234", amount=Decimal("10.00"), currency_code="EUR"
    )
    assert request.url == TEST_REST_URL
    assert request.body["Ds_SignatureVersion"] == "HMAC_SHA256_V1"
    params = verify_request(
        KEY, request.body["Ds_MerchantParameters"], request.body["Ds_Signature"]
    )
    assert params == {
        "DS_MERCHANT_ORDER": "2603ABCD1234",
        "DS_MERCHANT_MERCHANTCODE": "999008881",
        "DS_MERCHANT_TERMINAL": "1",
        "DS_MERCHANT_TRANSACTIONTYPE": "3",
        "DS_MERCHANT_AMOUNT": "1000",
        "DS_MERCHANT_CURRENCY": "978",
    }


def test_signed_0900_answer_is_an_approved_refund(settings: RuralviaSettings) -> None:
    request = build_refund_request(
        settings, order="2603ABCD1234", amount=Decimal("10"), currency_code="EUR"
    )
    result = parse_refund_response(KEY, request, _answer())
    assert result.approved
    assert result.amount == Decimal("10.00")
    assert result.authorisation_code == "123456"
    assert result.error_code is None


def test_signed_denial_is_not_approved(settings: RuralviaSettings) -> None:
    request = build_refund_request(
        settings, order="2603ABCD1234", amount=Decimal("10"), currency_code="EUR"
    )
    result = parse_refund_response(KEY, request, _answer(Ds_Response="0950"))
    assert not result.approved
    assert result.message.en == "Refund not allowed"


def test_error_code_answer(settings: RuralviaSettings) -> None:
    request = build_refund_request(
        settings, order="2603ABCD1234", amount=Decimal("10"), currency_code="EUR"
    )
    result = parse_refund_response(KEY, request, {"errorCode": "SIS0057"})
    assert not result.approved
    assert result.error_code == "SIS0057"
    assert result.message.en == "Refund amount exceeds what is allowed"


def test_forged_or_mismatched_answer_is_rejected(settings: RuralviaSettings) -> None:
    request = build_refund_request(
        settings, order="2603ABCD1234", amount=Decimal("10"), currency_code="EUR"
    )
    forged = {**_answer(), "Ds_Signature": _answer(Ds_Amount="1")["Ds_Signature"]}
    with pytest.raises(SignatureError):
        parse_refund_response(KEY, request, forged)
    with pytest.raises(NotificationMismatch, match="Ds_Amount"):
        parse_refund_response(KEY, request, _answer(Ds_Amount="999"))
    with pytest.raises(NotificationMismatch, match="Ds_Order"):
        parse_refund_response(KEY, request, _answer(Ds_Order="2603ZZZZ"))


def test_refund_posts_json_through_the_given_client(settings: RuralviaSettings) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=_answer(Ds_Amount="250"))

    with httpx.Client(transport=httpx.MockTransport(handler)) as client:
        result = refund(
            client, settings, order="2603ABCD1234", amount=Decimal("2.50"), currency_code="EUR"
        )
    assert result.approved and result.amount == Decimal("2.50")
    assert str(seen[0].url) == TEST_REST_URL
    body = json.loads(seen[0].content)
    assert set(body) == {"Ds_SignatureVersion", "Ds_MerchantParameters", "Ds_Signature"}


def test_refund_http_error_propagates(settings: RuralviaSettings) -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(503))
    with httpx.Client(transport=transport) as client, pytest.raises(httpx.HTTPStatusError):
        refund(client, settings, order="2603ABCD1234", amount=Decimal("1"), currency_code="EUR")
