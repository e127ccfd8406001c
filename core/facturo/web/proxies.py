"""Who is calling: ``X-Forwarded-For`` and ``X-Forwarded-Proto`` are believed only when the
direct peer is one of the ``trusted_proxies`` (addresses or networks; default none). Anyone
else could write any address there and dodge the per-address rate limits."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from starlette.types import ASGIApp, Receive, Scope, Send

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(values: Iterable[str]) -> tuple[Network, ...]:
    """The ``trusted_proxies`` entries as networks (a bare address is a /32 or /128)."""
    return tuple(ipaddress.ip_network(value.strip(), strict=False) for value in values)


def is_trusted(address: str, networks: tuple[Network, ...]) -> bool:
    """True when ``address`` lies in one of ``networks``."""
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    return any(ip in network for network in networks)


def real_client(peer: str, forwarded_for: str, networks: tuple[Network, ...]) -> str:
    """The caller's address: ``peer`` unless it is a trusted proxy, in which case the right-most
    address of ``forwarded_for`` that is not itself a trusted proxy."""
    if not networks or not is_trusted(peer, networks):
        return peer
    hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not is_trusted(hop, networks):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return peer  # garbage in the header: keep the proxy's own address
    return hops[0] if hops else peer


class TrustedProxyMiddleware:
    """Rewrite the ASGI ``client`` (and ``scheme``) from the forwarding headers of trusted
    proxies only; leave every other request as the socket saw it."""

    def __init__(self, app: ASGIApp, trusted: Iterable[str] = ()) -> None:
        self.app = app
        self.networks = parse_networks(trusted)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and self.networks:
            client = scope.get("client")
            peer = client[0] if client else ""
            if peer and is_trusted(peer, self.networks):
                headers = dict(scope.get("headers") or [])
                forwarded = headers.get(b"x-forwarded-for", b"").decode("latin-1")
                proto = headers.get(b"x-forwarded-proto", b"").decode("latin-1").strip()
                scope = dict(scope)
                scope["client"] = (real_client(peer, forwarded, self.networks), 0)
                if proto in ("http", "https"):
                    scope["scheme"] = proto
        await self.app(scope, receive, send)
