"""The licence validation decision as a pure function (licensing.md §6.4).

:func:`evaluate` takes the licence state read from the database (or ``None`` when the key is
unknown), the request, ``now`` and the grace period, and returns a :class:`ValidationAnswer`:
the licence code, each add-on's status, the lease window, and whether this call binds an unbound
licence. :meth:`ValidationAnswer.to_payload` builds the JSON the server signs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from .client import (
    LEASE_TYPE,
    LEASE_VERSION,
    USABLE_ADDON_STATUSES,
    AddonStatus,
    NormalizedShop,
    Shop,
    ShopError,
    format_time,
    key_hash,
    normalize_shop,
)
from .frozen import frozen_instance

__all__ = [
    "AddonAnswer",
    "AddonState",
    "AddonStatus",
    "KeyState",
    "LicenseCode",
    "LicenseState",
    "LicenseStatus",
    "ShopBinding",
    "ValidationAnswer",
    "ValidationRequest",
    "addon_status",
    "evaluate",
    "mask_host",
]

LEASE_TTL = timedelta(days=7)
REFRESH_AFTER = timedelta(hours=24)


class LicenseCode(StrEnum):
    """Licence-level codes in precedence order: the first that applies wins."""

    NOT_FOUND = "NOT_FOUND"
    KEY_REPLACED = "KEY_REPLACED"
    REVOKED = "REVOKED"
    SUSPENDED = "SUSPENDED"
    EXPIRED = "EXPIRED"
    SHOP_SCOPE_REQUIRED = "SHOP_SCOPE_REQUIRED"
    SHOP_MISMATCH = "SHOP_MISMATCH"
    ADDONS_MISSING = "ADDONS_MISSING"
    VALID = "VALID"


DETAILS = {
    LicenseCode.NOT_FOUND: "license key not recognized",
    LicenseCode.KEY_REPLACED: "this key was replaced; copy the new key from your client area",
    LicenseCode.REVOKED: "license revoked",
    LicenseCode.SUSPENDED: "license suspended",
    LicenseCode.EXPIRED: "license expired",
    LicenseCode.SHOP_SCOPE_REQUIRED: "a valid shop is required",
    LicenseCode.SHOP_MISMATCH: "license is bound to another shop",
    LicenseCode.ADDONS_MISSING: "required add-ons are not active",
    LicenseCode.VALID: "license is valid",
}


class LicenseStatus(StrEnum):
    """Administrative status of a licence."""

    ACTIVE = "ACTIVE"
    SUSPENDED = "SUSPENDED"
    REVOKED = "REVOKED"


class KeyState(StrEnum):
    """State of the key row the request's key matched."""

    CURRENT = "CURRENT"
    REPLACED = "REPLACED"
    REVOKED = "REVOKED"


@dataclass(frozen=True)
class AddonState:
    """One add-on row. ``grace_days`` of ``None`` means: use the grace passed to evaluate()."""

    code: str
    active: bool
    starts_at: datetime | None = None
    expires_at: datetime | None = None
    supplier_id: int | None = None
    name: str = ""
    grace_days: int | None = None


@dataclass(frozen=True)
class ShopBinding:
    """The shop a licence is bound to, as stored."""

    shop_fp: str
    shop_host: str
    bound_at: datetime
    platform: str = ""
    rebinds_left: int | None = None
    rebind_cooldown_until: datetime | None = None


@dataclass(frozen=True)
class LicenseState:
    """What the server knows about the licence whose key row matched the request."""

    license_id: str
    status: LicenseStatus
    key_state: KeyState = KeyState.CURRENT
    expires_at: datetime | None = None
    binding: ShopBinding | None = None
    addons: Sequence[AddonState] = ()
    key_hint: str = ""


@dataclass(frozen=True)
class ValidationRequest:
    """A validation request, already past the syntactic key check (``key`` is normalised)."""

    key: str
    shop: Shop | None
    install_id: str | None = None
    nonce: str | None = None
    require_addons: Sequence[str] = ()


