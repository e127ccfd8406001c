"""The PayPal sandbox's in-memory state (orders, captures, webhooks signed like PayPal's)
and the request plumbing its API endpoints share: bearer auth, JSON bodies, error shapes and
``PayPal-Request-Id`` replay. The endpoints themselves are in :mod:`.sandbox`."""

from __future__ import annotations

import base64
import functools
import json
import re
import secrets
import string
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .settings import SANDBOX_CERT_PATH
from .webhooks import AUTH_ALGO, signed_message

CERT_PATH = SANDBOX_CERT_PATH
_AMOUNT = re.compile(r"^\d{1,10}(\.\d{2})?$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_ID_ALPHABET = string.ascii_uppercase + string.digits


def _paypal_id(length: int = 17) -> str:
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(length))


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class SandboxSigner:
    """The sandbox's webhook signing key and its self-signed certificate (PEM)."""

    private_key: rsa.RSAPrivateKey
    certificate_pem: bytes

    @classmethod
    def generate(cls) -> SandboxSigner:
        """A fresh 2048-bit RSA key and a one-year self-signed certificate."""
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "facturo-paypal-sandbox")])
        now = _utcnow()
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(days=365))
            .sign(key, hashes.SHA256())
        )
        return cls(key, cert.public_bytes(serialization.Encoding.PEM))

    @classmethod
    def of_this_process(cls) -> SandboxSigner:
        """One signer per process, made on first use: like PayPal's, the sandbox's signing key
        outlives its orders (a 2048-bit key costs ~60 ms to make, once per app otherwise)."""
        return _process_signer()

    def sign(self, message: bytes) -> str:
        """Base64 RSASSA-PKCS1-v1_5 / SHA-256 signature of ``message``."""
        signature = self.private_key.sign(message, padding.PKCS1v15(), hashes.SHA256())
        return base64.b64encode(signature).decode()


@functools.cache
def _process_signer() -> SandboxSigner:
    return SandboxSigner.generate()


@dataclass(frozen=True)
class Delivery:
    """One webhook delivery attempt: ``status_code`` is None when the request itself failed."""

    event_id: str
    event_type: str
    url: str
    status_code: int | None
    error: str | None = None


@dataclass(eq=False)
class SandboxState:
    """Configuration and in-memory data of one sandbox instance.

    ``public_url`` is the absolute URL of the mount point as seen by browsers and webhook
    receivers; when ``None`` it is derived from each request. ``capture_status`` lets tests
    simulate a ``PENDING`` capture.
    """

    client_id: str = "sandbox-client-id"
    client_secret: str = "sandbox-client-secret"
    webhook_id: str = "SANDBOX-WEBHOOK-ID"
    webhook_url: str | None = None
    http: httpx.AsyncClient | None = None
    public_url: str | None = None
    capture_status: str = "COMPLETED"
    token_ttl: int = 32400
    clock: Callable[[], datetime] = _utcnow
    signer: SandboxSigner = field(default_factory=SandboxSigner.of_this_process)
    tokens: dict[str, datetime] = field(default_factory=dict)
    token_requests: int = 0
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    captures: dict[str, dict[str, Any]] = field(default_factory=dict)
    refunds: dict[str, dict[str, Any]] = field(default_factory=dict)
    idempotency: dict[tuple[str, str], tuple[int, dict[str, Any]]] = field(default_factory=dict)
    deliveries: list[Delivery] = field(default_factory=list)
    ipn_messages: set[bytes] = field(default_factory=set)

    def issue_ipn(self, body: bytes) -> bytes:
        """Remember an IPN body as sent by this sandbox: its postback will answer VERIFIED."""
        self.ipn_messages.add(body)
        return body

    def signed_webhook(self, event: dict[str, Any], base_url: str) -> tuple[dict[str, str], bytes]:
        """Headers and body of a webhook delivery, signed like PayPal's."""
        body = json.dumps(event).encode()
        transmission_id = str(uuid.uuid1())
        transmission_time = _iso(self.clock())
        message = signed_message(transmission_id, transmission_time, self.webhook_id, body)
        headers = {
            "Content-Type": "application/json",
            "PAYPAL-TRANSMISSION-ID": transmission_id,
            "PAYPAL-TRANSMISSION-TIME": transmission_time,
            "PAYPAL-TRANSMISSION-SIG": self.signer.sign(message),
            "PAYPAL-CERT-URL": base_url + CERT_PATH,
            "PAYPAL-AUTH-ALGO": AUTH_ALGO,
            "PAYPAL-AUTH-VERSION": "v2",
        }
        return headers, body

    async def deliver(self, event: dict[str, Any], base_url: str) -> Delivery | None:
        """POST a signed event to ``webhook_url``; ``None`` if no URL or client is configured."""
        if self.webhook_url is None or self.http is None:
            return None
        headers, body = self.signed_webhook(event, base_url)
        try:
            response = await self.http.post(self.webhook_url, content=body, headers=headers)
            delivery = Delivery(
                event["id"], event["event_type"], self.webhook_url, response.status_code
            )
        except httpx.HTTPError as exc:
            delivery = Delivery(event["id"], event["event_type"], self.webhook_url, None, repr(exc))
        self.deliveries.append(delivery)
        return delivery

    def event(
        self, event_type: str, resource_type: str, resource: dict[str, Any]
    ) -> dict[str, Any]:
        """A webhook event envelope around ``resource``."""
        return {
            "id": f"WH-{_paypal_id()}-{_paypal_id()}",
            "event_version": "1.0",
            "create_time": _iso(self.clock()),
            "resource_type": resource_type,
            "resource_version": "2.0",
            "event_type": event_type,
            "summary": event_type.replace(".", " ").title(),
            "resource": resource,
        }


