"""PayPal webhook authentication: offline RSA check, certificate URL policy, replay guard.

PayPal signs ``transmission_id|transmission_time|webhook_id|crc32(raw body)`` (CRC32 as an
unsigned decimal) with RSASSA-PKCS1-v1_5 / SHA-256, and tells us where to download the signing
certificate in the ``PAYPAL-CERT-URL`` header. Everything here works on the raw request bytes:
re-serialising the JSON would change the CRC.
"""

from __future__ import annotations

import base64
import binascii
import json
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

__all__ = [
    "AUTH_ALGO",
    "CertificateCache",
    "AsyncCertificateCache",
    "CertificateURLError",
    "TransmissionHeaders",
    "WebhookEvent",
    "crc32_decimal",
    "is_stale",
    "parse_event",
    "parse_transmission_time",
    "signed_message",
    "transmission_headers",
    "validate_cert_url",
    "verify_offline",
]

AUTH_ALGO = "SHA256withRSA"
DEFAULT_TOLERANCE = timedelta(days=1)


@dataclass(frozen=True)
class TransmissionHeaders:
    """The ``PAYPAL-*`` headers of one webhook delivery."""

    transmission_id: str
    transmission_time: str
    transmission_sig: str
    cert_url: str
    auth_algo: str


def transmission_headers(headers: Mapping[str, str]) -> TransmissionHeaders | None:
    """Read the PayPal transmission headers, case-insensitively; ``None`` if any is missing.

    ``PAYPAL-AUTH-ALGO`` defaults to ``SHA256withRSA`` when absent (PayPal always sends it).
    """
    lowered = {key.lower(): value for key, value in headers.items()}
    try:
        return TransmissionHeaders(
            transmission_id=lowered["paypal-transmission-id"],
            transmission_time=lowered["paypal-transmission-time"],
            transmission_sig=lowered["paypal-transmission-sig"],
            cert_url=lowered.get("paypal-cert-url", ""),
            auth_algo=lowered.get("paypal-auth-algo", AUTH_ALGO),
        )
    except KeyError:
        return None


def crc32_decimal(body: bytes) -> str:
    """CRC32 of ``body`` as an unsigned decimal string, the form PayPal signs."""
    return str(zlib.crc32(body) & 0xFFFFFFFF)


def signed_message(
    transmission_id: str, transmission_time: str, webhook_id: str, body: bytes
) -> bytes:
    """The exact bytes PayPal signs for a delivery."""
    return f"{transmission_id}|{transmission_time}|{webhook_id}|{crc32_decimal(body)}".encode()


def verify_offline(
    headers: Mapping[str, str], body: bytes, webhook_id: str, cert_pem: bytes
) -> bool:
    """True only if the delivery's signature verifies with the certificate's RSA key.

    ``body`` must be the raw request bytes and ``webhook_id`` the id of *our* webhook
    (``WEBHOOK_ID`` for simulator events). ``cert_pem`` is the certificate already fetched from an
    approved URL (see :func:`validate_cert_url`); its validity period is deliberately not checked
    here. Any malformed input yields ``False``, never an exception.
    """
    parsed = transmission_headers(headers)
    if parsed is None or parsed.auth_algo != AUTH_ALGO:
        return False
    try:
        signature = base64.b64decode(parsed.transmission_sig, validate=True)
        public_key = x509.load_pem_x509_certificate(cert_pem).public_key()
    except (binascii.Error, ValueError):
        return False
    if not isinstance(public_key, rsa.RSAPublicKey):
        return False
    message = signed_message(parsed.transmission_id, parsed.transmission_time, webhook_id, body)
    try:
        public_key.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        return False
    return True


class CertificateURLError(ValueError):
    """A ``PAYPAL-CERT-URL`` that we refuse to download from."""


def _host_is_paypal(host: str) -> bool:
    return host == "paypal.com" or host.endswith(".paypal.com")


def _matches_trusted_prefix(url: str, trusted: str) -> bool:
    # Exactly the trusted certificate URL: same scheme, host, port and path, no user info, no
    # query or fragment. A prefix would also admit any other page under it, and a page that
    # echoes its input could then serve a forged certificate.
    got, want = urlsplit(url), urlsplit(trusted)
    try:
        same_port = got.port == want.port
    except ValueError:
        return False
    return (
        same_port
        and got.scheme == want.scheme
        and got.username is None
        and got.password is None
        and got.hostname == want.hostname
        and got.path == want.path
        and not got.query
        and not got.fragment
        and "@" not in got.netloc
    )