@dataclass(frozen=True)
class AddonAnswer:
    """One add-on in the answer. ``valid`` is False whenever the licence itself is not valid."""

    code: str
    status: AddonStatus
    valid: bool
    active: bool
    starts_at: datetime | None
    expires_at: datetime | None
    grace_until: datetime | None
    supplier_id: int | None = None
    name: str = ""

    def to_json(self) -> dict[str, Any]:
        """Return the add-on as it appears in the signed payload."""
        return {
            "code": self.code,
            "supplier_id": self.supplier_id,
            "name": self.name,
            "status": str(self.status),
            "valid": self.valid,
            "active": self.active,
            "starts_at": _time_or_none(self.starts_at),
            "expires_at": _time_or_none(self.expires_at),
            "grace_until": _time_or_none(self.grace_until),
        }


@dataclass(frozen=True)
class ValidationAnswer:
    """The outcome of :func:`evaluate`.

    When ``binds`` is True the caller must store ``shop`` as the licence's binding
    (``bound_via=AUTO_FIRST_CHECK``) in the same transaction as the validation log.
    """

    code: LicenseCode
    valid: bool
    detail: str
    issued_at: datetime
    refresh_after: datetime
    lease_expires_at: datetime
    key_hash: str
    shop: NormalizedShop | None
    install_id: str | None
    nonce: str | None
    binds: bool = False
    license: LicenseState | None = None
    binding: ShopBinding | None = None
    addons: tuple[AddonAnswer, ...] = ()
    missing_addons: tuple[str, ...] = ()

    def to_payload(self, issuer: str) -> dict[str, Any]:
        """Return the JSON-ready payload to sign (licensing.md §6.3)."""
        issued = format_time(self.issued_at)
        payload: dict[str, Any] = {
            "v": LEASE_VERSION,
            "typ": LEASE_TYPE,
            "iss": issuer,
            "ts": issued,
            "nonce": self.nonce,
            "request": {
                "key_hash": self.key_hash,
                "shop_fp": self.shop.fp if self.shop else None,
                "shop_host": self.shop.host if self.shop else None,
                "install_id": self.install_id,
            },
            "valid": self.valid,
            "code": str(self.code),
            "detail": self.detail,
            "license": None,
            "binding": None,
            "addons": [addon.to_json() for addon in self.addons],
            "missing_addons": list(self.missing_addons),
            "lease": {
                "issued_at": issued,
                "refresh_after": format_time(self.refresh_after),
                "expires_at": format_time(self.lease_expires_at),
            },
        }
        if self.license is not None:
            payload["license"] = {
                "id": self.license.license_id,
                "key_hash": self.key_hash,
                "key_hint": self.license.key_hint,
                "status": str(self.license.status),
                "expires_at": _time_or_none(self.license.expires_at),
            }
        if self.binding is not None:
            mismatch = self.code is LicenseCode.SHOP_MISMATCH
            payload["binding"] = {
                # Another customer's shop is shown masked and without its fingerprint.
                "shop_fp": None if mismatch else self.binding.shop_fp,
                "shop_host": mask_host(self.binding.shop_host)
                if mismatch
                else self.binding.shop_host,
                "bound_at": _time_or_none(self.binding.bound_at),
                "rebinds_left": self.binding.rebinds_left,
                "rebind_cooldown_until": _time_or_none(self.binding.rebind_cooldown_until),
            }
        return payload


def addon_status(
    addon: AddonState, now: datetime, grace: timedelta
) -> tuple[AddonStatus, datetime | None]:
    """Return an add-on's status at ``now`` and its ``grace_until`` (None without grace).

    Rules, first match wins: INACTIVE (not active), NOT_STARTED (``now < starts_at``), ACTIVE
    (no expiry or ``now < expires_at``), GRACE (``now < expires_at + grace``), else EXPIRED.
    """
    period = timedelta(days=addon.grace_days) if addon.grace_days is not None else grace
    grace_until = (
        addon.expires_at + period if addon.expires_at is not None and period > _NO_TIME else None
    )
    if not addon.active:
        return AddonStatus.INACTIVE, grace_until
    if addon.starts_at is not None and now < addon.starts_at:
        return AddonStatus.NOT_STARTED, grace_until
    if addon.expires_at is None or now < addon.expires_at:
        return AddonStatus.ACTIVE, grace_until
    if grace_until is not None and now < grace_until:
        return AddonStatus.GRACE, grace_until
    return AddonStatus.EXPIRED, grace_until


