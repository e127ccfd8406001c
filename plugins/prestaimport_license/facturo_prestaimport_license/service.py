"""Licence domain operations on a Session: create, keys, provisioning, moves, staff actions.

Nothing here knows about HTTP. Every function that changes state takes the caller's session
(one transaction) and ``ctx`` (clock and settings).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from facturo.plugin import (
    Context,
    Customer,
    Service,
    add_months,
    audit_record,
    months_of,
    period_end_instant,
)

from .client import KeyFormatError
from .keys import (
    decrypt_key,
    encrypt_key,
    format_key,
    generate_key,
    key_hint,
    lookup_hmac,
    normalize_key,
)
from .models import Addon, Licence, LicenceKey, ProvisionMark, ShopBindingRow, ShopMove, Supplier
from .settings import LicenseConfig, config

YEAR = timedelta(days=365)


class LicenceError(Exception):
    """A licence operation that is not allowed now; ``code`` is machine-readable."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


def add_months_dt(value: datetime, months: int) -> datetime:
    """``value`` plus ``months`` calendar months, keeping the time of day."""
    day = add_months(value.date(), months)
    return value.replace(year=day.year, month=day.month, day=day.day)


def public_id(licence_id: int) -> str:
    """The licence id shown in leases: ``lic_<n>``."""
    return f"lic_{licence_id}"


# --- keys ----------------------------------------------------------------------------------


def _associated(licence_id: int) -> bytes:
    return public_id(licence_id).encode("ascii")


def store_key(session: Session, cfg: LicenseConfig, licence: Licence, key: str) -> LicenceKey:
    """Store the normalised ``key`` as ``licence``'s CURRENT key (HMAC, ciphertext, hint)."""
    row = LicenceKey(
        licence_id=licence.id,
        lookup_hmac=lookup_hmac(key, cfg.pepper),
        ciphertext=encrypt_key(key, cfg.encryption_secret, associated_data=_associated(licence.id)),
        hint=key_hint(key),
        state="CURRENT",
    )
    session.add(row)
    session.flush()
    return row


def current_key(session: Session, ctx: Context, licence: Licence) -> str | None:
    """The licence's current key, formatted for display (None if it has none)."""
    cfg = config(ctx)
    row = session.scalar(
        select(LicenceKey).where(LicenceKey.licence_id == licence.id, LicenceKey.state == "CURRENT")
    )
    if row is None:
        return None
    return format_key(
        decrypt_key(row.ciphertext, cfg.encryption_secret, associated_data=_associated(licence.id))
    )


def create_licence(
    session: Session,
    ctx: Context,
    customer_id: int,
    service_id: int | None,
    key: str | None = None,
) -> Licence:
    """Create an ACTIVE licence with a new key; with ``service_id`` return the existing one."""
    if service_id is not None:
        existing = session.scalar(select(Licence).where(Licence.service_id == service_id))
        if existing is not None:
            return existing
    cfg = config(ctx)
    licence = Licence(
        customer_id=customer_id,
        service_id=service_id,
        status="ACTIVE",
        status_reason="",
        created_at=ctx.now(),
    )
    session.add(licence)
    session.flush()
    store_key(session, cfg, licence, key or generate_key(cfg.prefix))
    audit_record(session, "system", "licence.create", licence, after={"service_id": service_id})
    return licence


def regenerate_key(session: Session, ctx: Context, licence: Licence, actor: str) -> str:
    """Replace the licence's key: the old one answers KEY_REPLACED. Returns the new key."""
    cfg = config(ctx)
    now = ctx.now()
    for row in session.scalars(
        select(LicenceKey).where(LicenceKey.licence_id == licence.id, LicenceKey.state == "CURRENT")
    ):
        row.state = "REPLACED"
        row.replaced_at = now
    session.flush()
    key = generate_key(cfg.prefix)
    store_key(session, cfg, licence, key)
    audit_record(session, actor, "licence.regenerate_key", licence)
    return format_key(key)


def find_by_key(session: Session, ctx: Context, raw: str) -> Licence | None:
    """The licence whose (current or replaced) key is ``raw``, or None."""
    cfg = config(ctx)
    try:
        key = normalize_key(raw, cfg.prefix)
    except KeyFormatError:
        return None
    row = session.scalar(
        select(LicenceKey).where(LicenceKey.lookup_hmac == lookup_hmac(key, cfg.pepper))
    )
    return session.get(Licence, row.licence_id) if row is not None else None


