from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from facturo_paypal.webhooks import (
    CertificateCache,
    CertificateURLError,
    crc32_decimal,
    is_stale,
    parse_event,
    signed_message,
    validate_cert_url,
    verify_offline,
)


@pytest.fixture
def body(vectors: Path) -> bytes:
    return (vectors / "paypal_webhook_java_sdk_body.json").read_bytes()


@pytest.fixture
def cert_pem(vectors: Path) -> bytes:
    return (vectors / "paypal_webhook_java_sdk_cert.crt").read_bytes()


@pytest.fixture
def headers(webhook_vector: dict[str, Any]) -> dict[str, str]:
    return {
        "PAYPAL-TRANSMISSION-ID": webhook_vector["transmission_id"],
        "PAYPAL-TRANSMISSION-TIME": webhook_vector["transmission_time"],
        "PAYPAL-TRANSMISSION-SIG": webhook_vector["transmission_sig"],
        "PAYPAL-CERT-URL": "https://api.sandbox.paypal.com/v1/notifications/certs/CERT-x",
        "PAYPAL-AUTH-ALGO": "SHA256withRSA",
    }


def test_java_sdk_vector_verifies(
    headers: dict[str, str], body: bytes, cert_pem: bytes, webhook_vector: dict[str, Any]
) -> None:
    assert crc32_decimal(body) == str(webhook_vector["crc32"])
    assert verify_offline(headers, body, webhook_vector["webhook_id"], cert_pem) is True


def test_headers_are_case_insensitive(
    headers: dict[str, str], body: bytes, cert_pem: bytes, webhook_vector: dict[str, Any]
) -> None:
    lowered = {key.lower(): value for key, value in headers.items()}
    mixed = {key.title(): value for key, value in headers.items()}
    assert verify_offline(lowered, body, webhook_vector["webhook_id"], cert_pem)
    assert verify_offline(mixed, body, webhook_vector["webhook_id"], cert_pem)


def test_wrong_webhook_id_fails(headers: dict[str, str], body: bytes, cert_pem: bytes) -> None:
    assert verify_offline(headers, body, "NotToBeFound", cert_pem) is False


def test_crc_written_in_hex_does_not_verify(
    headers: dict[str, str], body: bytes, cert_pem: bytes, webhook_vector: dict[str, Any]
) -> None:
    key = x509.load_pem_x509_certificate(cert_pem).public_key()
    assert isinstance(key, rsa.RSAPublicKey)
    signature = base64.b64decode(webhook_vector["transmission_sig"])
    crc = webhook_vector["crc32"]
    decimal_message = signed_message(
        webhook_vector["transmission_id"],
        webhook_vector["transmission_time"],
        webhook_vector["webhook_id"],
        body,
    )
    hex_message = decimal_message.replace(str(crc).encode(), format(crc, "x").encode())
    assert hex_message != decimal_message
    key.verify(signature, decimal_message, padding.PKCS1v15(), hashes.SHA256())
    with pytest.raises(InvalidSignature):
        key.verify(signature, hex_message, padding.PKCS1v15(), hashes.SHA256())


def test_one_byte_change_in_body_fails(
    headers: dict[str, str], body: bytes, cert_pem: bytes, webhook_vector: dict[str, Any]
) -> None:
    tampered = body.replace(b'"30.11"', b'"30.12"')
    assert tampered != body
    assert not verify_offline(headers, tampered, webhook_vector["webhook_id"], cert_pem)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PAYPAL-TRANSMISSION-SIG", "not base64!"),
        ("PAYPAL-AUTH-ALGO", "SHA1withRSA"),
        ("PAYPAL-TRANSMISSION-TIME", "2019-08-29T10:49:34Z"),
    ],
)
def test_bad_headers_fail_without_raising(
    headers: dict[str, str],
    body: bytes,
    cert_pem: bytes,
    webhook_vector: dict[str, Any],
    name: str,
    value: str,
) -> None:
    assert not verify_offline(
        {**headers, name: value}, body, webhook_vector["webhook_id"], cert_pem
    )


def test_missing_header_or_bad_cert_fail(
    headers: dict[str, str], body: bytes, cert_pem: bytes, webhook_vector: dict[str, Any]
) -> None:
    partial = {k: v for k, v in headers.items() if k != "PAYPAL-TRANSMISSION-ID"}
    assert not verify_offline(partial, body, webhook_vector["webhook_id"], cert_pem)
    assert not verify_offline(headers, body, webhook_vector["webhook_id"], b"not a cert")


