from __future__ import annotations

import re

import pytest

from facturo_prestaimport_license.client import ALPHABET
from facturo_prestaimport_license.keys import (
    KeyDecryptionError,
    KeyFormatError,
    check_group,
    decrypt_key,
    encrypt_key,
    format_key,
    generate_key,
    is_well_formed,
    key_from_bits,
    key_hash,
    key_hint,
    lookup_hmac,
    mask_key,
    normalize_key,
)

SECRET = b"server-secret-for-tests-only-32b"
DISPLAY = re.compile(r"PIG1(-[0-9A-HJKMNP-TV-Z]{5}){5}-[0-9A-HJKMNP-TV-Z]{2}")


@pytest.fixture
def key() -> str:
    return key_from_bits(0x1F2E3D4C5B6A79887766554433221100 & ((1 << 125) - 1))


def test_generated_key_has_the_documented_format() -> None:
    key = generate_key()
    assert len(key) == 4 + 25 + 2
    assert DISPLAY.fullmatch(format_key(key))
    assert normalize_key(key) == key
    assert key[-2:] == check_group("PIG1", key[4:-2])


def test_generated_keys_carry_fresh_randomness() -> None:
    keys = {generate_key() for _ in range(200)}
    assert len(keys) == 200
    # Every body position uses the whole alphabet across many keys (no fixed bits).
    bodies = [k[4:-2] for k in keys]
    assert {body[0] for body in bodies} != {bodies[0][0]}
    assert set("".join(bodies)) == set(ALPHABET)


def test_key_from_bits_encodes_125_bits_msb_first() -> None:
    assert key_from_bits(0)[4:-2] == "0" * 25
    assert key_from_bits((1 << 125) - 1)[4:-2] == "Z" * 25
    assert key_from_bits(1)[4:-2] == "0" * 24 + "1"
    with pytest.raises(ValueError):
        key_from_bits(1 << 125)
    with pytest.raises(ValueError):
        key_from_bits(-1)


def test_product_prefix_is_configurable() -> None:
    key = generate_key("ABC")
    assert key.startswith("ABC1")
    assert normalize_key(format_key(key), "ABC") == key
    with pytest.raises(KeyFormatError) as info:
        normalize_key(key)  # default product PIG
    assert info.value.reason == "prefix"


@pytest.mark.parametrize(
    "spelling",
    [
        lambda display: display.lower(),
        lambda display: display.replace("-", ""),
        lambda display: display.replace("-", " "),
        lambda display: "  " + display.replace("-", " - ") + "\n",
        lambda display: display.replace("-", "\u2013"),  # en dash pasted from a document
    ],
)
def test_normalisation_ignores_case_spaces_and_dashes(key: str, spelling) -> None:  # type: ignore[no-untyped-def]
    assert normalize_key(spelling(format_key(key))) == key


@pytest.mark.parametrize(
    ("typed", "meant"), [("O", "0"), ("o", "0"), ("I", "1"), ("i", "1"), ("L", "1"), ("l", "1")]
)
def test_every_confusable_maps_to_its_digit(typed: str, meant: str) -> None:
    base = key_from_bits(0)  # body of zeros; rebuild keys with a digit at every position
    for position in range(4, len(base) - 2):
        body = base[4:position] + meant + base[position + 1 : -2]
        key = "PIG1" + body + check_group("PIG1", body)
        mistyped = key[:position] + typed + key[position + 1 :]
        assert normalize_key(mistyped) == key


@pytest.mark.parametrize("prefix", ["P1G1", "p1g1", "PlG1", "pLg1", "PIGI", "PIGl"])
def test_confusables_in_the_product_prefix_are_accepted(key: str, prefix: str) -> None:
    assert normalize_key(prefix + key[4:]) == key


def test_check_group_confusables_are_mapped() -> None:
    for bits in range(2000):
        key = key_from_bits(bits)
        if "0" in key[-2:] or "1" in key[-2:]:
            typed = key[:-2] + key[-2:].replace("0", "O").replace("1", "l")
            assert normalize_key(typed) == key
            return
    pytest.fail("no key with a 0 or 1 in its check group among 2000")


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", "empty"),
        ("  - - ", "empty"),
        ("PIG1-ABC", "length"),
        ("X" * 500, "length"),
        ("XYZ1" + "0" * 27, "prefix"),
        ("PIG1-ÄBCDE-00000-00000-00000-00000-00", "character"),
        ("PIG1-U0000-00000-00000-00000-00000-00", "character"),  # U is not Crockford
        ("PIG1-*0000-00000-00000-00000-00000-00", "character"),
    ],
)
def test_malformed_keys_are_rejected_with_a_reason(raw: str, reason: str) -> None:
    with pytest.raises(KeyFormatError) as info:
        normalize_key(raw)
    assert info.value.reason == reason
    assert info.value.code == "KEY_FORMAT_INVALID"
    assert str(info.value)
    assert not is_well_formed(raw)