# --- suppliers and add-ons ----------------------------------------------------------------


def supplier_code(options: str) -> str | None:
    """The supplier code in a product's provisioner options (``supplier=<code>``)."""
    for part in options.replace(";", "\n").replace(",", "\n").splitlines():
        name, sep, value = part.partition("=")
        if sep and name.strip() == "supplier" and value.strip():
            return value.strip()
    return None


def ensure_supplier(session: Session, code: str, name: str, name_en: str = "") -> Supplier:
    """The supplier with ``code`` from the staff's catalog; when staff have not added it yet,
    created with ``name`` (Spanish) and ``name_en`` (English), which staff may change."""
    supplier = session.scalar(select(Supplier).where(Supplier.code == code))
    if supplier is None:
        name = name.strip() or code
        english = name_en.strip()
        supplier = Supplier(code=code, name=name, name_en="" if english == name else english)
        session.add(supplier)
        session.flush()
    return supplier


def licence_name(session: Session, licence: Licence, language: str = "es") -> str:
    """How people call a licence: the shop it is bound to, else the shop label given when it
    was ordered, else "Licencia 2" / "Licence 2" (the lease's ``lic_2`` is for machines)."""
    binding = binding_of(session, licence.id)
    if binding is not None and binding.shop_host:
        return binding.shop_host
    service = session.get(Service, licence.service_id) if licence.service_id else None
    if service is not None and service.label.strip():
        return service.label.strip()
    return f"{'Licence' if language == 'en' else 'Licencia'} {licence.id}"


def ensure_addon(session: Session, ctx: Context, licence: Licence, supplier: Supplier) -> Addon:
    """The add-on row of ``licence`` for ``supplier`` (created inactive)."""
    addon = session.scalar(
        select(Addon).where(Addon.licence_id == licence.id, Addon.supplier_id == supplier.id)
    )
    if addon is None:
        addon = Addon(
            licence_id=licence.id, supplier_id=supplier.id, active=False, updated_at=ctx.now()
        )
        session.add(addon)
        session.flush()
    return addon


def _mark_once(session: Session, mark: str) -> bool:
    """Record ``mark``; False when it was already recorded (the step already ran)."""
    if session.scalar(select(ProvisionMark.id).where(ProvisionMark.mark == mark)) is not None:
        return False
    session.add(ProvisionMark(mark=mark))
    session.flush()
    return True


@dataclass(frozen=True)
class PaidPeriod:
    """The paid invoice line behind a create/renew: its id and period (both days included)."""

    line_id: int | None
    start: date | None
    end: date


def extend_addon(ctx: Context, addon: Addon, months: int) -> None:
    """Activate ``addon`` and extend its expiry by ``months``: from the old expiry, or from now
    when it had lapsed (or never started). Only for a create/renew that names no paid line
    (a direct call); a paid line sets the expiry to its period's end (:func:`cover_period`)."""
    now = ctx.now()
    base = addon.expires_at if addon.expires_at is not None and addon.expires_at > now else now
    addon.expires_at = add_months_dt(base, months)
    addon.active = True
    if addon.starts_at is None:
        addon.starts_at = now
    addon.updated_at = now


def paid_until(ctx: Context, current: datetime | None, paid: PaidPeriod) -> datetime:
    """The expiry after paying ``paid``: the end of its period (the start of the next due date
    in the business time zone), never earlier than ``current`` (events may come out of order)."""
    end = period_end_instant(paid.end, ctx.settings.zone)
    if current is not None and current.tzinfo is None:
        current = current.replace(tzinfo=UTC)
    return max(end, current) if current is not None else end


def cover_period(ctx: Context, addon: Addon, paid: PaidPeriod) -> None:
    """Activate ``addon`` until the end of the paid period (see the ``provision_product`` hook's
    rule: the core's next due date and this expiry are the same instant)."""
    addon.expires_at = paid_until(ctx, addon.expires_at, paid)
    addon.active = True
    if addon.starts_at is None:
        start = paid.start or paid.end
        addon.starts_at = min(
            ctx.now(), period_end_instant(start - timedelta(days=1), ctx.settings.zone)
        )
    addon.updated_at = ctx.now()


def _paid_through_due_date(service: Service) -> PaidPeriod | None:
    """For a create/renew that names no paid line (a staff action, an older caller): the
    period the service is paid through, which ends the day before its next due date."""
    if service.next_due_date is None:
        return None
    return PaidPeriod(None, None, service.next_due_date - timedelta(days=1))


