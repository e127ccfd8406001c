"""Ed25519 signed envelopes with key ids, and a keyring for rotation.

An envelope is ``{"alg": "ed25519", "kid": …, "payload": base64url(canonical JSON), "sig": …}``
where the signature covers ``context + "." + payload`` exactly as transmitted (licensing.md §6.3).
Verification lives in :mod:`.client` so that the desktop tool runs the very same code.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from nacl.bindings import crypto_sign, crypto_sign_seed_keypair

from .client import (
    ALGORITHM,
    LEASE_CONTEXT,
    EnvelopeError,
    b64url_decode,
    b64url_encode,
    public_keys_from_jwks,
    signing_input,
    verify_envelope,
)

__all__ = [
    "EnvelopeError",
    "KeyEntry",
    "Keyring",
    "canonical_json",
    "canonical_json_without_floats",
    "json_bytes",
    "generate_private_key",
    "libsodium_signer",
    "load_private_key",
    "load_public_key",
    "private_key_to_pem",
    "public_key_jwk",
    "public_keys_from_jwks",
    "sign",
    "sign_bytes",
    "verify_envelope",
]

#: An Ed25519 signature's length; libsodium's combined mode puts it before the message.
SIGNATURE_BYTES = 64
_KID = re.compile(r"[A-Za-z0-9._-]{1,64}")


def canonical_json(payload: Mapping[str, Any]) -> bytes:
    """Return the canonical UTF-8 JSON of ``payload``: sorted keys, no spaces, no NaN."""
    return json.dumps(
        payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def canonical_json_without_floats(payload: Mapping[str, Any]) -> bytes:
    """The bytes of :func:`canonical_json` for a payload of text, integers, booleans, nulls,
    lists and objects only, about eight times faster (orjson).

    Floats are not looked for (orjson would write NaN as null): use it only on payloads built
    without floats, such as :meth:`ValidationAnswer.to_payload`'s.
    """
    return orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)


def json_bytes(value: Any) -> bytes:
    """Compact UTF-8 JSON of ``value`` (keys in insertion order), e.g. an envelope."""
    return orjson.dumps(value)


def sign(
    payload: Mapping[str, Any],
    private_key: Ed25519PrivateKey,
    key_id: str,
    *,
    context: str = LEASE_CONTEXT,
) -> dict[str, str]:
    """Sign ``payload`` and return the envelope ``{alg, kid, payload, sig}``."""
    return sign_bytes(canonical_json(payload), private_key, key_id, context=context)


def sign_bytes(
    payload_json: bytes,
    private_key: Ed25519PrivateKey,
    key_id: str,
    *,
    context: str = LEASE_CONTEXT,
) -> dict[str, str]:
    """Sign an already serialised payload and return the envelope ``{alg, kid, payload, sig}``."""
    _check_kid(key_id)
    return _envelope(payload_json, private_key.sign, key_id, context)


def _envelope(
    payload_json: bytes, sign_message: Callable[[bytes], bytes], key_id: str, context: str
) -> dict[str, str]:
    """The envelope of a payload signed by ``sign_message`` under ``key_id`` (checked by the
    caller: a keyring checks its ids once, when it is built)."""
    payload_b64 = b64url_encode(payload_json)
    signature = sign_message(signing_input(payload_b64, context))
    return {
        "alg": ALGORITHM,
        "kid": key_id,
        "payload": payload_b64,
        "sig": b64url_encode(signature),
    }


def libsodium_signer(private_key: Ed25519PrivateKey) -> Callable[[bytes], bytes]:
    """A function returning ``private_key``'s signature of a message, computed by libsodium
    (PyNaCl). Ed25519 signatures are deterministic (RFC 8032), so they are the very bytes
    ``private_key.sign`` returns; libsodium makes them in about 24 µs against OpenSSL's 41–46 µs
    through ``cryptography``, a tenth of a validation answer."""
    seed = private_key.private_bytes(
        serialization.Encoding.Raw,
        serialization.PrivateFormat.Raw,
        serialization.NoEncryption(),
    )
    _public, secret = crypto_sign_seed_keypair(seed)  # libsodium's secret key: seed + public
    # The binding itself, not SigningKey.sign: no SignedMessage (two more copies of the message).
    return lambda message: crypto_sign(message, secret)[:SIGNATURE_BYTES]


def generate_private_key() -> Ed25519PrivateKey:
    """Return a new random Ed25519 private key."""
    return Ed25519PrivateKey.generate()


def load_private_key(data: bytes | str) -> Ed25519PrivateKey:
    """Load an Ed25519 private key from PEM (PKCS#8) or a raw 32-byte seed.

    A seed may be given as bytes, 64 hex digits, or base64url text. Raises ValueError otherwise.
    """
    raw = data.encode("ascii") if isinstance(data, str) else data
    if raw.lstrip().startswith(b"-----BEGIN"):
        key = serialization.load_pem_private_key(raw, password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError("the PEM key is not an Ed25519 private key")
        return key
    return Ed25519PrivateKey.from_private_bytes(_seed_bytes(data, "private key seed"))


def load_public_key(data: bytes | str) -> Ed25519PublicKey:
    """Load an Ed25519 public key from PEM (SubjectPublicKeyInfo) or raw 32 bytes/hex/base64url."""
    raw = data.encode("ascii") if isinstance(data, str) else data
    if raw.lstrip().startswith(b"-----BEGIN"):
        key = serialization.load_pem_public_key(raw)
        if not isinstance(key, Ed25519PublicKey):
            raise ValueError("the PEM key is not an Ed25519 public key")
        return key
    return Ed25519PublicKey.from_public_bytes(_seed_bytes(data, "public key"))


def private_key_to_pem(private_key: Ed25519PrivateKey) -> bytes:
    """Return the private key as unencrypted PKCS#8 PEM (store it outside the database)."""
    return private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def public_key_jwk(key_id: str, public_key: Ed25519PublicKey) -> dict[str, str]:
    """Return the JWK (RFC 8037 OKP) describing ``public_key`` under ``key_id``."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return {
        "kty": "OKP",
        "crv": "Ed25519",
        "alg": "EdDSA",
        "use": "sig",
        "kid": key_id,
        "x": b64url_encode(raw),
    }


@dataclass(frozen=True)
class KeyEntry:
    """One signing key: its id, public key, and private key when this server may sign with it.

    An entry without a private key is verify-only (a retired key kept until its leases expire).
    """

    kid: str
    public_key: Ed25519PublicKey
    private_key: Ed25519PrivateKey | None = None

    @classmethod
    def from_private_key(cls, kid: str, private_key: Ed25519PrivateKey) -> KeyEntry:
        """Build an entry that can sign."""
        return cls(kid, private_key.public_key(), private_key)


class Keyring:
    """Several signing keys: one active for signing, all published and accepted for verifying.

    Rotation: add the next key (published before it signs, so desktop tools learn it), switch
    ``active`` to it, and later drop the old private key with :meth:`retire`.
    """

    def __init__(self, entries: Iterable[KeyEntry], active: str) -> None:
        self._entries: dict[str, KeyEntry] = {}
        for entry in entries:
            _check_kid(entry.kid)
            if entry.kid in self._entries:
                raise ValueError(f"duplicate key id {entry.kid!r}")
            self._entries[entry.kid] = entry
        signer = self._entries.get(active)
        if signer is None or signer.private_key is None:
            raise ValueError(f"the active key {active!r} is missing or has no private key")
        self.active = active
        self._signer: Ed25519PrivateKey = signer.private_key
        self._sign_message = libsodium_signer(signer.private_key)

    @classmethod
    def from_pem_mapping(cls, keys: Mapping[str, bytes | str], active: str) -> Keyring:
        """Build a keyring from ``kid → PEM or seed`` settings values."""
        return cls(
            (KeyEntry.from_private_key(kid, load_private_key(data)) for kid, data in keys.items()),
            active,
        )

    @property
    def kids(self) -> tuple[str, ...]:
        """All key ids, in insertion order."""
        return tuple(self._entries)

    def sign(self, payload: Mapping[str, Any], *, context: str = LEASE_CONTEXT) -> dict[str, str]:
        """Sign ``payload`` with the active key."""
        return sign(payload, self._signer, self.active, context=context)

    def sign_bytes(self, payload_json: bytes, *, context: str = LEASE_CONTEXT) -> dict[str, str]:
        """Sign an already serialised payload with the active key."""
        return _envelope(payload_json, self._sign_message, self.active, context)

    def verify(
        self, envelope: Mapping[str, Any], *, context: str = LEASE_CONTEXT
    ) -> dict[str, Any]:
        """Verify an envelope against every key of the ring; return its payload."""
        return verify_envelope(envelope, self.public_keys(), context=context)

    def public_keys(self) -> dict[str, Ed25519PublicKey]:
        """Return ``kid → public key`` for every key of the ring."""
        return {kid: entry.public_key for kid, entry in self._entries.items()}

    def jwks(self) -> dict[str, list[dict[str, str]]]:
        """Return the body of ``GET /api/v1/licenses/keys``: ``{"keys": [JWK, …]}``."""
        return {"keys": [public_key_jwk(e.kid, e.public_key) for e in self._entries.values()]}

    def rotate(self, entry: KeyEntry) -> Keyring:
        """Return a new keyring that signs with ``entry`` and keeps every older key."""
        return Keyring([*self._entries.values(), entry], entry.kid)

    def retire(self, kid: str) -> Keyring:
        """Return a new keyring where ``kid`` is verify-only (its private key is dropped)."""
        if kid == self.active:
            raise ValueError("cannot retire the active signing key")
        entries = [
            KeyEntry(e.kid, e.public_key) if e.kid == kid else e for e in self._entries.values()
        ]
        return Keyring(entries, self.active)

    def remove(self, kid: str) -> Keyring:
        """Return a new keyring without ``kid`` (once no valid lease can carry it)."""
        if kid == self.active:
            raise ValueError("cannot remove the active signing key")
        return Keyring([e for e in self._entries.values() if e.kid != kid], self.active)


def _check_kid(kid: str) -> None:
    if not _KID.fullmatch(kid):
        raise ValueError(f"invalid key id {kid!r}")


def _seed_bytes(data: bytes | str, what: str) -> bytes:
    if isinstance(data, bytes) and len(data) == 32:
        return data
    try:
        text = data.decode("ascii") if isinstance(data, bytes) else data
        text = text.strip()
        decoded = bytes.fromhex(text) if len(text) == 64 else b64url_decode(text)
    except (ValueError, UnicodeDecodeError):
        raise ValueError(f"the {what} is not 32 raw bytes, hex or base64url") from None
    if len(decoded) != 32:
        raise ValueError(f"the {what} must be 32 bytes")
    return decoded
