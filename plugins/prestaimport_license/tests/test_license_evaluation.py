from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from facturo_prestaimport_license.client import Shop, ShopError, normalize_shop
from facturo_prestaimport_license.evaluation import (
    AddonState,
    AddonStatus,
    KeyState,
    LicenseCode,
    LicenseState,
    LicenseStatus,
    ShopBinding,
    ValidationRequest,
    addon_status,
    evaluate,
    mask_host,
)
from facturo_prestaimport_license.keys import key_from_bits, key_hash

NOW = datetime(2026, 7, 1, 10, 0, tzinfo=UTC)
EXPIRES = datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC)
GRACE = timedelta(days=7)
TICK = timedelta(microseconds=1)
KEY = key_from_bits(42)


@pytest.fixture
def bound(shop: Shop) -> ShopBinding:
    fp = normalize_shop(shop).fp
    return ShopBinding(fp, "example-shop.com", datetime(2026, 1, 1, tzinfo=UTC), rebinds_left=2)


@pytest.fixture
def licence(bound: ShopBinding) -> LicenseState:
    return LicenseState(
        license_id="lic_1",
        status=LicenseStatus.ACTIVE,
        binding=bound,
        key_hint=KEY[-4:],
        addons=[
            AddonState("supplier.acme", True, expires_at=EXPIRES, supplier_id=17, name="ACME"),
            AddonState("supplier.initech", False, expires_at=EXPIRES, supplier_id=31),
        ],
    )


@pytest.fixture
def request_(shop: Shop) -> ValidationRequest:
    return ValidationRequest(KEY, shop, install_id="inst-1", nonce="bm9uY2U")


# --- add-on statuses, time frozen at each boundary -------------------------------------


@pytest.mark.parametrize(
    ("at", "status"),
    [
        (EXPIRES - TICK, AddonStatus.ACTIVE),
        (EXPIRES, AddonStatus.GRACE),  # the expiry instant is already past expiry
        (EXPIRES + GRACE - TICK, AddonStatus.GRACE),
        (EXPIRES + GRACE, AddonStatus.EXPIRED),  # grace end is exclusive
    ],
)
def test_addon_expiry_and_grace_boundaries(at: datetime, status: AddonStatus) -> None:
    addon = AddonState("supplier.acme", True, expires_at=EXPIRES)
    assert addon_status(addon, at, GRACE) == (status, EXPIRES + GRACE)


@pytest.mark.parametrize(
    ("at", "status"), [(EXPIRES - TICK, AddonStatus.ACTIVE), (EXPIRES, AddonStatus.EXPIRED)]
)
def test_addon_without_grace_expires_at_the_instant(at: datetime, status: AddonStatus) -> None:
    addon = AddonState("supplier.acme", True, expires_at=EXPIRES)
    assert addon_status(addon, at, timedelta(0)) == (status, None)


@pytest.mark.parametrize(
    ("at", "status"),
    [(NOW - TICK, AddonStatus.NOT_STARTED), (NOW, AddonStatus.ACTIVE)],
)
def test_addon_start_boundary(at: datetime, status: AddonStatus) -> None:
    addon = AddonState("supplier.acme", True, starts_at=NOW, expires_at=EXPIRES)
    assert addon_status(addon, at, GRACE)[0] is status


def test_inactive_wins_over_every_date() -> None:
    for at in (NOW - GRACE, NOW, EXPIRES, EXPIRES + 2 * GRACE):
        addon = AddonState("s", False, starts_at=NOW, expires_at=EXPIRES)
        assert addon_status(addon, at, GRACE)[0] is AddonStatus.INACTIVE


def test_addon_without_expiry_stays_active_and_own_grace_overrides_default() -> None:
    forever = AddonState("s", True)
    assert addon_status(forever, EXPIRES + 100 * GRACE, GRACE) == (AddonStatus.ACTIVE, None)
    own = AddonState("s", True, expires_at=EXPIRES, grace_days=0)
    assert addon_status(own, EXPIRES, GRACE) == (AddonStatus.EXPIRED, None)
    longer = AddonState("s", True, expires_at=EXPIRES, grace_days=30)
    assert addon_status(longer, EXPIRES + GRACE, GRACE)[0] is AddonStatus.GRACE


def test_addons_are_evaluated_independently(
    licence: LicenseState, request_: ValidationRequest
) -> None:
    answer = evaluate(licence, request_, now=NOW, grace=GRACE)
    assert answer.code is LicenseCode.VALID
    statuses = {addon.code: (addon.status, addon.valid) for addon in answer.addons}
    assert statuses == {
        "supplier.acme": (AddonStatus.ACTIVE, True),
        "supplier.initech": (AddonStatus.INACTIVE, False),
    }


