from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from facturo_prestaimport_license.client import (
    AddonStatus,
    ClientCode,
    ClientState,
    Shop,
    verify_lease,
    verify_response,
)
from facturo_prestaimport_license.evaluation import (
    AddonState,
    LicenseState,
    LicenseStatus,
    ValidationRequest,
    evaluate,
)
from facturo_prestaimport_license.keys import key_from_bits
from facturo_prestaimport_license.signing import KeyEntry, Keyring

ISSUED = datetime(2026, 7, 1, 10, 0, tzinfo=UTC)
ACME_EXPIRES = datetime(2026, 7, 3, tzinfo=UTC)
KEY = key_from_bits(7)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)

Issue = Callable[..., dict[str, str]]


@pytest.fixture
def licence() -> LicenseState:
    return LicenseState(
        license_id="lic_1",
        status=LicenseStatus.ACTIVE,
        addons=[
            AddonState("supplier.acme", True, expires_at=ACME_EXPIRES, grace_days=1),
            AddonState("supplier.globex", True),
            AddonState("supplier.initech", False),
            AddonState("supplier.later", True, starts_at=ISSUED + DAY),
        ],
    )


@pytest.fixture
def issue(keyring: Keyring, licence: LicenseState, shop: Shop) -> Issue:
    """Sign a lease the way the server does, at a chosen time."""

    def _issue(
        at: datetime = ISSUED,
        state: LicenseState | None = licence,
        nonce: str | None = None,
        ring: Keyring = keyring,
    ) -> dict[str, str]:
        answer = evaluate(state, ValidationRequest(KEY, shop, nonce=nonce), now=at)
        return ring.sign(answer.to_payload("billing.example.com"))

    return _issue


@pytest.fixture
def public_keys(keyring: Keyring) -> dict[str, Ed25519PublicKey]:
    return keyring.public_keys()


def test_a_good_lease_is_accepted_and_reports_addons(
    issue: Issue, public_keys: dict[str, Ed25519PublicKey], shop: Shop
) -> None:
    decision = verify_lease(issue(), public_keys, shop, ISSUED + HOUR, None, key=KEY)
    assert decision.accepted and decision.valid and decision.code == "VALID"
    statuses = {addon.code: (addon.status, addon.usable) for addon in decision.addons}
    assert statuses == {
        "supplier.acme": (AddonStatus.ACTIVE, True),
        "supplier.globex": (AddonStatus.ACTIVE, True),
        "supplier.initech": (AddonStatus.INACTIVE, False),
        "supplier.later": (AddonStatus.NOT_STARTED, False),
    }
    assert decision.state == ClientState(last_seen_utc=ISSUED + HOUR, newest_issued_at=ISSUED)


# --- tampering ------------------------------------------------------------------------