def _error(status: int, name: str, issue: str, description: str) -> JSONResponse:
    body = {
        "name": name,
        "message": description,
        "debug_id": _paypal_id(13).lower(),
        "details": [{"issue": issue, "description": description}],
    }
    return JSONResponse(body, status_code=status)


def _unprocessable(issue: str, description: str) -> JSONResponse:
    return _error(422, "UNPROCESSABLE_ENTITY", issue, description)


def _base_url(state: SandboxState, request: Request) -> str:
    if state.public_url is not None:
        return state.public_url.rstrip("/")
    root = request.scope.get("root_path", "")
    return f"{request.url.scheme}://{request.url.netloc}{root}".rstrip("/")


def _with_query(url: str, **params: str) -> str:
    parts = urlsplit(url)
    query = f"{parts.query}&{urlencode(params)}" if parts.query else urlencode(params)
    return urlunsplit(parts._replace(query=query))


def _authorized(state: SandboxState, request: Request) -> bool:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    expires = state.tokens.get(token)
    return scheme.lower() == "bearer" and expires is not None and state.clock() < expires


async def _json_body(request: Request) -> dict[str, Any] | None:
    raw = await request.body()
    if not raw:
        return {}
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


Handler = Callable[[SandboxState, Request, dict[str, Any]], Awaitable[Response]]


def _api(state: SandboxState, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """Bearer auth, JSON parsing and ``PayPal-Request-Id`` replay around an API handler."""

    async def endpoint(request: Request) -> Response:
        if not _authorized(state, request):
            body = {"error": "invalid_token", "error_description": "Token is invalid or expired"}
            return JSONResponse(body, status_code=401)
        data = await _json_body(request)
        if data is None:
            return _error(400, "INVALID_REQUEST", "MALFORMED_REQUEST_JSON", "Body is not JSON")
        request_id = request.headers.get("paypal-request-id")
        key = (request.url.path, request_id or "")
        if request_id and key in state.idempotency:
            status, stored = state.idempotency[key]
            return JSONResponse(stored, status_code=status)
        response = await handler(state, request, data)
        if request_id and isinstance(response, JSONResponse) and response.status_code < 500:
            state.idempotency[key] = (response.status_code, json.loads(bytes(response.body)))
        return response

    return endpoint
