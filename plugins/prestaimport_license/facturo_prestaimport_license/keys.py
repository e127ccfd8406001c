"""Licence keys on the server: generation, lookup HMAC, encrypted copy and log hint.

Format (licensing.md §6.2): ``PIG1-XXXXX-XXXXX-XXXXX-XXXXX-XXXXX-CC`` — product prefix plus
format version, 25 Crockford Base32 characters (125 random bits) and a 2-character check group.
Normalisation and the syntactic check are shared with the desktop tool and live in
:mod:`.client`; they are re-exported here.
"""

from __future__ import annotations

import hmac
import os
import secrets
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from .client_formats import (
    ALPHABET,
    BODY_LENGTH,
    DEFAULT_PREFIX,
    KeyFormatError,
    check_group,
    format_key,
    key_hash,
    key_tag,
    normalize_key,
)

__all__ = [
    "DEFAULT_PREFIX",
    "KeyDecryptionError",
    "KeyFormatError",
    "check_group",
    "decrypt_key",
    "encrypt_key",
    "format_key",
    "generate_key",
    "is_well_formed",
    "key_from_bits",
    "key_hash",
    "key_hint",
    "lookup_hmac",
    "mask_key",
    "normalize_key",
]

RANDOM_BITS = BODY_LENGTH * 5
HINT_LENGTH = 4
_CIPHER_VERSION = b"\x01"
_NONCE_LENGTH = 12
_ENCRYPTION_INFO = b"facturo/prestaimport_license/key-encryption/v1"
_LOOKUP_INFO = b"facturo/prestaimport_license/key-lookup/v1"


class KeyDecryptionError(ValueError):
    """The stored ciphertext cannot be decrypted (wrong secret, tampered or foreign row)."""


def key_from_bits(bits: int, prefix: str = DEFAULT_PREFIX) -> str:
    """Return the normalised key whose body encodes ``bits`` (0 <= bits < 2**125)."""
    if not 0 <= bits < 1 << RANDOM_BITS:
        raise ValueError(f"a key body holds exactly {RANDOM_BITS} bits")
    body = "".join(ALPHABET[(bits >> shift) & 0x1F] for shift in range(RANDOM_BITS - 5, -1, -5))
    tag = key_tag(prefix)
    return tag + body + check_group(tag, body)


def generate_key(prefix: str = DEFAULT_PREFIX) -> str:
    """Return a new random key (125 bits from ``secrets``) in normalised compact form.

    Show it to people with :func:`format_key`; store it with :func:`lookup_hmac`,
    :func:`encrypt_key` and :func:`key_hint`.
    """
    return key_from_bits(secrets.randbits(RANDOM_BITS), prefix)


def is_well_formed(raw: str, prefix: str = DEFAULT_PREFIX) -> bool:
    """Return True when ``raw`` passes the syntactic check (no database access)."""
    try:
        normalize_key(raw, prefix)
    except KeyFormatError:
        return False
    return True


def lookup_hmac(normalized: str, secret: bytes | str) -> bytes:
    """Return the 32-byte value to index and look a key up by: HMAC-SHA256 under a server secret.

    ``normalized`` must come from :func:`normalize_key`, so every spelling of a key maps to the
    same value. The secret (pepper) must live outside the database.
    """
    return hmac.digest(_derive(secret, _LOOKUP_INFO), normalized.encode("ascii"), "sha256")


def encrypt_key(normalized: str, secret: bytes | str, *, associated_data: bytes = b"") -> bytes:
    """Encrypt a key for re-display (AES-256-GCM, key derived from the app secret by HKDF).

    Pass the licence id as ``associated_data`` to bind the ciphertext to its row.
    Layout: version byte, 12-byte nonce, ciphertext and tag.
    """
    nonce = os.urandom(_NONCE_LENGTH)
    aead = AESGCM(_derive(secret, _ENCRYPTION_INFO))
    sealed = aead.encrypt(nonce, normalized.encode("ascii"), _CIPHER_VERSION + associated_data)
    return _CIPHER_VERSION + nonce + sealed


def decrypt_key(blob: bytes, secret: bytes | str, *, associated_data: bytes = b"") -> str:
    """Return the key sealed by :func:`encrypt_key`, or raise KeyDecryptionError."""
    if len(blob) < 1 + _NONCE_LENGTH + 16 or blob[:1] != _CIPHER_VERSION:
        raise KeyDecryptionError("unknown or truncated key ciphertext")
    nonce, sealed = blob[1 : 1 + _NONCE_LENGTH], blob[1 + _NONCE_LENGTH :]
    aead = AESGCM(_derive(secret, _ENCRYPTION_INFO))
    try:
        plain = aead.decrypt(nonce, sealed, _CIPHER_VERSION + associated_data)
    except InvalidTag:
        raise KeyDecryptionError("the key ciphertext does not decrypt under this secret") from None
    return plain.decode("ascii")


def key_hint(value: str) -> str:
    """Return the last 4 characters of a key (upper-case, separators dropped) for support.

    Input too short to be a key yields ``""`` so that a short secret is never echoed whole.
    """
    compact = "".join(char for char in value if char.isascii() and char.isalnum()).upper()
    if len(compact) < 3 * HINT_LENGTH:
        return ""
    return compact[-HINT_LENGTH:]


def mask_key(value: str) -> str:
    """Return a log-safe rendering such as ``…JD2Q`` (``…`` alone for non-keys); never raises."""
    return "…" + key_hint(value)


@lru_cache(maxsize=32)
def _derive(secret: bytes | str, info: bytes) -> bytes:
    material = secret.encode("utf-8") if isinstance(secret, str) else secret
    if len(material) < 16:
        raise ValueError("the secret must be at least 16 bytes")
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(material)
