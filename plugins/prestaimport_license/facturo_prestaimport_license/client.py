"""What the desktop tool and the server must agree on, in one embeddable module.

This module depends only on the standard library and ``cryptography`` so that PrestaImport GUI
can ship a copy of it unchanged. It holds:

* the licence key format (normalisation, check group, ``key_hash``),
* shop normalisation and the shop fingerprint,
* verification of a signed envelope (Ed25519, key id, domain-separated signing input),
* :func:`verify_lease`, the offline decision over a cached lease (licensing.md §6.5).

The server modules (``keys``, ``signing``, ``evaluation``) import from here, so both sides can
never drift apart.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import ipaddress
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

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
# Licence key format: TAG-XXXXX-XXXXX-XXXXX-XXXXX-XXXXX-CC  (licensing.md §6.2)
# ---------------------------------------------------------------------------------------------

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford Base32: no I, L, O, U
DEFAULT_PREFIX = "PIG"  # PrestaImport GUI
FORMAT_VERSION = "1"
BODY_LENGTH = 25  # 25 x 5 bits = 125 random bits
CHECK_LENGTH = 2  # 10 bits of SHA-256: typo detection only, not security
GROUP_SIZE = 5
MAX_INPUT_LENGTH = 200

_CONFUSABLES = str.maketrans({"O": "0", "I": "1", "L": "1"})
_NOT_ALPHABET = re.compile(f"[^{ALPHABET}]")
# Separators people paste: spaces of any kind, ASCII and typographic dashes.
_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u2212]+")


class KeyFormatError(ValueError):
    """A licence key that is malformed; ``reason`` is a stable machine-readable word."""

    code = "KEY_FORMAT_INVALID"

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@lru_cache(maxsize=16)
def key_tag(prefix: str = DEFAULT_PREFIX) -> str:
    """Return the key's leading tag: the product prefix plus the format version (``PIG1``)."""
    if not re.fullmatch(r"[A-Z]{2,8}", prefix):
        raise ValueError(f"product prefix must be 2-8 letters A-Z, got {prefix!r}")
    return prefix + FORMAT_VERSION


def check_group(tag: str, body: str) -> str:
    """Return the 2-character check group: the first 10 bits of SHA-256(tag + body)."""
    digest = hashlib.sha256((tag + body).encode("ascii")).digest()
    bits = int.from_bytes(digest[:2], "big") >> 6
    return ALPHABET[bits >> 5] + ALPHABET[bits & 0x1F]


def normalize_key(raw: str, prefix: str = DEFAULT_PREFIX) -> str:
    """Return the canonical compact form of a typed or pasted key, or raise KeyFormatError.

    Case, spaces and dashes are ignored and the confusables O→0, I→1, L→1 are mapped. This is a
    pure syntactic check (length, alphabet, prefix, check group): run it before any lookup.
    """
    tag = key_tag(prefix)
    if not isinstance(raw, str):
        raise KeyFormatError("type", "the licence key must be text")
    if len(raw) > MAX_INPUT_LENGTH:
        raise KeyFormatError("length", "the licence key is far too long")
    compact = _SEPARATORS.sub("", raw)
    if not compact:
        raise KeyFormatError("empty", "the licence key is empty")
    if not compact.isascii():
        raise KeyFormatError(
            "character", "the licence key contains a character that is not A-Z/0-9"
        )
    compact = compact.upper()
    expected = len(tag) + BODY_LENGTH + CHECK_LENGTH
    if len(compact) != expected:
        raise KeyFormatError(
            "length",
            f"the licence key has {len(compact)} characters, expected {expected}"
            " (not counting dashes)",
        )
    # The tag may contain confusable letters itself (PIG): compare both sides mapped.
    if compact[: len(tag)].translate(_CONFUSABLES) != tag.translate(_CONFUSABLES):
        raise KeyFormatError("prefix", f"the licence key must start with {tag}")
    rest = compact[len(tag) :].translate(_CONFUSABLES)
    stray = _NOT_ALPHABET.search(rest)
    if stray is not None:
        char, position = stray.group(), stray.start() + len(tag) + 1
        raise KeyFormatError(
            "character", f"the licence key has an invalid character {char!r} at {position}"
        )
    body, check = rest[:BODY_LENGTH], rest[BODY_LENGTH:]
    if check_group(tag, body) != check:
        raise KeyFormatError("check", "the licence key has a typo: its check group does not match")
    return tag + body + check


