"""Security headers and CSRF tokens."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Iterable
from typing import Any

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'self'; form-action {form_action}; frame-ancestors 'none'"
)
HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
]
CSRF_SESSION_KEY = "csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


def content_security_policy(hosts: list[str]) -> str:
    """The CSP: no inline scripts; forms post only to this site and to ``hosts`` (the origins
    the enabled payment gateways declare through ``form_action_hosts``)."""
    sources = ["'self'", *sorted({host for host in hosts if _is_origin(host)})]
    return CSP.format(form_action=" ".join(sources))


def _is_origin(value: str) -> bool:
    """A scheme and host (and port), nothing that could widen or break the policy."""
    if not value.startswith(("https://", "http://")):
        return False
    rest = value.split("://", 1)[1]
    return bool(rest) and all(ch.isalnum() or ch in ".-:[]" for ch in rest)


def security_headers(ctx: Any) -> list[tuple[bytes, bytes]]:
    """Every response's security headers for the installation: the CSP with the gateways'
    form hosts, HSTS when the site is served over https (``hsts_max_age``), and the rest."""
    hosts: list[str] = []
    for contributed in ctx.hook.form_action_hosts(ctx=ctx):
        hosts.extend(str(host).rstrip("/") for host in contributed or [])
    headers = [(b"content-security-policy", content_security_policy(hosts).encode()), *HEADERS]
    max_age = ctx.settings.security.hsts_max_age
    if ctx.settings.base_url.startswith("https://") and max_age > 0:
        headers.append((b"strict-transport-security", f"max-age={max_age}".encode()))
    return headers


class SecurityHeaders:
    """The security headers every answer gets (``security_headers``' list, by default
    ``HEADERS``); :class:`facturo.web.answers.AnswerMiddleware` adds them."""

    def __init__(self, headers: list[tuple[bytes, bytes]] | None = None) -> None:
        self.headers = headers if headers is not None else HEADERS
        self.names = frozenset(name for name, _ in self.headers)

    def added_to(self, headers: Iterable[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
        """An answer's headers with the security headers it does not set itself."""
        found = list(headers)
        if any(name.lower() in self.names for name, _ in found):
            existing = {name.lower() for name, _ in found}
            found.extend((n, v) for n, v in self.headers if n not in existing)
        else:  # the usual case: the response sets none of them itself
            found.extend(self.headers)
        return found


def csrf_token(session: dict[str, Any]) -> str:
    """The session's CSRF token, created on first use."""
    token = session.get(CSRF_SESSION_KEY)
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(32)
        session[CSRF_SESSION_KEY] = token
    return token


def csrf_valid(session: dict[str, Any], submitted: str | None) -> bool:
    """True when ``submitted`` equals the session's token (constant-time)."""
    expected = session.get(CSRF_SESSION_KEY)
    if not isinstance(expected, str) or not expected or not submitted:
        return False
    return hmac.compare_digest(expected, submitted)


def local_next(target: str | None, section: str) -> str:
    """``target`` when it is a path inside ``/<section>``, else the section's home (no open
    redirects to other sites)."""
    home = f"/{section}/"
    if not target or not target.startswith(f"/{section}") or target.startswith("//"):
        return home
    return target
