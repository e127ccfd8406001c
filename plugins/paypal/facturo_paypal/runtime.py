"""Per-Context objects that must live longer than a request: the token and certificate caches,
the long-lived async HTTP client and, in local mode, the sandbox's in-memory state."""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass, field

import httpx

from facturo.plugin import Context

from . import settings as settings_module
from .api_clients import AsyncPayPalClient, PayPalClient, TokenCache
from .sandbox import SandboxState
from .settings import PayPalSettings
from .webhooks import AsyncCertificateCache

TIMEOUT = httpx.Timeout(20.0, connect=10.0)


@dataclass(eq=False)
class Runtime:
    """What the plugin keeps for one Context (one per process in production)."""

    ctx: Context
    settings: PayPalSettings
    tokens: TokenCache = field(default_factory=TokenCache)
    _sandbox: SandboxState | None = None
    _cert_store: dict[str, bytes] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def sandbox(self) -> SandboxState:
        """The local sandbox's state (local mode only)."""
        with self._lock:
            if self._sandbox is None:
                self._sandbox = SandboxState(
                    client_id=self.settings.client_id,
                    client_secret=self.settings.secret,
                    webhook_id=self.settings.webhook_id,
                    webhook_url=self.settings.webhook_url,
                    http=httpx.AsyncClient(timeout=TIMEOUT),
                    public_url=self.settings.api_base_url,
                    clock=self.ctx.now,
                )
            return self._sandbox

    def certificates(self, http: httpx.AsyncClient) -> AsyncCertificateCache:
        """Webhook signing certificates, fetched once per URL (the store outlives requests)."""
        cache = AsyncCertificateCache(http, trusted_prefixes=self.settings.trusted_cert_prefixes)
        cache._certs = self._cert_store
        return cache

    def async_client(self, http: httpx.AsyncClient) -> AsyncPayPalClient:
        """An API client for async endpoints over ``http``; shares the cached token."""
        s = self.settings
        return AsyncPayPalClient(http, s.api_base_url, s.client_id, s.secret, tokens=self.tokens)

    def sync_client(self, http: httpx.Client) -> PayPalClient:
        """An API client for sync code (refunds from the staff area or the worker)."""
        s = self.settings
        return PayPalClient(http, s.api_base_url, s.client_id, s.secret, tokens=self.tokens)


_RUNTIMES: weakref.WeakKeyDictionary[Context, Runtime] = weakref.WeakKeyDictionary()
_GUARD = threading.Lock()


def runtime(ctx: Context) -> Runtime:
    """The Runtime of ``ctx``, created on first use."""
    with _GUARD:
        found = _RUNTIMES.get(ctx)
        if found is None:
            found = Runtime(ctx, settings_module.load(ctx))
            _RUNTIMES[ctx] = found
        return found