def provision(
    ctx: Context, session: Session, service: Service, action: str, paid: PaidPeriod | None = None
) -> dict[str, Any]:
    """Carry out ``action`` for a licence or add-on service; safe to repeat. ``paid``: the paid
    line of a create/renew (idempotent per line; expiry = the end of its period)."""
    product = service.product
    if product.parent_id is None:
        return _provision_licence(ctx, session, service, action, paid)
    return _provision_addon(ctx, session, service, action, paid)


def _provision_licence(
    ctx: Context, session: Session, service: Service, action: str, paid: PaidPeriod | None
) -> dict[str, Any]:
    licence = create_licence(session, ctx, service.customer_id, service.id)
    paid = paid or _paid_through_due_date(service)
    if action in ("create", "renew") and paid is not None:
        licence.expires_at = paid_until(ctx, licence.expires_at, paid)
    if action == "create":
        from .thanks import send_licence_email

        send_licence_email(session, ctx, licence)
    if action == "suspend" and licence.status == "ACTIVE":
        licence.status, licence.status_reason = "SUSPENDED", "billing"
    elif (
        action == "unsuspend"
        and licence.status == "SUSPENDED"
        and licence.status_reason == "billing"
    ):
        # Only a billing hold is lifted by billing; a staff hold stays until staff lift it.
        licence.status, licence.status_reason = "ACTIVE", ""
    elif action == "terminate":
        licence.status, licence.status_reason = "REVOKED", "terminated"
    session.flush()
    return {"licence_id": licence.id}


def _provision_addon(
    ctx: Context, session: Session, service: Service, action: str, paid: PaidPeriod | None
) -> dict[str, Any]:
    product = service.product
    code = supplier_code(product.provisioner_options or "")
    if code is None:
        raise ValueError(f"product {product.code} names no supplier (supplier=<code>)")
    if service.parent_id is None:
        raise ValueError(f"add-on service {service.id} has no licence service")
    parent = session.get(Service, service.parent_id)
    assert parent is not None
    licence = create_licence(session, ctx, parent.customer_id, parent.id)
    supplier = ensure_supplier(session, code, product.name_es, product.name_en)
    addon = ensure_addon(session, ctx, licence, supplier)
    addon.service_id = service.id
    if action in ("create", "renew"):
        paid = paid or _paid_through_due_date(service)
        if paid is None:  # no line and no due date: a cycle from now, once per service
            if _mark_once(session, f"{service.id}:paid:none"):
                extend_addon(ctx, addon, months_of(service.cycle))
        elif paid.line_id is None or _mark_once(session, f"line:{paid.line_id}"):
            cover_period(ctx, addon, paid)  # without a line: idempotent by itself (a date)
    elif action == "suspend":
        addon.active = False
    elif action == "unsuspend":
        addon.active = True
    elif action == "terminate":
        addon.active = False
    addon.updated_at = ctx.now()
    session.flush()
    return {"licence_id": licence.id, "addon_id": addon.id}


# --- binding and moves ----------------------------------------------------------------------


@dataclass(frozen=True)
class MoveAllowance:
    """How many moves are left this year and until when the cooldown lasts."""

    left: int
    cooldown_until: datetime | None


def allowance_from(
    cfg: LicenseConfig, now: datetime, used: int, last: datetime | None
) -> tuple[int, datetime | None]:
    """Moves left and cooldown end from the count and time of the moves in the last year."""
    if last is not None and last.tzinfo is None:
        last = last.replace(tzinfo=UTC)
    cooldown = None
    if last is not None and last + cfg.move_cooldown > now:
        cooldown = last + cfg.move_cooldown
    return max(0, cfg.moves_per_year - used), cooldown


def move_allowance(session: Session, ctx: Context, licence_id: int) -> MoveAllowance:
    """Moves left in the rolling year and the end of the cooldown (None when none)."""
    cfg = config(ctx)
    now = ctx.now()
    used, last = session.execute(
        select(func.count(ShopMove.id), func.max(ShopMove.at)).where(
            ShopMove.licence_id == licence_id, ShopMove.counted.is_(True), ShopMove.at > now - YEAR
        )
    ).one()
    left, cooldown = allowance_from(cfg, now, int(used or 0), last)
    return MoveAllowance(left, cooldown)