def _flip_payload_byte(envelope: dict[str, str]) -> dict[str, str]:
    text = envelope["payload"]
    raw = bytearray(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    raw[raw.index(b'"ACTIVE"') + 1] ^= 0x20  # "ACTIVE" -> "aCTIVE": one byte
    return {**envelope, "payload": base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")}


def test_changed_payload_byte_is_rejected(
    issue: Issue, public_keys: dict[str, Ed25519PublicKey], shop: Shop
) -> None:
    decision = verify_lease(_flip_payload_byte(issue()), public_keys, shop, ISSUED, None)
    assert decision.code is ClientCode.SIGNATURE_INVALID
    assert not decision.accepted and not decision.valid and decision.addons == ()
    assert decision.payload is None  # nothing from an unverified payload is exposed


def test_swapped_signature_is_rejected(
    issue: Issue, public_keys: dict[str, Ed25519PublicKey], shop: Shop
) -> None:
    good, other = issue(), issue(at=ISSUED + HOUR)
    decision = verify_lease({**good, "sig": other["sig"]}, public_keys, shop, ISSUED + HOUR, None)
    assert decision.code is ClientCode.SIGNATURE_INVALID and not decision.valid


def test_wrong_or_unknown_kid_is_rejected(
    issue: Issue, keyring: Keyring, next_key: KeyEntry, shop: Shop
) -> None:
    envelope = issue()
    unknown = verify_lease({**envelope, "kid": "2099-01"}, keyring.public_keys(), shop, ISSUED)
    assert unknown.code is ClientCode.UNKNOWN_KEY_ID and not unknown.valid
    both = keyring.rotate(next_key).public_keys()
    relabelled = verify_lease({**envelope, "kid": "2026-07"}, both, shop, ISSUED)
    assert relabelled.code is ClientCode.SIGNATURE_INVALID


def test_garbage_is_rejected_not_raised(
    public_keys: dict[str, Ed25519PublicKey], shop: Shop
) -> None:
    for envelope in ({}, {"alg": "ed25519"}, {"alg": "ed25519", "kid": "2026-01", "payload": 1}):
        assert verify_lease(envelope, public_keys, shop, ISSUED).code is (
            ClientCode.SIGNATURE_INVALID
        )


def test_a_lease_signed_by_a_rotated_key_verifies_with_the_shipped_pair(
    issue: Issue, keyring: Keyring, next_key: KeyEntry, shop: Shop
) -> None:
    rotated = keyring.rotate(next_key)
    envelope = issue(ring=rotated)
    assert envelope["kid"] == "2026-07"
    assert verify_lease(envelope, rotated.public_keys(), shop, ISSUED).valid
    old_app = verify_lease(envelope, keyring.public_keys(), shop, ISSUED)
    assert old_app.code is ClientCode.UNKNOWN_KEY_ID


# --- binding --------------------------------------------------------------------------


def test_lease_for_another_shop_is_rejected(
    issue: Issue, public_keys: dict[str, Ed25519PublicKey], other_shop: Shop
) -> None:
    decision = verify_lease(issue(), public_keys, other_shop, ISSUED + HOUR, None)
    assert decision.code is ClientCode.BINDING_MISMATCH and not decision.valid


def test_same_shop_spelled_differently_is_accepted(
    issue: Issue, public_keys: dict[str, Ed25519PublicKey]
) -> None:
    spelled = Shop("PRESTASHOP", "http://Example-Shop.com/admin123")
    assert verify_lease(issue(), public_keys, spelled, ISSUED + HOUR).valid


def test_lease_for_another_key_is_rejected(
    issue: Issue, public_keys: dict[str, Ed25519PublicKey], shop: Shop
) -> None:
    decision = verify_lease(issue(), public_keys, shop, ISSUED, None, key=key_from_bits(8))
    assert decision.code is ClientCode.BINDING_MISMATCH


# --- time -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("at", "code"),
    [
        (ISSUED + 7 * DAY - timedelta(microseconds=1), "VALID"),
        (ISSUED + 7 * DAY, ClientCode.LEASE_EXPIRED),
        (ISSUED + 30 * DAY, ClientCode.LEASE_EXPIRED),
    ],
)
def test_lease_expiry_boundary(
    issue: Issue, public_keys: dict[str, Ed25519PublicKey], shop: Shop, at: datetime, code: str
) -> None:
    decision = verify_lease(issue(), public_keys, shop, at, None)
    assert decision.code == code
    assert decision.valid is (code == "VALID")


def test_clock_set_back_is_detected(
    issue: Issue, public_keys: dict[str, Ed25519PublicKey], shop: Shop
) -> None:
    state = verify_lease(issue(), public_keys, shop, ISSUED + 3 * DAY, None).state
    assert state.last_seen_utc == ISSUED + 3 * DAY
    nine_minutes_back = ISSUED + 3 * DAY - timedelta(minutes=9)
    within_skew = verify_lease(issue(), public_keys, shop, nine_minutes_back, state)
    assert within_skew.valid
    back = verify_lease(issue(), public_keys, shop, ISSUED + DAY, state)
    assert back.code is ClientCode.CLOCK_TAMPERED and not back.valid
    # The high-water mark is kept, so moving the clock back again later is still caught.
    assert back.state.last_seen_utc == ISSUED + 3 * DAY


def test_clock_before_the_issue_time_is_detected(
    issue: Issue, public_keys: dict[str, Ed25519PublicKey], shop: Shop
) -> None:
    envelope = issue()
    assert verify_lease(envelope, public_keys, shop, ISSUED - timedelta(minutes=4)).valid
    early = verify_lease(envelope, public_keys, shop, ISSUED - HOUR)
    assert early.code is ClientCode.CLOCK_TAMPERED


def test_restoring_an_older_lease_is_a_rollback(
    issue: Issue, licence: LicenseState, public_keys: dict[str, Ed25519PublicKey], shop: Shop
) -> None:
    old = issue()
    suspended = LicenseState("lic_1", LicenseStatus.SUSPENDED, addons=licence.addons)
    newer = issue(at=ISSUED + DAY, state=suspended)
    seen = verify_lease(newer, public_keys, shop, ISSUED + DAY, None)
    assert seen.accepted and not seen.valid and seen.code == "SUSPENDED"
    assert seen.state.newest_issued_at == ISSUED + DAY
    restored = verify_lease(old, public_keys, shop, ISSUED + DAY + HOUR, seen.state)
    assert restored.code is ClientCode.LEASE_ROLLBACK and not restored.valid
    assert restored.state.newest_issued_at == ISSUED + DAY


def test_offline_grace_only_after_a_network_failure_and_capped(
    issue: Issue, public_keys: dict[str, Ed25519PublicKey], shop: Shop
) -> None:
    envelope, at = issue(), ISSUED + 8 * DAY
    grace = 3 * DAY
    assert (
        verify_lease(envelope, public_keys, shop, at, offline_grace=grace).code
        is ClientCode.LEASE_EXPIRED
    )
    offline = verify_lease(
        envelope, public_keys, shop, at, network_failure=True, offline_grace=grace
    )
    assert offline.code is ClientCode.OFFLINE_GRACE and offline.accepted
    assert offline.valid is True and offline.addon_usable("supplier.globex")
    over = verify_lease(
        envelope, public_keys, shop, ISSUED + 10 * DAY, network_failure=True, offline_grace=grace
    )
    assert over.code is ClientCode.LEASE_EXPIRED
    capped = verify_lease(
        envelope,
        public_keys,
        shop,
        at,
        ClientState(last_online_ok_at=ISSUED - 7 * DAY),
        network_failure=True,
        max_offline=14 * DAY,
        offline_grace=grace,
    )
    assert capped.code is ClientCode.LEASE_EXPIRED


def test_naive_now_is_refused(
    issue: Issue, public_keys: dict[str, Ed25519PublicKey], shop: Shop
) -> None:
    with pytest.raises(ValueError):
        verify_lease(issue(), public_keys, shop, datetime(2026, 7, 1))


# --- add-ons offline ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("at", "status", "usable"),
    [
        (ACME_EXPIRES - timedelta(microseconds=1), AddonStatus.ACTIVE, True),
        (ACME_EXPIRES, AddonStatus.GRACE, True),
        (ACME_EXPIRES + DAY - timedelta(microseconds=1), AddonStatus.GRACE, True),
        (ACME_EXPIRES + DAY, AddonStatus.EXPIRED, False),
    ],
)
def test_addons_lapse_offline_on_schedule(
    issue: Issue,
    public_keys: dict[str, Ed25519PublicKey],
    shop: Shop,
    at: datetime,
    status: AddonStatus,
    usable: bool,
) -> None:
    decision = verify_lease(issue(), public_keys, shop, at, None)
    assert decision.valid
    acme = next(addon for addon in decision.addons if addon.code == "supplier.acme")
    assert (acme.status, acme.usable) == (status, usable)
    assert decision.addon_usable("supplier.acme") is usable
    # A NOT_STARTED add-on never turns usable offline.
    assert not decision.addon_usable("supplier.later")