# --- licence codes, one per row of §6.4, and their precedence ---------------------------


def test_valid(licence: LicenseState, request_: ValidationRequest) -> None:
    answer = evaluate(licence, request_, now=NOW)
    assert (answer.code, answer.valid, answer.binds) == (LicenseCode.VALID, True, False)
    assert answer.detail == "license is valid"


def test_not_found(request_: ValidationRequest) -> None:
    answer = evaluate(None, request_, now=NOW)
    assert (answer.code, answer.valid, answer.addons) == (LicenseCode.NOT_FOUND, False, ())
    assert answer.to_payload("iss")["license"] is None


def test_key_replaced_outranks_revoked(licence: LicenseState, request_: ValidationRequest) -> None:
    replaced = replace(licence, key_state=KeyState.REPLACED, status=LicenseStatus.REVOKED)
    assert evaluate(replaced, request_, now=NOW).code is LicenseCode.KEY_REPLACED


@pytest.mark.parametrize(
    "change",
    [{"status": LicenseStatus.REVOKED}, {"key_state": KeyState.REVOKED}],
)
def test_revoked_outranks_suspended(
    licence: LicenseState, request_: ValidationRequest, change: dict[str, Any]
) -> None:
    state = replace(licence, **change)
    if "key_state" in change:
        state = replace(state, status=LicenseStatus.SUSPENDED)
    assert evaluate(state, request_, now=NOW).code is LicenseCode.REVOKED


def test_suspended_outranks_expired(licence: LicenseState, request_: ValidationRequest) -> None:
    state = replace(licence, status=LicenseStatus.SUSPENDED, expires_at=NOW)
    answer = evaluate(state, request_, now=NOW)
    assert answer.code is LicenseCode.SUSPENDED and not answer.valid


@pytest.mark.parametrize(
    ("at", "code"), [(NOW - TICK, LicenseCode.VALID), (NOW, LicenseCode.EXPIRED)]
)
def test_licence_expiry_boundary_and_it_outranks_shop_checks(
    licence: LicenseState, at: datetime, code: LicenseCode
) -> None:
    state = replace(licence, expires_at=NOW)
    # With no shop at all, EXPIRED still wins at the instant; before it, the shop is checked.
    assert evaluate(state, ValidationRequest(KEY, None), now=at).code is (
        LicenseCode.EXPIRED if code is LicenseCode.EXPIRED else LicenseCode.SHOP_SCOPE_REQUIRED
    )
    assert (
        evaluate(state, ValidationRequest(KEY, Shop("prestashop", "example-shop.com")), now=at).code
        is code
    )


@pytest.mark.parametrize(
    "bad_shop",
    [
        None,
        Shop("", "https://example-shop.com"),
        Shop("prestashop", ""),
        Shop("prestashop", "http://"),
    ],
)
def test_shop_scope_required_outranks_mismatch(
    licence: LicenseState, bad_shop: Shop | None
) -> None:
    answer = evaluate(licence, ValidationRequest(KEY, bad_shop), now=NOW)
    assert answer.code is LicenseCode.SHOP_SCOPE_REQUIRED and not answer.binds


def test_shop_mismatch_masks_the_bound_shop(licence: LicenseState, other_shop: Shop) -> None:
    answer = evaluate(licence, ValidationRequest(KEY, other_shop, require_addons=["x"]), now=NOW)
    assert answer.code is LicenseCode.SHOP_MISMATCH and not answer.binds
    binding = answer.to_payload("iss")["binding"]
    assert binding == {
        "shop_fp": None,
        "shop_host": "ex***.com",
        "bound_at": "2026-01-01T00:00:00Z",
        "rebinds_left": 2,
        "rebind_cooldown_until": None,
    }


def test_addons_missing_lists_what_is_not_active_or_in_grace(
    licence: LicenseState, shop: Shop
) -> None:
    required = ["supplier.acme", "supplier.initech", "supplier.unknown", "supplier.initech"]
    answer = evaluate(licence, ValidationRequest(KEY, shop, require_addons=required), now=NOW)
    assert answer.code is LicenseCode.ADDONS_MISSING and not answer.valid
    assert answer.missing_addons == ("supplier.initech", "supplier.unknown")
    assert "supplier.unknown" in answer.detail
    # Licence not valid: every add-on is reported, none valid.
    assert [a.valid for a in answer.addons] == [False, False]
    assert answer.addons[0].status is AddonStatus.ACTIVE


def test_an_addon_in_grace_satisfies_require_addons(licence: LicenseState, shop: Shop) -> None:
    request = ValidationRequest(KEY, shop, require_addons=["supplier.acme"])
    assert evaluate(licence, request, now=EXPIRES, grace=GRACE).code is LicenseCode.VALID
    assert evaluate(licence, request, now=EXPIRES + GRACE, grace=GRACE).code is (
        LicenseCode.ADDONS_MISSING
    )


