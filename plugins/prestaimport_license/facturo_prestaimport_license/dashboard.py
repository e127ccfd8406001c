"""The client dashboard's licence panel: a summary read in one Core query, rendered from it.

The summary is also the panel's cache key (``client_dashboard_panel_key``): the panel is a
function of the summary and nothing else, so the key changes whenever the panel would. The
add-ons' statuses are worked out at ``ctx.now()`` and kept in the summary, so an add-on that
runs out (or into its grace period) changes the key with no write to the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from typing import Any

from sqlalchemy import bindparam, select

from facturo.plugin import Context, Panel, RowReader, Service

from .evaluation import AddonState, addon_status
from .models import Addon, Licence, ShopBindingRow, Supplier
from .settings import config

USABLE = ("ACTIVE", "GRACE")


@dataclass(frozen=True)
class LicenceLine:
    """One licence as the panel shows it: how people call it, its shop (None when not bound)
    and how many of its add-ons are usable now, of how many."""

    name: str
    shop: str | None
    usable: int
    addons: int


_LICENCES, _BINDINGS, _SERVICES = Licence.__table__, ShopBindingRow.__table__, Service.__table__
_ADDONS, _SUPPLIERS = Addon.__table__, Supplier.__table__

#: The customer's licences with their shop binding and service label, one row per add-on
#: with what its status depends on (or one with NULLs for a licence without add-ons). Built
#: once: constructing a statement costs more than running it.
LICENCES_QUERY = (
    select(
        _LICENCES.c.id,
        _BINDINGS.c.shop_host,
        _BINDINGS.c.id,
        _SERVICES.c.label,
        _ADDONS.c.id,
        _SUPPLIERS.c.code,
        _ADDONS.c.active,
        _ADDONS.c.starts_at,
        _ADDONS.c.expires_at,
    )
    .select_from(_LICENCES)
    .outerjoin(_BINDINGS, _BINDINGS.c.licence_id == _LICENCES.c.id)
    .outerjoin(_SERVICES, _SERVICES.c.id == _LICENCES.c.service_id)
    .outerjoin(_ADDONS, _ADDONS.c.licence_id == _LICENCES.c.id)
    .outerjoin(_SUPPLIERS, _SUPPLIERS.c.id == _ADDONS.c.supplier_id)
    .where(_LICENCES.c.customer_id == bindparam("customer_id"))
    .order_by(_LICENCES.c.id, _ADDONS.c.id)
)


def licence_summary(
    ctx: Context, reader: RowReader, customer_id: int, language: str
) -> tuple[LicenceLine, ...]:
    """The customer's licences, oldest first, as the panel shows them at ``ctx.now()`` (names
    as :func:`.service.licence_name` gives them, statuses as the validation API decides)."""
    rows = reader.rows(LICENCES_QUERY, {"customer_id": customer_id})
    if not rows:
        return ()
    now, grace = ctx.now(), config(ctx).grace
    licences: dict[int, tuple[Any, ...]] = {}
    counts: dict[int, list[int]] = {}
    for row in rows:
        licence_id, addon_id, code, active, starts_at, expires_at = row[0], *row[4:]
        licences.setdefault(licence_id, row[:4])
        count = counts.setdefault(licence_id, [0, 0])
        if addon_id is None:
            continue
        state = AddonState(code, active, starts_at=starts_at, expires_at=expires_at)
        status, _ = addon_status(state, now, grace)
        count[1] += 1
        count[0] += status in USABLE
    lines = []
    for licence_id, shop_host, binding_id, label in licences.values():
        shop = shop_host if binding_id is not None else None
        if shop:
            name = shop
        elif label and label.strip():
            name = label.strip()
        else:
            name = f"{'Licence' if language == 'en' else 'Licencia'} {licence_id}"
        usable, total = counts[licence_id]
        lines.append(LicenceLine(name, shop, usable, total))
    return tuple(lines)


def summary_panel(lines: tuple[LicenceLine, ...], language: str) -> Panel | None:
    """The panel showing ``lines`` in ``language`` (None when there are no licences)."""
    if not lines:
        return None
    es = language == "es"
    label = "proveedores activos" if es else "suppliers active"
    parts = []
    for line in lines:
        shop = line.shop if line.shop is not None else ("sin tienda" if es else "no shop yet")
        where = "" if line.name == shop else f" · {escape(shop)}"
        parts.append(f"<li>{escape(line.name)}{where} · {line.usable}/{line.addons} {label}</li>")
    link = "Ver licencias" if es else "See licences"
    return Panel(
        title={"es": "Licencias", "en": "Licences"},
        html=f'<ul>{"".join(parts)}</ul><p><a href="/client/licences">{link}</a></p>',
        order=30,
    )
