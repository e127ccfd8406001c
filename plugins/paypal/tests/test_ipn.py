from __future__ import annotations

from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from facturo_paypal.ipn import (
    LIVE_POSTBACK_URL,
    SANDBOX_POSTBACK_URL,
    Expected,
    Verdict,
    dedupe_key,
    interpret_postback,
    parse_message,
    postback_body,
    postback_request,
    validate,
)

SELLER = Expected(
    receiver_emails=["seller@paypalsandbox.com"], amount=Decimal("12.34"), currency="USD"
)


@pytest.fixture
def completed(ipn_samples: dict[str, Any]) -> bytes:
    return str(ipn_samples["simulator_web_accept_completed"]).encode("ascii")


@pytest.fixture
def windows_1252_body(ipn_samples: dict[str, Any]) -> bytes:
    """The production-style express checkout IPN, encoded as PayPal sends it."""
    params = dict(ipn_samples["express_checkout_completed_params_windows1252"])
    params["first_name"] = "Jörg"  # the vector notes it is sent as the single byte 0xF6
    return urlencode(params, encoding="windows-1252").encode("ascii")


def test_postback_body_is_prefix_plus_original_bytes(completed: bytes) -> None:
    assert postback_body(completed) == b"cmd=_notify-validate&" + completed
    assert postback_body(b"") == b"cmd=_notify-validate"


def test_postback_keeps_encoding_and_order(windows_1252_body: bytes) -> None:
    assert b"first_name=J%F6rg" in windows_1252_body
    body = postback_body(windows_1252_body)
    assert body.endswith(windows_1252_body)
    assert b"J%F6rg" in body and b"J%C3%B6rg" not in body


def test_postback_request_goes_to_sandbox_for_test_ipn(completed: bytes) -> None:
    message = parse_message(completed)
    request = postback_request(message)
    assert str(request.url) == SANDBOX_POSTBACK_URL
    assert request.content == b"cmd=_notify-validate&" + completed
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    pinned = postback_request(message, LIVE_POSTBACK_URL)
    assert str(pinned.url) == LIVE_POSTBACK_URL


def test_postback_round_trip_through_a_client(completed: bytes) -> None:
    seen: list[bytes] = []

    def paypal(request: httpx.Request) -> httpx.Response:
        seen.append(request.content)
        return httpx.Response(200, content=b"VERIFIED")

    with httpx.Client(transport=httpx.MockTransport(paypal)) as client:
        response = client.send(postback_request(parse_message(completed)))
    assert seen == [postback_body(completed)]
    assert interpret_postback(response.status_code, response.content) is Verdict.VERIFIED


@pytest.mark.parametrize(
    ("status", "body", "verdict"),
    [
        (200, b"VERIFIED", Verdict.VERIFIED),
        (200, b"VERIFIED\r\n", Verdict.VERIFIED),
        (200, b"INVALID", Verdict.INVALID),
        (200, b"verified", Verdict.ERROR),
        (200, b"", Verdict.ERROR),
        (500, b"VERIFIED", Verdict.ERROR),
    ],
)
def test_interpret_postback(status: int, body: bytes, verdict: Verdict) -> None:
    assert interpret_postback(status, body) is verdict


def test_simulator_completed_matches_expectation(completed: bytes) -> None:
    message = parse_message(completed)
    assert message.get("txn_id") == "593976436"
    assert message.get("payment_date") == "23:04:06 Feb 02, 2009 PDT"
    assert message.is_test
    assert validate(message, SELLER) == []


def test_windows_1252_is_decoded_with_declared_charset(windows_1252_body: bytes) -> None:
    message = parse_message(windows_1252_body)
    assert message.get("first_name") == "Jörg"
    assert message.get("custom") == "website_id=13&user_id=21"
    expected = Expected(["Seller@PayPalSandbox.com"], Decimal("10"), "USD")
    assert validate(message, expected) == []


def test_tampered_fields_are_reported(completed: bytes) -> None:
    message = parse_message(completed)
    assert validate(message, Expected(["me@example.com"], Decimal("12.34"), "USD")) == [
        "Invalid receiver_email. (seller@paypalsandbox.com)"
    ]
    assert validate(message, Expected(SELLER.receiver_emails, Decimal("12.35"), "USD")) == [
        "Invalid mc_gross. (12.34)"
    ]
    assert validate(message, Expected(SELLER.receiver_emails, Decimal("12.34"), "EUR")) == [
        "Invalid mc_currency. (USD)"
    ]


def test_unknown_payment_status_is_reported(completed: bytes) -> None:
    failure = parse_message(
        completed.replace(b"payment_status=Completed", b"payment_status=Failure")
    )
    assert validate(failure, SELLER) == ["Invalid payment_status. (Failure)"]
    garbage = parse_message(completed.replace(b"mc_gross=12.34", b"mc_gross=twelve"))
    assert validate(garbage, SELLER) == ["Invalid mc_gross. (twelve)"]


def test_dedupe_key(ipn_samples: dict[str, Any], completed: bytes) -> None:
    declined = parse_message(str(ipn_samples["simulator_web_accept_declined"]).encode())
    first = parse_message(completed)
    again = parse_message(completed)
    pending = parse_message(
        completed.replace(b"payment_status=Completed", b"payment_status=Pending")
    )
    assert dedupe_key(first) == ("593976436", "Completed")
    assert dedupe_key(again) == dedupe_key(first)
    assert dedupe_key(pending) != dedupe_key(first)
    assert dedupe_key(declined) == ("153826001", "Declined")
