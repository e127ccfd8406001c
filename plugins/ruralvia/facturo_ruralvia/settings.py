"""Settings of a Ruralvía (Redsys) terminal and the gateway's endpoints."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from .currency import currency

__all__ = [
    "LANGUAGES",
    "LIVE_PAYMENT_URL",
    "LIVE_REST_URL",
    "PAYMENT_PATH",
    "REST_PATH",
    "TEST_PAYMENT_URL",
    "TEST_REST_URL",
    "Environment",
    "RuralviaSettings",
    "SettingsError",
]

TEST_PAYMENT_URL = "https://sis-t.redsys.es:25443/sis/realizarPago"
LIVE_PAYMENT_URL = "https://sis.redsys.es/sis/realizarPago"
TEST_REST_URL = "https://sis-t.redsys.es:25443/sis/rest/trataPeticionREST"
LIVE_REST_URL = "https://sis.redsys.es/sis/rest/trataPeticionREST"

# Paths of the same two endpoints below a base URL; the sandbox serves them too.
PAYMENT_PATH = "/sis/realizarPago"
REST_PATH = "/sis/rest/trataPeticionREST"

# DS_MERCHANT_CONSUMERLANGUAGE codes of the payment page.
LANGUAGES = {
    "es": "001",
    "en": "002",
    "ca": "003",
    "fr": "004",
    "de": "005",
    "nl": "006",
    "it": "007",
    "sv": "008",
    "pt": "009",
    "pl": "011",
    "gl": "012",
    "eu": "013",
}


class Environment(StrEnum):
    """Where payments go: Redsys' test host, the live host, or the local sandbox."""

    TEST = "test"
    LIVE = "live"
    SANDBOX = "sandbox"


class SettingsError(ValueError):
    """The ``[plugin.ruralvia]`` settings are invalid; ``errors`` lists every problem."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


@dataclass(frozen=True)
class RuralviaSettings:
    """A validated terminal configuration. Build it with :meth:`from_mapping`.

    ``sandbox_url`` is the absolute URL where the core mounted :func:`sandbox_routes`; it is
    only used when ``environment`` is ``sandbox``.
    """

    merchant_code: str
    terminal: str
    secret_key: str = field(repr=False)
    currency: str = "EUR"
    environment: Environment = Environment.TEST
    language: str | None = "es"
    sandbox_url: str | None = None

    @classmethod
    def from_mapping(cls, data: Mapping[str, object]) -> RuralviaSettings:
        """Validate raw settings (``merchant_code``, ``terminal``, ``secret_key``, ``currency``,
        ``environment``, ``language``, ``sandbox_url``) and raise :class:`SettingsError`
        listing every problem, without ever echoing the secret key."""
        errors: list[str] = []
        merchant_code = str(data.get("merchant_code", "")).strip()
        if not (merchant_code.isdigit() and 1 <= len(merchant_code) <= 9):
            errors.append("merchant_code (FUC) must be up to 9 digits")
        terminal = str(data.get("terminal", "1")).strip()
        if not (terminal.isdigit() and 1 <= len(terminal) <= 3):
            errors.append("terminal must be 1 to 3 digits")
        secret_key = str(data.get("secret_key", "")).strip()
        try:
            if len(base64.b64decode(secret_key, validate=True)) != 24:
                errors.append("secret_key must be the terminal's 32-character SHA-256 key")
        except (binascii.Error, ValueError):
            errors.append("secret_key is not valid base64")
        code = str(data.get("currency", "EUR")).strip()
        try:
            code = currency(code).code
        except ValueError:
            errors.append(f"currency {code!r} is not supported")
        try:
            environment = Environment(str(data.get("environment", "test")).strip().lower())
        except ValueError:
            errors.append("environment must be one of: test, live, sandbox")
            environment = Environment.TEST
        language: str | None = str(data.get("language", "es") or "").strip().lower() or None
        if language is not None and language not in LANGUAGES:
            errors.append(f"language must be one of: {', '.join(LANGUAGES)}")
        sandbox_url = data.get("sandbox_url")
        if errors:
            raise SettingsError(errors)
        return cls(
            merchant_code=merchant_code,
            terminal=terminal,
            secret_key=secret_key,
            currency=code,
            environment=environment,
            language=language,
            sandbox_url=str(sandbox_url).rstrip("/") if sandbox_url else None,
        )

    def _sandbox_base(self) -> str:
        if not self.sandbox_url:
            raise SettingsError(["the sandbox environment needs sandbox_url"])
        return self.sandbox_url.rstrip("/")

    @property
    def payment_url(self) -> str:
        """The URL the browser form posts to."""
        if self.environment is Environment.LIVE:
            return LIVE_PAYMENT_URL
        if self.environment is Environment.SANDBOX:
            return self._sandbox_base() + PAYMENT_PATH
        return TEST_PAYMENT_URL

    @property
    def rest_url(self) -> str:
        """The REST endpoint used for refunds."""
        if self.environment is Environment.LIVE:
            return LIVE_REST_URL
        if self.environment is Environment.SANDBOX:
            return self._sandbox_base() + REST_PATH
        return TEST_REST_URL

    @property
    def language_code(self) -> str | None:
        """The ``DS_MERCHANT_CONSUMERLANGUAGE`` code of :attr:`language`; None lets Redsys pick."""
        return LANGUAGES[self.language] if self.language else None