def move_shop(session: Session, ctx: Context, licence: Licence, actor: str) -> None:
    """Release the licence's shop so that the next validation binds the new shop.

    Customers are limited to ``moves_per_year`` in a rolling year with a cooldown between
    moves; raises LicenceError (MOVE_NOT_BOUND, REBIND_LIMIT_REACHED, REBIND_COOLDOWN).
    """
    binding = session.scalar(select(ShopBindingRow).where(ShopBindingRow.licence_id == licence.id))
    if binding is None:
        raise LicenceError("MOVE_NOT_BOUND", "the licence is not bound to a shop yet")
    allowance = move_allowance(session, ctx, licence.id)
    if allowance.left <= 0:
        raise LicenceError("REBIND_LIMIT_REACHED", "no moves left this year")
    if allowance.cooldown_until is not None:
        raise LicenceError("REBIND_COOLDOWN", "the licence was moved recently; try again later")
    _release(session, ctx, licence, binding, actor, counted=True)


def reset_binding(session: Session, ctx: Context, licence: Licence, actor: str) -> bool:
    """Staff override: release the shop without counting a move. False when unbound."""
    binding = session.scalar(select(ShopBindingRow).where(ShopBindingRow.licence_id == licence.id))
    if binding is None:
        return False
    _release(session, ctx, licence, binding, actor, counted=False)
    return True


def _release(
    session: Session,
    ctx: Context,
    licence: Licence,
    binding: ShopBindingRow,
    actor: str,
    counted: bool,
) -> None:
    session.add(
        ShopMove(
            licence_id=licence.id,
            old_shop_host=binding.shop_host,
            actor=actor,
            counted=counted,
            at=ctx.now(),
        )
    )
    host = binding.shop_host
    session.execute(delete(ShopBindingRow).where(ShopBindingRow.id == binding.id))
    session.flush()
    audit_record(session, actor, "licence.release_shop", licence, before={"shop": host})


# --- staff actions ------------------------------------------------------------------------


def set_status(session: Session, licence: Licence, status: str, reason: str, actor: str) -> None:
    """Set the licence status (ACTIVE, SUSPENDED, REVOKED); a revoked licence stays revoked."""
    if status not in ("ACTIVE", "SUSPENDED", "REVOKED"):
        raise LicenceError("STATUS_INVALID", f"unknown status {status!r}")
    if licence.status == "REVOKED" and status != "REVOKED":
        raise LicenceError("LICENCE_REVOKED", "a revoked licence cannot be reinstated")
    before = licence.status
    licence.status, licence.status_reason = status, reason[:200]
    session.flush()
    audit_record(
        session,
        actor,
        "licence.status",
        licence,
        before={"status": before},
        after={"status": status},
    )


def customer_licences(session: Session, customer_id: int) -> list[Licence]:
    """The customer's licences, oldest first."""
    return list(
        session.scalars(
            select(Licence).where(Licence.customer_id == customer_id).order_by(Licence.id)
        )
    )


def addon_rows(session: Session, licence_id: int) -> list[tuple[Addon, Supplier]]:
    """The licence's add-ons with their suppliers, by supplier name."""
    return [
        (addon, supplier)
        for addon, supplier in session.execute(
            select(Addon, Supplier)
            .join(Supplier, Supplier.id == Addon.supplier_id)
            .where(Addon.licence_id == licence_id)
            .order_by(Supplier.name)
        )
    ]


def binding_of(session: Session, licence_id: int) -> ShopBindingRow | None:
    """The licence's shop binding, if bound."""
    return session.scalar(select(ShopBindingRow).where(ShopBindingRow.licence_id == licence_id))


def search_licences(session: Session, ctx: Context, query: str) -> list[Licence]:
    """Licences matching a key, a customer (email, name, company) or a shop host."""
    query = query.strip()
    if not query:
        return []
    found: dict[int, Licence] = {}
    by_key = find_by_key(session, ctx, query)
    if by_key is not None:
        found[by_key.id] = by_key
    like = f"%{query.lower()}%"
    rows = session.scalars(
        select(Licence)
        .outerjoin(ShopBindingRow, ShopBindingRow.licence_id == Licence.id)
        .join(Customer, Customer.id == Licence.customer_id)
        .where(
            or_(
                func.lower(Customer.email).like(like),
                func.lower(Customer.name).like(like),
                func.lower(ShopBindingRow.shop_host).like(like),
            )
        )
        .order_by(Licence.id)
        .limit(50)
    )
    for licence in rows:
        found.setdefault(licence.id, licence)
    return list(found.values())
