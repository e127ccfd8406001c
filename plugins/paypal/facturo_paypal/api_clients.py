"""The PayPal clients that send what :mod:`.api` builds and read what it parses: a token
cache, :class:`PayPalClient` over an ``httpx.Client`` and :class:`AsyncPayPalClient` over an
``httpx.AsyncClient``."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from decimal import Decimal

import httpx

__all__ = ["AsyncPayPalClient", "PayPalClient", "TokenCache"]

from .api import (
    DEFAULT_TOKEN_MARGIN,
    AccessToken,
    Capture,
    CreatedOrder,
    OrderRequest,
    PayPalError,
    PayPalRequests,
    Refund,
    _json,
    parse_capture,
    parse_created_order,
    parse_refund,
    parse_token,
    parse_verification,
)


class TokenCache:
    """One access token, reused until ``expires_in - margin`` seconds have passed."""

    def __init__(
        self, margin: float = DEFAULT_TOKEN_MARGIN, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.margin = margin
        self.clock = clock
        self._token: AccessToken | None = None

    def current(self) -> str | None:
        """The cached token if still usable."""
        if self._token is not None and self.clock() < self._token.usable_until:
            return self._token.value
        return None

    def store(self, response: httpx.Response) -> str:
        """Cache the token from a token response and return it."""
        self._token = parse_token(response, self.clock(), self.margin)
        return self._token.value

    def clear(self) -> None:
        """Forget the token (e.g. after PayPal answered 401 to it)."""
        self._token = None


def _valid_json(body: bytes) -> bool:
    try:
        json.loads(body)
    except ValueError:
        return False
    return True


class PayPalClient:
    """Synchronous PayPal client over an injected ``httpx.Client``.

    Every method raises :class:`PayPalError` on failure. A 401 on a cached token drops the token
    and retries the call once with a fresh one.
    """

    def __init__(
        self,
        http: httpx.Client,
        base_url: str,
        client_id: str,
        client_secret: str,
        *,
        tokens: TokenCache | None = None,
    ) -> None:
        self._http = http
        self.requests = PayPalRequests(base_url, client_id, client_secret)
        self.tokens = tokens or TokenCache()

    def _send(self, request: httpx.Request) -> httpx.Response:
        try:
            return self._http.send(request)
        except httpx.HTTPError as exc:
            raise PayPalError(str(exc) or type(exc).__name__, name="TRANSPORT_ERROR") from exc

    def access_token(self) -> str:
        """A usable bearer token, from the cache or a new ``/v1/oauth2/token`` call."""
        return self.tokens.current() or self.tokens.store(self._send(self.requests.token()))

    def _call(self, build: Callable[[str], httpx.Request]) -> httpx.Response:
        cached = self.tokens.current() is not None
        response = self._send(build(self.access_token()))
        if response.status_code == 401 and cached:
            self.tokens.clear()
            response = self._send(build(self.access_token()))
        return response

    def create_order(self, order: OrderRequest, request_id: str) -> CreatedOrder:
        """Create a CAPTURE order; ``request_id`` makes a retried create return the same order."""
        return parse_created_order(
            self._call(lambda t: self.requests.create_order(t, order, request_id))
        )

    def capture_order(self, order_id: str, request_id: str) -> Capture:
        """Capture an approved order; on retry reuse ``request_id`` (e.g. ``capture-<id>``)."""
        return parse_capture(
            self._call(lambda t: self.requests.capture_order(t, order_id, request_id))
        )

    def get_order(self, order_id: str) -> tuple[str, Capture | None]:
        """Look an order up: its status and its first capture (None before any capture)."""
        response = self._call(lambda t: self.requests.get_order(t, order_id))
        data = _json(response)
        units = data.get("purchase_units") or [{}]
        has_capture = bool(((units[0] or {}).get("payments") or {}).get("captures"))
        return str(data.get("status", "")), parse_capture(response) if has_capture else None

    def refund_capture(
        self, capture_id: str, amount: Decimal, currency: str, request_id: str
    ) -> Refund:
        """Refund ``amount`` of a capture."""
        return parse_refund(
            self._call(
                lambda t: self.requests.refund_capture(t, capture_id, amount, currency, request_id)
            )
        )

    def verify_webhook_signature(
        self, headers: Mapping[str, str], body: bytes, webhook_id: str
    ) -> bool:
        """Ask PayPal whether a delivery is authentic (the online alternative to verify_offline)."""
        if not _valid_json(body):
            return False
        token = self.access_token()
        request = self.requests.verify_webhook_signature(token, headers, body, webhook_id)
        return request is not None and parse_verification(self._send(request))


class AsyncPayPalClient:
    """:class:`PayPalClient` over an injected ``httpx.AsyncClient``."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        base_url: str,
        client_id: str,
        client_secret: str,
        *,
        tokens: TokenCache | None = None,
    ) -> None:
        self._http = http
        self.requests = PayPalRequests(base_url, client_id, client_secret)
        self.tokens = tokens or TokenCache()

    async def _send(self, request: httpx.Request) -> httpx.Response:
        try:
            return await self._http.send(request)
        except httpx.HTTPError as exc:
            raise PayPalError(str(exc) or type(exc).__name__, name="TRANSPORT_ERROR") from exc

    async def access_token(self) -> str:
        """A usable bearer token, from the cache or a new ``/v1/oauth2/token`` call."""
        cached = self.tokens.current()
        if cached is not None:
            return cached
        return self.tokens.store(await self._send(self.requests.token()))

    async def _call(self, build: Callable[[str], httpx.Request]) -> httpx.Response:
        cached = self.tokens.current() is not None
        response = await self._send(build(await self.access_token()))
        if response.status_code == 401 and cached:
            self.tokens.clear()
            response = await self._send(build(await self.access_token()))
        return response

    async def create_order(self, order: OrderRequest, request_id: str) -> CreatedOrder:
        """Create a CAPTURE order; ``request_id`` makes a retried create return the same order."""
        return parse_created_order(
            await self._call(lambda t: self.requests.create_order(t, order, request_id))
        )

    async def capture_order(self, order_id: str, request_id: str) -> Capture:
        """Capture an approved order; on retry reuse ``request_id`` (e.g. ``capture-<id>``)."""
        return parse_capture(
            await self._call(lambda t: self.requests.capture_order(t, order_id, request_id))
        )

    async def refund_capture(
        self, capture_id: str, amount: Decimal, currency: str, request_id: str
    ) -> Refund:
        """Refund ``amount`` of a capture."""
        return parse_refund(
            await self._call(
                lambda t: self.requests.refund_capture(t, capture_id, amount, currency, request_id)
            )
        )

    async def verify_webhook_signature(
        self, headers: Mapping[str, str], body: bytes, webhook_id: str
    ) -> bool:
        """Ask PayPal whether a delivery is authentic (the online alternative to verify_offline)."""
        if not _valid_json(body):
            return False
        token = await self.access_token()
        request = self.requests.verify_webhook_signature(token, headers, body, webhook_id)
        return request is not None and parse_verification(await self._send(request))
