from __future__ import annotations

import base64
import json

import pytest
from cryptography.hazmat.primitives import serialization

from facturo_prestaimport_license.client import ClientCode
from facturo_prestaimport_license.signing import (
    EnvelopeError,
    KeyEntry,
    Keyring,
    canonical_json,
    generate_private_key,
    libsodium_signer,
    load_private_key,
    load_public_key,
    private_key_to_pem,
    public_keys_from_jwks,
    sign,
    verify_envelope,
)

SEED_A = bytes(range(32))  # the seed of the keyring fixture's active key

PAYLOAD = {"v": 1, "valid": True, "code": "VALID", "name": "Café", "addons": [{"code": "a"}]}


def b64d(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def test_canonical_json_is_sorted_compact_utf8() -> None:
    assert canonical_json({"b": 1, "a": [1, "é"]}) == '{"a":[1,"é"],"b":1}'.encode()
    assert canonical_json({"a": 1, "b": 2}) == canonical_json({"b": 2, "a": 1})
    with pytest.raises(ValueError):
        canonical_json({"x": float("nan")})


def test_sign_produces_a_verifiable_envelope(keyring: Keyring) -> None:
    envelope = keyring.sign(PAYLOAD)
    assert set(envelope) == {"alg", "kid", "payload", "sig"}
    assert envelope["alg"] == "ed25519" and envelope["kid"] == "2026-01"
    assert b64d(envelope["payload"]) == canonical_json(PAYLOAD)
    assert len(b64d(envelope["sig"])) == 64
    assert keyring.verify(envelope) == PAYLOAD


def test_libsodium_signs_the_same_bytes_as_openssl() -> None:
    key = load_private_key(SEED_A)
    signer = libsodium_signer(key)
    for message in (b"", b"lease.v1." + b"x" * 2000, "Café".encode()):
        assert signer(message) == key.sign(message)


def test_keyring_envelope_equals_the_plain_function_s(keyring: Keyring) -> None:
    payload = canonical_json(PAYLOAD)
    assert keyring.sign_bytes(payload) == sign(PAYLOAD, load_private_key(SEED_A), keyring.active)


def test_signature_covers_the_domain_separated_payload_text(keyring: Keyring) -> None:
    envelope = keyring.sign(PAYLOAD)
    public = keyring.public_keys()["2026-01"]
    public.verify(b64d(envelope["sig"]), b"prestaimport-lease/v1." + envelope["payload"].encode())
    # The same payload signed for another purpose does not verify as a lease.
    other = sign(PAYLOAD, load_private_key(SEED_A), "2026-01", context="something-else/v1")
    with pytest.raises(EnvelopeError):
        keyring.verify(other)
    assert keyring.verify(other, context="something-else/v1") == PAYLOAD


def test_changed_payload_byte_fails(keyring: Keyring) -> None:
    envelope = keyring.sign(PAYLOAD)
    raw = bytearray(b64d(envelope["payload"]))
    raw[raw.index(b"true")] = ord("T")
    tampered = {**envelope, "payload": base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")}
    with pytest.raises(EnvelopeError) as info:
        keyring.verify(tampered)
    assert info.value.code is ClientCode.SIGNATURE_INVALID


def test_swapped_signature_fails(keyring: Keyring) -> None:
    first, second = keyring.sign(PAYLOAD), keyring.sign({**PAYLOAD, "valid": False})
    with pytest.raises(EnvelopeError) as info:
        keyring.verify({**first, "sig": second["sig"]})
    assert info.value.code is ClientCode.SIGNATURE_INVALID


def test_unknown_kid_and_relabelled_kid_fail(keyring: Keyring, next_key: KeyEntry) -> None:
    envelope = keyring.sign(PAYLOAD)
    with pytest.raises(EnvelopeError) as info:
        keyring.verify({**envelope, "kid": "2099-01"})
    assert info.value.code is ClientCode.UNKNOWN_KEY_ID
    # A known kid that did not make the signature is a bad signature, not a pass.
    both = keyring.rotate(next_key)
    with pytest.raises(EnvelopeError) as info:
        both.verify({**envelope, "kid": "2026-07"})
    assert info.value.code is ClientCode.SIGNATURE_INVALID


@pytest.mark.parametrize(
    "broken",
    [
        {"alg": "none"},
        {"alg": "rs256"},
        {"sig": "not base64!"},
        {"sig": ""},
        {"payload": None},
        {"kid": 7},
    ],
)
def test_malformed_envelopes_fail(keyring: Keyring, broken: dict[str, object]) -> None:
    envelope = {**keyring.sign(PAYLOAD), **broken}
    with pytest.raises(EnvelopeError):
        verify_envelope(envelope, keyring.public_keys())


def test_signed_non_object_payload_is_rejected(keyring: Keyring) -> None:
    from facturo_prestaimport_license.client import b64url_encode, signing_input

    payload_b64 = b64url_encode(b"[1,2]")
    signer = load_private_key(SEED_A)
    envelope = {
        "alg": "ed25519",
        "kid": "2026-01",
        "payload": payload_b64,
        "sig": b64url_encode(signer.sign(signing_input(payload_b64))),
    }
    with pytest.raises(EnvelopeError):
        keyring.verify(envelope)


def test_rotation_signs_with_the_new_key_and_still_verifies_old_leases(
    keyring: Keyring, next_key: KeyEntry
) -> None:
    old_lease = keyring.sign(PAYLOAD)
    rotated = keyring.rotate(next_key)
    new_lease = rotated.sign(PAYLOAD)
    assert rotated.active == "2026-07" and new_lease["kid"] == "2026-07"
    assert rotated.verify(old_lease) == PAYLOAD
    assert rotated.verify(new_lease) == PAYLOAD
    # A client that only knows the old key cannot verify the new lease until it learns the kid.
    with pytest.raises(EnvelopeError) as info:
        keyring.verify(new_lease)
    assert info.value.code is ClientCode.UNKNOWN_KEY_ID


def test_retire_keeps_verifying_but_never_signs(keyring: Keyring, next_key: KeyEntry) -> None:
    old_lease = keyring.sign(PAYLOAD)
    ring = keyring.rotate(next_key).retire("2026-01")
    assert ring.verify(old_lease) == PAYLOAD
    assert ring.kids == ("2026-01", "2026-07")
    with pytest.raises(ValueError):
        Keyring([KeyEntry("2026-01", load_private_key(SEED_A).public_key())], "2026-01")
    with pytest.raises(ValueError):
        ring.retire("2026-07")
    dropped = ring.remove("2026-01")
    with pytest.raises(EnvelopeError):
        dropped.verify(old_lease)


def test_keyring_rejects_duplicates_and_bad_kids(next_key: KeyEntry) -> None:
    with pytest.raises(ValueError):
        Keyring([next_key, next_key], "2026-07")
    with pytest.raises(ValueError):
        Keyring([KeyEntry.from_private_key("bad kid!", generate_private_key())], "bad kid!")
    with pytest.raises(ValueError):
        Keyring([next_key], "missing")


def test_published_jwks_round_trips_to_the_same_public_keys(
    keyring: Keyring, next_key: KeyEntry
) -> None:
    ring = keyring.rotate(next_key)
    jwks = ring.jwks()
    assert [jwk["kid"] for jwk in jwks["keys"]] == ["2026-01", "2026-07"]
    for jwk in jwks["keys"]:
        assert jwk["kty"] == "OKP" and jwk["crv"] == "Ed25519" and jwk["alg"] == "EdDSA"
        assert "d" not in jwk  # never the private part
        assert len(b64d(jwk["x"])) == 32
    loaded = public_keys_from_jwks(json.loads(json.dumps(jwks)))
    envelope = ring.sign(PAYLOAD)
    assert verify_envelope(envelope, loaded) == PAYLOAD
    assert public_keys_from_jwks(jwks["keys"]).keys() == loaded.keys()


def test_keys_load_from_pem_seed_hex_and_base64url() -> None:
    key = load_private_key(SEED_A)
    raw_public = key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    pem = private_key_to_pem(key)
    assert pem.startswith(b"-----BEGIN PRIVATE KEY-----")
    forms: list[bytes | str] = [
        pem,
        pem.decode(),
        SEED_A,
        SEED_A.hex(),
        base64.urlsafe_b64encode(SEED_A).decode().rstrip("="),
    ]
    for form in forms:
        loaded = load_private_key(form).public_key()
        assert (
            loaded.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
            == raw_public
        )
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    for public_form in (public_pem, raw_public, raw_public.hex()):
        assert (
            load_public_key(public_form).public_bytes(
                serialization.Encoding.Raw, serialization.PublicFormat.Raw
            )
            == raw_public
        )


@pytest.mark.parametrize("bad", [b"short", "zz" * 32, "AAAA", b"x" * 31])
def test_bad_key_material_is_refused(bad: bytes | str) -> None:
    with pytest.raises(ValueError):
        load_private_key(bad)


def test_keyring_from_settings_mapping(next_key: KeyEntry) -> None:
    ring = Keyring.from_pem_mapping(
        {"2026-01": SEED_A.hex(), "2026-07": private_key_to_pem(generate_private_key()).decode()},
        active="2026-07",
    )
    assert ring.kids == ("2026-01", "2026-07")
    assert ring.sign(PAYLOAD)["kid"] == "2026-07"


def test_generated_keys_differ() -> None:
    a, b = generate_private_key(), generate_private_key()
    assert private_key_to_pem(a) != private_key_to_pem(b)