def validate_cert_url(url: str, *, trusted_prefixes: Iterable[str] = ()) -> str:
    """Return ``url`` if certificates may be downloaded from it, else raise CertificateURLError.

    Accepted: ``https`` on ``paypal.com`` or one of its subdomains, default port, no user info.
    ``trusted_prefixes`` is an explicit override for the local sandbox: the exact URLs of its
    certificates (e.g. ``"http://localhost:8000/public/paypal/sandbox/v1/notifications/certs/
    CERT-facturo-sandbox"``), accepted only as they are. Never put user input in it.
    """
    for prefix in trusted_prefixes:
        if _matches_trusted_prefix(url, prefix):
            return url
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise CertificateURLError(f"malformed certificate URL: {url!r}") from exc
    if parts.scheme != "https":
        raise CertificateURLError("certificate URL must use https")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise CertificateURLError("certificate URL must not carry user info")
    if port not in (None, 443):
        raise CertificateURLError("certificate URL must use the default https port")
    host = (parts.hostname or "").rstrip(".")
    if not _host_is_paypal(host):
        raise CertificateURLError(f"certificate host {host!r} is not paypal.com")
    return url


class _CacheBase:
    def __init__(self, *, trusted_prefixes: Iterable[str] = ()) -> None:
        self.trusted_prefixes = tuple(trusted_prefixes)
        self._certs: dict[str, bytes] = {}

    def _check(self, url: str) -> bytes | None:
        validate_cert_url(url, trusted_prefixes=self.trusted_prefixes)
        return self._certs.get(url)

    def _store(self, url: str, response: httpx.Response) -> bytes:
        response.raise_for_status()
        pem = response.content
        x509.load_pem_x509_certificate(pem)  # refuse to cache something that is not a cert
        self._certs[url] = pem
        return pem


class CertificateCache(_CacheBase):
    """Signing certificates by URL, downloaded once with an injected ``httpx.Client``.

    The cache lives as long as the object (one per process is the intended use); URLs are
    checked with :func:`validate_cert_url` before any request is made.
    """

    def __init__(self, http: httpx.Client, *, trusted_prefixes: Iterable[str] = ()) -> None:
        super().__init__(trusted_prefixes=trusted_prefixes)
        self._http = http

    def get(self, url: str) -> bytes:
        """PEM bytes of the certificate at ``url``; raises CertificateURLError or httpx errors."""
        cached = self._check(url)
        if cached is not None:
            return cached
        return self._store(url, self._http.get(url))


class AsyncCertificateCache(_CacheBase):
    """:class:`CertificateCache` over an ``httpx.AsyncClient``."""

    def __init__(self, http: httpx.AsyncClient, *, trusted_prefixes: Iterable[str] = ()) -> None:
        super().__init__(trusted_prefixes=trusted_prefixes)
        self._http = http

    async def get(self, url: str) -> bytes:
        """PEM bytes of the certificate at ``url``; raises CertificateURLError or httpx errors."""
        cached = self._check(url)
        if cached is not None:
            return cached
        return self._store(url, await self._http.get(url))


def parse_transmission_time(value: str) -> datetime | None:
    """Parse ``PAYPAL-TRANSMISSION-TIME`` (ISO 8601, ``Z`` suffix) to an aware datetime."""
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def is_stale(
    transmission_time: str, now: datetime, tolerance: timedelta = DEFAULT_TOLERANCE
) -> bool:
    """True if the delivery should be refused as a replay.

    Stale means more than ``tolerance`` away from ``now`` in either direction (a time far in the
    future is as suspicious as an old one), or a time that cannot be parsed. ``now`` must be
    timezone-aware.
    """
    sent = parse_transmission_time(transmission_time)
    if sent is None:
        return True
    return abs(now - sent) > tolerance


@dataclass(frozen=True)
class WebhookEvent:
    """The envelope of a webhook event; ``resource`` is the capture, refund, order… as sent."""

    id: str
    event_type: str
    resource_type: str
    resource: dict[str, Any]

    @property
    def related_capture_id(self) -> str | None:
        """For a refund or reversal resource, the capture id from its ``rel: up`` link."""
        for link in self.resource.get("links", []):
            if link.get("rel") == "up" and "/captures/" in link.get("href", ""):
                return str(link["href"]).rstrip("/").rsplit("/", 1)[-1]
        return None


def parse_event(body: bytes) -> WebhookEvent:
    """Parse a (verified) webhook body; raises ValueError if it is not an event envelope."""
    data = json.loads(body)
    if (
        not isinstance(data, dict)
        or not isinstance(data.get("resource"), dict)
        or not {"id", "event_type"} <= data.keys()
    ):
        raise ValueError("not a PayPal webhook event")
    return WebhookEvent(
        id=str(data["id"]),
        event_type=str(data["event_type"]),
        resource_type=str(data.get("resource_type", "")),
        resource=data["resource"],
    )