def test_non_text_key_is_rejected() -> None:
    with pytest.raises(KeyFormatError):
        normalize_key(12345)  # type: ignore[arg-type]


def test_check_group_catches_typos(key: str) -> None:
    with pytest.raises(KeyFormatError) as info:
        normalize_key(key[:-1] + ("0" if key[-1] != "0" else "1"))
    assert info.value.reason == "check"
    assert "typo" in str(info.value)


def test_check_group_misses_few_single_character_typos() -> None:
    # 10 check bits: about 1 typo in 1024 slips through. Count over 20 fixed keys x every
    # position x every substitute (16,120 typos) and every adjacent swap.
    missed = total = 0
    for seed in range(20):
        key = key_from_bits(seed * 0x9E3779B97F4A7C15F39CC0605CEDC834 % (1 << 125))
        for position in range(4, len(key)):
            for char in ALPHABET:
                if char == key[position]:
                    continue
                total += 1
                missed += is_well_formed(key[:position] + char + key[position + 1 :])
        for position in range(4, len(key) - 1):
            a, b = key[position], key[position + 1]
            if a != b:
                total += 1
                missed += is_well_formed(key[:position] + b + a + key[position + 2 :])
    assert total > 16000
    assert missed / total < 3 / 1024


def test_lookup_hmac_is_stable_across_spellings_and_secret_bound(key: str) -> None:
    spellings = [key, format_key(key), format_key(key).lower().replace("0", "o")]
    values = {lookup_hmac(normalize_key(s), SECRET) for s in spellings}
    assert len(values) == 1
    value = values.pop()
    assert len(value) == 32
    assert lookup_hmac(key, SECRET.decode()) == value  # str and bytes secrets agree
    assert lookup_hmac(key, SECRET + b"x") != value
    assert lookup_hmac(key_from_bits(1), SECRET) != value


def test_lookup_hmac_is_hmac_sha256_under_a_derived_subkey(key: str) -> None:
    # Pinned independently: a change of derivation would orphan every stored key.
    import hashlib
    import hmac

    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    info = b"facturo/prestaimport_license/key-lookup/v1"
    subkey = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(SECRET)
    assert lookup_hmac(key, SECRET) == hmac.new(subkey, key.encode(), hashlib.sha256).digest()


def test_short_secrets_are_refused(key: str) -> None:
    with pytest.raises(ValueError):
        lookup_hmac(key, b"short")


def test_encryption_round_trip(key: str) -> None:
    blob = encrypt_key(key, SECRET, associated_data=b"lic_1")
    assert key.encode() not in blob
    assert decrypt_key(blob, SECRET, associated_data=b"lic_1") == key
    assert encrypt_key(key, SECRET) != encrypt_key(key, SECRET)  # fresh nonce each time


def test_decryption_fails_closed(key: str) -> None:
    blob = encrypt_key(key, SECRET, associated_data=b"lic_1")
    flipped = blob[:-1] + bytes([blob[-1] ^ 1])
    attempts = [
        (blob, b"another-secret-of-32-bytes-long!", b"lic_1"),  # wrong secret
        (blob, SECRET, b"lic_2"),  # copied onto another licence row
        (flipped, SECRET, b"lic_1"),  # one bit changed
        (b"\x02" + blob[1:], SECRET, b"lic_1"),  # unknown version
        (blob[:10], SECRET, b"lic_1"),  # truncated
    ]
    for data, secret, aad in attempts:
        with pytest.raises(KeyDecryptionError):
            decrypt_key(data, secret, associated_data=aad)


def test_key_hint_and_mask_never_show_the_full_key(key: str) -> None:
    assert key_hint(key) == key[-4:]
    assert key_hint(format_key(key).lower()) == key[-4:]
    assert mask_key(format_key(key)) == "…" + key[-4:]
    assert key[:-4] not in mask_key(key)
    assert key_hint("secret") == ""  # too short to be a key: show nothing
    assert mask_key("") == "…"


def test_key_hash_is_sha256_of_the_normalised_key(key: str) -> None:
    import base64
    import hashlib

    expected = base64.urlsafe_b64encode(hashlib.sha256(key.encode()).digest()).rstrip(b"=")
    assert key_hash(key) == expected.decode()
    assert key_hash(normalize_key(format_key(key).lower())) == key_hash(key)