@pytest.mark.parametrize("code", [c for c in LicenseCode if c is not LicenseCode.VALID])
def test_invalid_codes_never_report_valid_addons(
    licence: LicenseState, shop: Shop, other_shop: Shop, code: LicenseCode
) -> None:
    state: LicenseState | None = licence
    request = ValidationRequest(KEY, shop)
    if code is LicenseCode.NOT_FOUND:
        state = None
    elif code is LicenseCode.KEY_REPLACED:
        state = replace(licence, key_state=KeyState.REPLACED)
    elif code is LicenseCode.REVOKED:
        state = replace(licence, status=LicenseStatus.REVOKED)
    elif code is LicenseCode.SUSPENDED:
        state = replace(licence, status=LicenseStatus.SUSPENDED)
    elif code is LicenseCode.EXPIRED:
        state = replace(licence, expires_at=NOW)
    elif code is LicenseCode.SHOP_SCOPE_REQUIRED:
        request = ValidationRequest(KEY, None)
    elif code is LicenseCode.SHOP_MISMATCH:
        request = ValidationRequest(KEY, other_shop)
    else:
        request = ValidationRequest(KEY, shop, require_addons=["nope"])
    answer = evaluate(state, request, now=NOW)
    assert answer.code is code and answer.valid is False
    assert not any(addon.valid for addon in answer.addons)
    assert answer.to_payload("iss")["valid"] is False


# --- binding --------------------------------------------------------------------------


def test_first_valid_check_binds_an_unbound_licence(licence: LicenseState, shop: Shop) -> None:
    unbound = replace(licence, binding=None)
    answer = evaluate(unbound, ValidationRequest(KEY, shop), now=NOW)
    assert answer.code is LicenseCode.VALID and answer.binds
    assert answer.binding is not None and answer.shop is not None
    assert answer.binding.shop_fp == answer.shop.fp == normalize_shop(shop).fp
    assert (answer.binding.shop_host, answer.binding.bound_at) == ("example-shop.com", NOW)


def test_rechecking_from_the_bound_shop_is_idempotent(licence: LicenseState) -> None:
    same = Shop("PrestaShop", "http://EXAMPLE-shop.com:8443/admin/?x=1")
    answer = evaluate(licence, ValidationRequest(KEY, same), now=NOW)
    assert answer.code is LicenseCode.VALID and not answer.binds
    assert answer.binding == licence.binding


@pytest.mark.parametrize(
    "change",
    [
        {"status": LicenseStatus.SUSPENDED},
        {"status": LicenseStatus.REVOKED},
        {"key_state": KeyState.REPLACED},
        {"expires_at": NOW},
    ],
)
def test_a_failing_licence_never_binds(
    licence: LicenseState, shop: Shop, change: dict[str, Any]
) -> None:
    state = replace(licence, binding=None, **change)
    answer = evaluate(state, ValidationRequest(KEY, shop), now=NOW)
    assert not answer.binds and answer.binding is None


def test_binding_does_not_depend_on_require_addons(licence: LicenseState, shop: Shop) -> None:
    unbound = replace(licence, binding=None)
    answer = evaluate(unbound, ValidationRequest(KEY, shop, require_addons=["nope"]), now=NOW)
    assert answer.code is LicenseCode.ADDONS_MISSING and answer.binds


# --- lease fields and payload ---------------------------------------------------------


def test_lease_window_and_echoes(licence: LicenseState, request_: ValidationRequest) -> None:
    answer = evaluate(
        licence, request_, now=NOW, lease_ttl=timedelta(days=3), refresh_after=timedelta(hours=6)
    )
    assert answer.issued_at == NOW
    assert answer.refresh_after == NOW + timedelta(hours=6)
    assert answer.lease_expires_at == NOW + timedelta(days=3)
    assert (answer.nonce, answer.install_id) == ("bm9uY2U", "inst-1")
    assert answer.key_hash == key_hash(KEY)