def evaluate(
    license: LicenseState | None,
    request: ValidationRequest,
    *,
    now: datetime,
    grace: timedelta = timedelta(0),
    lease_ttl: timedelta = LEASE_TTL,
    refresh_after: timedelta = REFRESH_AFTER,
) -> ValidationAnswer:
    """Evaluate a validation request; ``license`` is None when no key row matched.

    Codes follow the fixed order NOT_FOUND, KEY_REPLACED, REVOKED, SUSPENDED, EXPIRED,
    SHOP_SCOPE_REQUIRED, SHOP_MISMATCH, ADDONS_MISSING, VALID. An unbound licence is bound to the
    request's shop once the licence-level checks (through SHOP_MISMATCH) pass.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    try:
        shop = normalize_shop(request.shop) if request.shop is not None else None
    except ShopError:
        shop = None

    statuses = (
        [(addon, *addon_status(addon, now, grace)) for addon in license.addons]
        if license is not None
        else []
    )

    binds = False
    binding = license.binding if license is not None else None
    missing: tuple[str, ...] = ()
    if license is None:
        code = LicenseCode.NOT_FOUND
    elif license.key_state is KeyState.REPLACED:
        code = LicenseCode.KEY_REPLACED
    elif license.status is LicenseStatus.REVOKED or license.key_state is KeyState.REVOKED:
        code = LicenseCode.REVOKED
    elif license.status is LicenseStatus.SUSPENDED:
        code = LicenseCode.SUSPENDED
    elif license.expires_at is not None and now >= license.expires_at:
        code = LicenseCode.EXPIRED
    elif shop is None:
        code = LicenseCode.SHOP_SCOPE_REQUIRED
    elif binding is not None and binding.shop_fp != shop.fp:
        code = LicenseCode.SHOP_MISMATCH
    else:
        if binding is None:
            binds = True
            binding = ShopBinding(
                shop_fp=shop.fp, shop_host=shop.host, bound_at=now, platform=shop.platform
            )
        usable = {addon.code for addon, status, _ in statuses if status in USABLE_ADDON_STATUSES}
        wanted = dict.fromkeys(request.require_addons)
        missing = tuple(addon_code for addon_code in wanted if addon_code not in usable)
        code = LicenseCode.ADDONS_MISSING if missing else LicenseCode.VALID

    valid = code is LicenseCode.VALID
    detail = DETAILS[code]
    if missing:
        detail = f"{detail}: {', '.join(missing)}"
    # The same objects as through __init__, without its call per field (see .frozen).
    addons = tuple(
        frozen_instance(
            AddonAnswer,
            {
                "code": addon.code,
                "status": status,
                "valid": valid and status in USABLE_ADDON_STATUSES,
                "active": addon.active,
                "starts_at": addon.starts_at,
                "expires_at": addon.expires_at,
                "grace_until": grace_until,
                "supplier_id": addon.supplier_id,
                "name": addon.name,
            },
        )
        for addon, status, grace_until in statuses
    )
    return frozen_instance(
        ValidationAnswer,
        {
            "code": code,
            "valid": valid,
            "detail": detail,
            "issued_at": now,
            "refresh_after": now + refresh_after,
            "lease_expires_at": now + lease_ttl,
            "key_hash": key_hash(request.key),
            "shop": shop,
            "install_id": request.install_id,
            "nonce": request.nonce,
            "binds": binds,
            "license": license,
            "binding": binding,
            "addons": addons,
            "missing_addons": missing,
        },
    )


_NO_TIME = timedelta(0)


def mask_host(host: str) -> str:
    """Mask a host for someone who may not own it: ``example-shop.com`` → ``ex***.com``."""
    name, dot, tld = host.rpartition(".")
    if not dot:
        name, tld = host, ""
    return f"{name[:2]}***{dot}{tld}"


_FORMATTED: dict[datetime, str] = {}
_FORMATTED_LIMIT = 10_000


def _time_or_none(value: datetime | None) -> str | None:
    """:func:`format_time` of a stored instant, or None. Stored instants repeat from answer to
    answer, so their text is remembered (equal instants have equal text)."""
    if value is None:
        return None
    text = _FORMATTED.get(value)
    if text is None:
        if len(_FORMATTED) >= _FORMATTED_LIMIT:
            _FORMATTED.clear()
        text = _FORMATTED[value] = format_time(value)
    return text
