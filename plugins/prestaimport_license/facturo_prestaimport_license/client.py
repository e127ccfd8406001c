"""What the desktop tool and the server must agree on, in two embeddable modules.

This module and :mod:`.client_formats` (the key format and shop normalisation, re-exported
here) depend only on the standard library and ``cryptography`` so that PrestaImport GUI can
ship copies of both unchanged. Together they hold:

* the licence key format (normalisation, check group, ``key_hash``),
* shop normalisation and the shop fingerprint,
* verification of a signed envelope (Ed25519, key id, domain-separated signing input),
* :func:`verify_lease`, the offline decision over a cached lease (licensing.md §6.5).

The server modules (``keys``, ``signing``, ``evaluation``) import from here, so both sides can
never drift apart.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from .client_formats import (
    ALPHABET as ALPHABET,
)
from .client_formats import (
    DEFAULT_PREFIX as DEFAULT_PREFIX,
)
from .client_formats import (
    KeyFormatError as KeyFormatError,
)
from .client_formats import (
    NormalizedShop as NormalizedShop,
)
from .client_formats import (
    Shop as Shop,
)
from .client_formats import (
    ShopError as ShopError,
)
from .client_formats import (
    b64url_decode as b64url_decode,
)
from .client_formats import (
    b64url_encode as b64url_encode,
)
from .client_formats import (
    check_group as check_group,
)
from .client_formats import (
    format_key as format_key,
)
from .client_formats import (
    key_hash as key_hash,
)
from .client_formats import (
    key_tag as key_tag,
)
from .client_formats import (
    normalize_host as normalize_host,
)
from .client_formats import (
    normalize_key as normalize_key,
)
from .client_formats import (
    normalize_shop as normalize_shop,
)

__all__ = [
    "ALPHABET",
    "DEFAULT_PREFIX",
    "LEASE_CONTEXT",
    "AddonStatus",
    "ClientAddon",
    "ClientCode",
    "ClientState",
    "EnvelopeError",
    "KeyFormatError",
    "LeaseDecision",
    "NormalizedShop",
    "RenewalOffer",
    "Shop",
    "ShopError",
    "check_group",
    "format_key",
    "key_hash",
    "normalize_key",
    "normalize_shop",
    "public_keys_from_jwks",
    "renewal_offers",
    "verify_envelope",
    "verify_lease",
    "verify_response",
]

# ---------------------------------------------------------------------------------------------
# Signed envelopes
# ---------------------------------------------------------------------------------------------

LEASE_CONTEXT = "prestaimport-lease/v1"
LEASE_TYPE = "license-validation"
LEASE_VERSION = 1
ALGORITHM = "ed25519"


class ClientCode(StrEnum):
    """Codes decided by the desktop tool itself; the server never sends them."""

    SIGNATURE_INVALID = "SIGNATURE_INVALID"
    UNKNOWN_KEY_ID = "UNKNOWN_KEY_ID"
    BINDING_MISMATCH = "BINDING_MISMATCH"
    CLOCK_TAMPERED = "CLOCK_TAMPERED"
    LEASE_ROLLBACK = "LEASE_ROLLBACK"
    LEASE_EXPIRED = "LEASE_EXPIRED"
    OFFLINE_GRACE = "OFFLINE_GRACE"
    NONCE_MISMATCH = "NONCE_MISMATCH"
    RESPONSE_STALE = "RESPONSE_STALE"


class EnvelopeError(ValueError):
    """An envelope that cannot be trusted; ``code`` is SIGNATURE_INVALID or UNKNOWN_KEY_ID."""

    def __init__(self, code: ClientCode, message: str) -> None:
        super().__init__(message)
        self.code = code


def signing_input(payload_b64: str, context: str = LEASE_CONTEXT) -> bytes:
    """Return the exact bytes that are signed: ``context + "." + payload`` (domain separation)."""
    return f"{context}.{payload_b64}".encode("ascii")


def verify_envelope(
    envelope: Mapping[str, Any],
    public_keys: Mapping[str, Ed25519PublicKey],
    *,
    context: str = LEASE_CONTEXT,
) -> dict[str, Any]:
    """Verify an envelope's signature and return its decoded payload, or raise EnvelopeError.

    The signature is checked over the payload text exactly as received, before any payload field
    is read; the key is chosen by ``kid`` among ``public_keys``.
    """
    if not isinstance(envelope, Mapping):
        raise EnvelopeError(ClientCode.SIGNATURE_INVALID, "the envelope is not an object")
    alg, kid = envelope.get("alg"), envelope.get("kid")
    payload_b64, sig_b64 = envelope.get("payload"), envelope.get("sig")
    if alg != ALGORITHM:
        raise EnvelopeError(ClientCode.SIGNATURE_INVALID, f"unsupported algorithm {alg!r}")
    if not (isinstance(kid, str) and isinstance(payload_b64, str) and isinstance(sig_b64, str)):
        raise EnvelopeError(ClientCode.SIGNATURE_INVALID, "the envelope is missing fields")
    public_key = public_keys.get(kid)
    if public_key is None:
        raise EnvelopeError(ClientCode.UNKNOWN_KEY_ID, f"unknown signing key id {kid!r}")
    try:
        signature = b64url_decode(sig_b64)
        public_key.verify(signature, signing_input(payload_b64, context))
    except (ValueError, InvalidSignature):
        raise EnvelopeError(ClientCode.SIGNATURE_INVALID, "the signature is not valid") from None
    try:
        payload = json.loads(b64url_decode(payload_b64))
    except ValueError:
        raise EnvelopeError(ClientCode.SIGNATURE_INVALID, "the payload is not JSON") from None
    if not isinstance(payload, dict):
        raise EnvelopeError(ClientCode.SIGNATURE_INVALID, "the payload is not an object")
    return payload


def public_keys_from_jwks(
    jwks: Mapping[str, Any] | Sequence[Mapping[str, Any]],
) -> dict[str, Ed25519PublicKey]:
    """Load ``{"keys": [...]}`` (or the bare list) as published by the server into ``kid → key``."""
    entries = jwks["keys"] if isinstance(jwks, Mapping) else jwks
    keys: dict[str, Ed25519PublicKey] = {}
    for entry in entries:
        if entry.get("kty") != "OKP" or entry.get("crv") != "Ed25519":
            continue
        keys[str(entry["kid"])] = Ed25519PublicKey.from_public_bytes(b64url_decode(entry["x"]))
    return keys


# ---------------------------------------------------------------------------------------------
# Lease verification (licensing.md §6.5)
# ---------------------------------------------------------------------------------------------


class AddonStatus(StrEnum):
    """Per-add-on status, shared by the server evaluation and the client."""

    INACTIVE = "INACTIVE"
    NOT_STARTED = "NOT_STARTED"
    ACTIVE = "ACTIVE"
    GRACE = "GRACE"
    EXPIRED = "EXPIRED"


USABLE_ADDON_STATUSES = frozenset({AddonStatus.ACTIVE, AddonStatus.GRACE})


@dataclass(frozen=True)
class ClientState:
    """What the desktop tool persists between runs (beside the lease file).

    ``last_seen_utc`` is the high-water mark of the clock; ``newest_issued_at`` the issue time of
    the newest lease ever accepted; ``last_online_ok_at`` the last signed online answer.
    """

    last_seen_utc: datetime | None = None
    newest_issued_at: datetime | None = None
    last_online_ok_at: datetime | None = None


@dataclass(frozen=True)
class ClientAddon:
    """One add-on as the client sees it now: status recomputed from the signed dates."""

    code: str
    status: AddonStatus
    usable: bool
    expires_at: datetime | None
    grace_until: datetime | None
    supplier_id: int | None = None


@dataclass(frozen=True)
class LeaseDecision:
    """The outcome of checking a lease.

    ``accepted`` means the lease itself is trustworthy and current; ``valid`` means the licence is
    usable (accepted and the server said valid). ``code`` is the server's licence code when the
    lease is accepted, else a :class:`ClientCode`. Persist ``state`` whatever the outcome.
    """

    accepted: bool
    valid: bool
    code: str
    detail: str
    state: ClientState
    addons: tuple[ClientAddon, ...] = ()
    payload: dict[str, Any] | None = field(default=None, repr=False)

    def addon_usable(self, code: str) -> bool:
        """Return True when the add-on ``code`` may be used right now."""
        return any(addon.code == code and addon.usable for addon in self.addons)

    @property
    def offers(self) -> tuple[RenewalOffer, ...]:
        """The renewal offers the server signed into an accepted lease (see
        :func:`renewal_offers`)."""
        return renewal_offers(self)


@dataclass(frozen=True)
class RenewalOffer:
    """A signed renewal offer for an add-on near its expiry: what to pay (``amount`` with tax,
    ``due`` after credit and payments), the proforma it pays, a one-time ``pay_url`` valid until
    ``pay_url_expires_at`` and, for a bank transfer, the EPC QR payload ``epc_qr``."""

    addon: str
    supplier_id: int | None
    name: str
    expires_at: datetime | None
    proforma: str
    currency: str
    base: Decimal
    tax: Decimal
    amount: Decimal
    due: Decimal
    pay_url: str
    pay_url_expires_at: datetime
    epc_qr: str | None

    def link_usable(self, now: datetime) -> bool:
        """True while the payment link has not expired (it may still have been used)."""
        return now < self.pay_url_expires_at


def renewal_offers(decision: LeaseDecision) -> tuple[RenewalOffer, ...]:
    """The renewal offers of a lease that :func:`verify_lease` (or :func:`verify_response`)
    accepted: they were signed with the rest of the lease, so a changed offer fails the
    signature and the lease is not accepted. Empty when the lease was not accepted or has none;
    an offer with malformed fields is left out."""
    if not decision.accepted or decision.payload is None:
        return ()
    offers = []
    for item in decision.payload.get("offers") or []:
        try:
            supplier_id = item.get("supplier_id")
            offers.append(
                RenewalOffer(
                    addon=str(item["addon"]),
                    supplier_id=supplier_id if isinstance(supplier_id, int) else None,
                    name=str(item.get("name") or ""),
                    expires_at=parse_time_or_none(item.get("expires_at")),
                    proforma=str(item["proforma"]),
                    currency=str(item["currency"]),
                    base=Decimal(str(item["base"])),
                    tax=Decimal(str(item["tax"])),
                    amount=Decimal(str(item["amount"])),
                    due=Decimal(str(item["due"])),
                    pay_url=str(item["pay_url"]),
                    pay_url_expires_at=parse_time(item["pay_url_expires_at"]),
                    epc_qr=str(item["epc_qr"]) if item.get("epc_qr") else None,
                )
            )
        except (AttributeError, KeyError, TypeError, ValueError, InvalidOperation):
            continue
    return tuple(offers)


CLOCK_SKEW = timedelta(minutes=10)
ISSUE_SKEW = timedelta(minutes=5)
FRESHNESS = timedelta(minutes=5)


def verify_lease(
    envelope: Mapping[str, Any],
    public_keys: Mapping[str, Ed25519PublicKey],
    shop: Shop,
    now: datetime,
    last_seen: ClientState | None = None,
    *,
    key: str | None = None,
    offline_grace: timedelta = timedelta(0),
    network_failure: bool = False,
    max_offline: timedelta | None = None,
    clock_skew: timedelta = CLOCK_SKEW,
) -> LeaseDecision:
    """Decide offline whether a cached lease may be used at ``now`` for ``shop``.

    Rejects, in this order: a bad or unverifiable signature (SIGNATURE_INVALID, UNKNOWN_KEY_ID),
    a lease for another shop or key (BINDING_MISMATCH; ``key`` is the normalised key, checked
    when given), a clock behind the lease's issue time or behind ``last_seen.last_seen_utc``
    (CLOCK_TAMPERED), a lease older than the newest accepted (LEASE_ROLLBACK), and an expired
    lease (LEASE_EXPIRED; OFFLINE_GRACE instead when ``network_failure`` and within
    ``offline_grace``, capped by ``max_offline`` since the last online success).
    """
    _require_aware(now)
    state = last_seen or ClientState()
    high_water = max(now, state.last_seen_utc) if state.last_seen_utc else now
    seen_state = replace(state, last_seen_utc=high_water)

    def reject(
        code: ClientCode, detail: str, payload: dict[str, Any] | None = None
    ) -> LeaseDecision:
        return LeaseDecision(False, False, code, detail, seen_state, payload=payload)

    try:
        payload = verify_envelope(envelope, public_keys)
        if payload.get("typ") != LEASE_TYPE or payload.get("v") != LEASE_VERSION:
            raise ValueError("not a version 1 licence validation payload")
        request, lease = payload["request"], payload["lease"]
        issued_at = parse_time(lease["issued_at"])
        expires_at = parse_time(lease["expires_at"])
        lease_shop_fp = request["shop_fp"]
        lease_key_hash = request.get("key_hash")
    except EnvelopeError as exc:
        return reject(exc.code, str(exc))
    except (KeyError, TypeError, ValueError):
        return reject(ClientCode.SIGNATURE_INVALID, "the lease payload is incomplete")

    try:
        shop_fp = normalize_shop(shop).fp
    except ShopError as exc:
        return reject(ClientCode.BINDING_MISMATCH, f"the configured shop is invalid: {exc}")
    if lease_shop_fp != shop_fp:
        return reject(ClientCode.BINDING_MISMATCH, "the lease was issued for another shop", payload)
    if key is not None and lease_key_hash != key_hash(key):
        return reject(ClientCode.BINDING_MISMATCH, "the lease was issued for another key", payload)

    if now < issued_at - ISSUE_SKEW:
        return reject(ClientCode.CLOCK_TAMPERED, "the clock is behind the lease's issue time")
    if state.last_seen_utc is not None and now < state.last_seen_utc - clock_skew:
        return reject(ClientCode.CLOCK_TAMPERED, "the clock was set back")
    if state.newest_issued_at is not None and issued_at < state.newest_issued_at:
        return reject(ClientCode.LEASE_ROLLBACK, "an older lease was restored", payload)

    newest = max(issued_at, state.newest_issued_at) if state.newest_issued_at else issued_at
    new_state = replace(seen_state, newest_issued_at=newest)
    code, detail = str(payload.get("code", "")), str(payload.get("detail", ""))
    if now >= expires_at:
        offline_until = expires_at + offline_grace
        if max_offline is not None and state.last_online_ok_at is not None:
            offline_until = min(offline_until, state.last_online_ok_at + max_offline)
        if not (network_failure and now < offline_until):
            return LeaseDecision(
                False, False, ClientCode.LEASE_EXPIRED, "the lease expired", new_state
            )
        code, detail = ClientCode.OFFLINE_GRACE, "offline grace after a network failure"

    valid = payload.get("valid") is True
    try:
        addons = tuple(_client_addon(item, now, valid) for item in payload.get("addons", []))
    except (KeyError, TypeError, ValueError):
        return reject(ClientCode.SIGNATURE_INVALID, "the lease lists malformed add-ons")
    return LeaseDecision(True, valid, code, detail, new_state, addons, payload)


def verify_response(
    envelope: Mapping[str, Any],
    public_keys: Mapping[str, Ed25519PublicKey],
    shop: Shop,
    now: datetime,
    nonce: str,
    last_seen: ClientState | None = None,
    *,
    key: str | None = None,
) -> LeaseDecision:
    """Check a fresh online answer: the lease rules plus the nonce echo and ``|ts - now| < 5 min``.

    On success the state's clock mark is reset to ``now`` (the server corroborated it) and
    ``last_online_ok_at`` is set, so the envelope can replace the cached lease.
    """
    _require_aware(now)
    state = last_seen or ClientState()
    # The server just corroborated the clock, so a stale high-water mark must not block it.
    decision = verify_lease(
        envelope, public_keys, shop, now, replace(state, last_seen_utc=None), key=key
    )
    if decision.payload is None or decision.code in (
        ClientCode.SIGNATURE_INVALID,
        ClientCode.UNKNOWN_KEY_ID,
        ClientCode.BINDING_MISMATCH,
    ):
        return replace(decision, state=state)
    payload = decision.payload
    if payload.get("nonce") != nonce:
        return LeaseDecision(False, False, ClientCode.NONCE_MISMATCH, "nonce not echoed", state)
    try:
        ts = parse_time(payload["ts"])
    except (KeyError, TypeError, ValueError):
        return LeaseDecision(False, False, ClientCode.SIGNATURE_INVALID, "no server time", state)
    if abs(ts - now) >= FRESHNESS:
        return LeaseDecision(
            False, False, ClientCode.RESPONSE_STALE, "the answer is not fresh", state
        )
    if not decision.accepted:
        return replace(decision, state=state)
    return replace(
        decision, state=replace(decision.state, last_seen_utc=now, last_online_ok_at=now)
    )


def _client_addon(item: Mapping[str, Any], now: datetime, licence_valid: bool) -> ClientAddon:
    issued_status = AddonStatus(item["status"])
    expires_at = parse_time_or_none(item.get("expires_at"))
    grace_until = parse_time_or_none(item.get("grace_until"))
    status = issued_status
    # Expiry travels in the signed data, so an add-on lapses offline on schedule; it never
    # improves offline (NOT_STARTED/INACTIVE/EXPIRED stay as issued).
    if issued_status in USABLE_ADDON_STATUSES and expires_at is not None and now >= expires_at:
        in_grace = grace_until is not None and now < grace_until
        status = AddonStatus.GRACE if in_grace else AddonStatus.EXPIRED
    usable = licence_valid and item.get("valid") is True and status in USABLE_ADDON_STATUSES
    supplier_id = item.get("supplier_id")
    return ClientAddon(
        code=str(item["code"]),
        status=status,
        usable=usable,
        expires_at=expires_at,
        grace_until=grace_until,
        supplier_id=supplier_id if isinstance(supplier_id, int) else None,
    )


# ---------------------------------------------------------------------------------------------
# Small helpers (also used by the server modules)
# ---------------------------------------------------------------------------------------------


def format_time(value: datetime) -> str:
    """Return an aware datetime as an RFC 3339 UTC string with a ``Z`` suffix."""
    if value.tzinfo is not UTC:
        _require_aware(value)
        value = value.astimezone(UTC)
    return value.isoformat()[:-6] + "Z"  # drop the "+00:00" every UTC isoformat ends with


def parse_time(value: Any) -> datetime:
    """Parse an RFC 3339 string into an aware datetime (TypeError/ValueError otherwise)."""
    if not isinstance(value, str):
        raise TypeError("a time must be a string")
    parsed = datetime.fromisoformat(value)
    _require_aware(parsed)
    return parsed


def parse_time_or_none(value: Any) -> datetime | None:
    """Like :func:`parse_time`, passing ``None`` through."""
    return None if value is None else parse_time(value)


def _require_aware(value: datetime) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("datetimes must be timezone-aware (UTC)")