@pytest.mark.parametrize(
    "url",
    [
        "https://api.paypal.com/v1/notifications/certs/CERT-360caa42-fca2a594-1a5f47cb",
        "https://api.sandbox.paypal.com/v1/notifications/certs/CERT-1",
        "https://paypal.com/cert",
        "https://API.PayPal.com:443/cert",
    ],
)
def test_paypal_cert_urls_are_accepted(url: str) -> None:
    assert validate_cert_url(url) == url


@pytest.mark.parametrize(
    "url",
    [
        "http://api.paypal.com/v1/notifications/certs/CERT-1",
        "https://api.paypal.com.evil.com/v1/notifications/certs/CERT-1",
        "https://paypal.com.evil.com/cert",
        "https://evilpaypal.com/cert",
        "https://api.paypal.com@evil.com/cert",
        "https://user:pw@api.paypal.com/cert",
        "https://evil.com#@api.paypal.com/cert",
        "https://api.paypal.com:8443/cert",
        "ftp://api.paypal.com/cert",
        "https://api.paypal.com:notaport/cert",
        "",
    ],
)
def test_forged_cert_urls_are_refused(url: str) -> None:
    with pytest.raises(CertificateURLError):
        validate_cert_url(url)


def test_trusted_url_admits_only_that_exact_location() -> None:
    prefix = "http://localhost:8000/public/paypal-sandbox"
    good = prefix + "/v1/notifications/certs/CERT-facturo-sandbox"
    assert validate_cert_url(good, trusted_prefixes=[good]) == good
    for bad in (
        prefix + "/checkoutnow?token=x",
        good + "?x=1",
        good + "/../echo",
        "http://localhost:8000/public/paypal-sandboxevil/cert",
        "http://localhost:8001/public/paypal-sandbox/cert",
        "https://localhost:8000/public/paypal-sandbox/cert",
        "http://localhost:8000@evil.com/public/paypal-sandbox/cert",
        "http://evil.com/public/paypal-sandbox/cert",
        "http://localhost:bad/public/paypal-sandbox/cert",
    ):
        with pytest.raises(CertificateURLError):
            validate_cert_url(bad, trusted_prefixes=[good])


def test_certificate_cache_fetches_each_url_once(cert_pem: bytes) -> None:
    fetched: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        fetched.append(str(request.url))
        return httpx.Response(200, content=cert_pem)

    cache = CertificateCache(httpx.Client(transport=httpx.MockTransport(handler)))
    url = "https://api.paypal.com/v1/notifications/certs/CERT-1"
    assert cache.get(url) == cert_pem
    assert cache.get(url) == cert_pem
    assert fetched == [url]
    with pytest.raises(CertificateURLError):
        cache.get("https://api.paypal.com.evil.com/v1/notifications/certs/CERT-1")
    assert fetched == [url]


def test_certificate_cache_refuses_non_certificates() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b"<html>hello</html>")

    cache = CertificateCache(httpx.Client(transport=httpx.MockTransport(handler)))
    with pytest.raises(ValueError):
        cache.get("https://api.paypal.com/cert")


def test_staleness() -> None:
    now = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    day = timedelta(days=1)
    assert not is_stale("2026-03-01T11:59:00Z", now, day)
    assert not is_stale("2026-02-28T12:00:01Z", now, day)
    assert is_stale("2026-02-28T11:59:59Z", now, day)
    assert is_stale("2026-03-02T12:05:00Z", now, day)
    assert is_stale("2019-08-29T10:49:33Z", now)
    assert is_stale("yesterday", now, day)
    assert is_stale("2026-03-01T12:00:00", now, day)  # no zone: refuse rather than guess
    assert not is_stale("2026-03-01T11:59:00Z", now, timedelta(minutes=5))


def test_parse_event_of_the_vector(body: bytes) -> None:
    event = parse_event(body)
    assert event.id == "WH-7MU294299R542214K-4N1831857K851783H"
    assert event.event_type == "PAYMENTS.PAYMENT.CREATED"
    assert event.resource["id"] == "PAYID-LVT22VY7N839502VJ678725M"
    with pytest.raises(ValueError):
        parse_event(b'{"id": "WH-1"}')