def test_payload_matches_the_documented_shape(
    licence: LicenseState, request_: ValidationRequest
) -> None:
    payload = evaluate(licence, request_, now=NOW, grace=GRACE).to_payload("billing.example.com")
    assert payload["v"] == 1 and payload["typ"] == "license-validation"
    assert payload["iss"] == "billing.example.com"
    assert payload["ts"] == "2026-07-01T10:00:00Z" and payload["nonce"] == "bm9uY2U"
    assert payload["request"] == {
        "key_hash": key_hash(KEY),
        "shop_fp": normalize_shop(request_.shop).fp,  # type: ignore[arg-type]
        "shop_host": "example-shop.com",
        "install_id": "inst-1",
    }
    assert payload["license"] == {
        "id": "lic_1",
        "key_hash": key_hash(KEY),
        "key_hint": KEY[-4:],
        "status": "ACTIVE",
        "expires_at": None,
    }
    assert payload["addons"][0] == {
        "code": "supplier.acme",
        "supplier_id": 17,
        "name": "ACME",
        "status": "ACTIVE",
        "valid": True,
        "active": True,
        "starts_at": None,
        "expires_at": "2026-12-31T23:59:59Z",
        "grace_until": "2027-01-07T23:59:59Z",
    }
    assert payload["lease"] == {
        "issued_at": "2026-07-01T10:00:00Z",
        "refresh_after": "2026-07-02T10:00:00Z",
        "expires_at": "2026-07-08T10:00:00Z",
    }


def test_naive_now_is_refused(licence: LicenseState, request_: ValidationRequest) -> None:
    with pytest.raises(ValueError):
        evaluate(licence, request_, now=datetime(2026, 7, 1))


# --- shop normalisation ---------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://www.example-shop.com/",
        "http://example-shop.com",
        "EXAMPLE-SHOP.COM",
        "www.Example-Shop.com/shop/index.php?id=3",
        "https://user:pw@www.example-shop.com:8080/path#frag",
        "https://example-shop.com./",
        "  example-shop.com  ",
    ],
)
def test_shop_urls_normalise_to_the_same_host(url: str) -> None:
    normal = normalize_shop(Shop(" PrestaShop ", url))
    assert (normal.platform, normal.host) == ("prestashop", "example-shop.com")
    assert normal.fp == normalize_shop(Shop("prestashop", "example-shop.com")).fp


def test_shop_normalisation_details() -> None:
    assert normalize_shop(Shop("woo", "https://Bücher.example/")).host == "xn--bcher-kva.example"
    assert normalize_shop(Shop("woo", "www.com")).host == "www.com"  # not stripped to "com"
    assert normalize_shop(Shop("woo", "http://192.168.1.10:8080/")).host == "192.168.1.10"
    assert normalize_shop(Shop("woo", "http://[::1]/")).host == "::1"
    # Platform id is preferred: it survives a domain change, and a different platform differs.
    a = normalize_shop(Shop("shopify", "a.example", shop_id="123"))
    b = normalize_shop(Shop("shopify", "b.example", shop_id="123"))
    assert a.fp == b.fp
    assert a.fp != normalize_shop(Shop("woo", "a.example", shop_id="123")).fp
    assert a.fp != normalize_shop(Shop("shopify", "a.example")).fp
    assert normalize_shop(Shop("shopify", "a.example", shop_id="")).shop_id is None


@pytest.mark.parametrize(
    "shop",
    [
        Shop("", "example.com"),
        Shop("presta shop", "example.com"),
        Shop("prestashop", ""),
        Shop("prestashop", "https://"),
        Shop("prestashop", "exa mple.com"),
        Shop("prestashop", "-bad-.com"),
        Shop("prestashop", "http://example.com:99999/"),
        Shop("prestashop", "example.com", shop_id="has space"),
    ],
)
def test_invalid_shops_are_refused(shop: Shop) -> None:
    with pytest.raises(ShopError):
        normalize_shop(shop)


def test_mask_host() -> None:
    assert mask_host("example-shop.com") == "ex***.com"
    assert mask_host("localhost") == "lo***"


@pytest.mark.parametrize("valid", [True, False])
def test_answers_are_the_objects_their_constructors_make(
    licence: LicenseState, request_: ValidationRequest, valid: bool
) -> None:
    """evaluate() builds its frozen answers without __init__: equal to what the constructors
    make, every field set, add-ons hashable, still frozen."""
    from dataclasses import FrozenInstanceError, fields

    from facturo_prestaimport_license.evaluation import AddonAnswer, ValidationAnswer

    state = licence if valid else replace(licence, status=LicenseStatus.SUSPENDED)
    answer = evaluate(state, request_, now=NOW, grace=GRACE)
    rebuilt = ValidationAnswer(
        **{f.name: getattr(answer, f.name) for f in fields(ValidationAnswer)},
    )
    assert answer == rebuilt
    assert answer.valid is valid
    for addon in answer.addons:
        again = AddonAnswer(**{f.name: getattr(addon, f.name) for f in fields(AddonAnswer)})
        assert addon == again and hash(addon) == hash(again)
        assert vars(addon).keys() == {f.name for f in fields(AddonAnswer)}
    assert [addon.valid for addon in answer.addons] == [valid, False]
    with pytest.raises(FrozenInstanceError):
        answer.valid = not valid  # type: ignore[misc]
