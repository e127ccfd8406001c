"""The licence key format and shop normalisation that the desktop tool and the server share
(licensing.md §6.2, §6.4), with the base64url helpers; standard library only, shipped with
:mod:`.client` (which re-exports every public name here)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import ipaddress
import re
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit

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