def test_addons_of_a_signed_invalid_licence_are_not_usable(
    issue: Issue, licence: LicenseState, public_keys: dict[str, Ed25519PublicKey], shop: Shop
) -> None:
    revoked = LicenseState("lic_1", LicenseStatus.REVOKED, addons=licence.addons)
    decision = verify_lease(issue(state=revoked), public_keys, shop, ISSUED)
    assert decision.accepted and not decision.valid and decision.code == "REVOKED"
    assert not any(addon.usable for addon in decision.addons)


# --- online answers -------------------------------------------------------------------


def test_online_response_needs_the_nonce_echo_and_a_fresh_ts(
    issue: Issue, public_keys: dict[str, Ed25519PublicKey], shop: Shop
) -> None:
    envelope = issue(nonce="n-123")
    ok = verify_response(envelope, public_keys, shop, ISSUED + timedelta(minutes=1), "n-123")
    assert ok.valid and ok.state.last_online_ok_at == ISSUED + timedelta(minutes=1)
    wrong = verify_response(envelope, public_keys, shop, ISSUED, "n-999")
    assert wrong.code is ClientCode.NONCE_MISMATCH and not wrong.valid
    replayed = verify_response(envelope, public_keys, shop, ISSUED + HOUR, "n-123")
    assert replayed.code is ClientCode.RESPONSE_STALE
    forged = verify_response(_flip_payload_byte(envelope), public_keys, shop, ISSUED, "n-123")
    assert forged.code is ClientCode.SIGNATURE_INVALID


def test_online_response_resets_a_clock_mark_left_in_the_future(
    issue: Issue, public_keys: dict[str, Ed25519PublicKey], shop: Shop
) -> None:
    # The clock had once jumped a month ahead; a server-corroborated answer clears that.
    state = ClientState(last_seen_utc=ISSUED + 30 * DAY)
    assert verify_lease(issue(), public_keys, shop, ISSUED, state).code is ClientCode.CLOCK_TAMPERED
    fresh = verify_response(issue(nonce="n"), public_keys, shop, ISSUED, "n", state)
    assert fresh.valid and fresh.state.last_seen_utc == ISSUED
    assert verify_lease(issue(), public_keys, shop, ISSUED + HOUR, fresh.state).valid


def test_decision_state_is_what_to_persist(
    issue: Issue, public_keys: dict[str, Ed25519PublicKey], shop: Shop
) -> None:
    state: ClientState | None = None
    seen: list[Any] = []
    for hours in (1, 5, 30):
        decision = verify_lease(issue(), public_keys, shop, ISSUED + hours * HOUR, state)
        state = decision.state
        seen.append(state.last_seen_utc)
    assert seen == [ISSUED + HOUR, ISSUED + 5 * HOUR, ISSUED + 30 * HOUR]


def test_signed_payloads_of_another_type_or_shape_are_rejected(
    keyring: Keyring, issue: Issue, public_keys: dict[str, Ed25519PublicKey], shop: Shop
) -> None:
    payload = keyring.verify(issue())
    for broken in (
        {**payload, "typ": "invoice"},
        {**payload, "v": 2},
        {**payload, "lease": {}},
        {**payload, "addons": [{"code": "x", "status": "WHATEVER"}]},
    ):
        decision = verify_lease(keyring.sign(broken), public_keys, shop, ISSUED)
        assert decision.code is ClientCode.SIGNATURE_INVALID and not decision.valid