def format_key(normalized: str) -> str:
    """Return a normalised key grouped with dashes for display: ``PIG1-XXXXX-…-XXXXX-CC``."""
    tag_length = len(normalized) - BODY_LENGTH - CHECK_LENGTH
    tag, body = normalized[:tag_length], normalized[tag_length:-CHECK_LENGTH]
    groups = [body[i : i + GROUP_SIZE] for i in range(0, BODY_LENGTH, GROUP_SIZE)]
    return "-".join([tag, *groups, normalized[-CHECK_LENGTH:]])


@lru_cache(maxsize=4096)
def key_hash(normalized: str) -> str:
    """Return base64url(SHA-256(normalised key)): how a lease names its key without holding it."""
    return b64url_encode(hashlib.sha256(normalized.encode("ascii")).digest())


# ---------------------------------------------------------------------------------------------
# Shops
# ---------------------------------------------------------------------------------------------

_PLATFORM = re.compile(r"[a-z0-9][a-z0-9._-]{0,31}")
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_SHOP_ID = re.compile(r"[\x21-\x7e]{1,128}")  # printable ASCII, no spaces


class ShopError(ValueError):
    """A shop reference that cannot be normalised (missing or invalid platform, URL or id)."""


@dataclass(frozen=True)
class Shop:
    """A shop as the desktop tool knows it: platform, public URL and optional platform id."""

    platform: str
    url: str
    shop_id: str | None = None


@dataclass(frozen=True)
class NormalizedShop:
    """A normalised shop: lower-case platform, bare IDNA host, its fingerprint ``fp``."""

    platform: str
    host: str
    shop_id: str | None
    fp: str


def normalize_host(url: str) -> str:
    """Return the bare host of a shop URL: lower-case, IDNA, no scheme/port/path/``www.``."""
    text = url.strip()
    if not text or len(text) > 2048:
        raise ShopError("the shop URL is empty or too long")
    if "://" not in text:
        text = "//" + text
    try:
        parts = urlsplit(text)
        host = parts.hostname
        parts.port  # noqa: B018 -- raises ValueError on a malformed port
    except ValueError as exc:
        raise ShopError(f"the shop URL is not valid: {exc}") from None
    if not host:
        raise ShopError("the shop URL has no host")
    host = host.rstrip(".").lower()
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    try:
        host = host.encode("idna").decode("ascii")
    except UnicodeError:
        raise ShopError("the shop host is not a valid domain name") from None
    if host.startswith("www.") and host.count(".") >= 2:
        host = host[4:]
    labels = host.split(".")
    if len(host) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
        raise ShopError("the shop host is not a valid domain name")
    return host


@lru_cache(maxsize=4096)
def normalize_shop(shop: Shop) -> NormalizedShop:
    """Normalise a shop reference and compute its fingerprint, or raise ShopError.

    ``fp = base64url(SHA-256(platform | "id:" shop_id))`` when the platform id is given, else
    ``… | "host:" host``: the platform id is preferred because it survives a domain change.
    """
    platform = shop.platform.strip().lower()
    if not _PLATFORM.fullmatch(platform):
        raise ShopError("the shop platform is missing or invalid")
    host = normalize_host(shop.url)
    shop_id = shop.shop_id.strip() if shop.shop_id is not None else None
    if shop_id == "":
        shop_id = None
    if shop_id is not None and not _SHOP_ID.fullmatch(shop_id):
        raise ShopError("the shop id is invalid")
    anchor = f"id:{shop_id}" if shop_id is not None else f"host:{host}"
    fp = b64url_encode(hashlib.sha256(f"{platform}|{anchor}".encode()).digest())
    return NormalizedShop(platform=platform, host=host, shop_id=shop_id, fp=fp)


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


_B64URL = re.compile(r"[A-Za-z0-9_-]*={0,2}")


def b64url_encode(data: bytes) -> str:
    """Return unpadded base64url text."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Decode base64url text, padded or not, rejecting stray characters (ValueError)."""
    if not isinstance(text, str) or not _B64URL.fullmatch(text):
        raise ValueError("invalid base64url")
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError, TypeError):
        raise ValueError("invalid base64url") from None
