"""Reading what the validation needs about a key: one indexed query, no ORM.

The query returns one row per add-on (at least one row when the key exists): the licence-level
columns are read from the first row only, the add-on columns from every row. The moves of the
last year are counted in the same query, so a first binding needs no second read.

On SQLite a web process keeps what it read about a key while the licence tables stay unchanged:
triggers bump a counter on every change to them (migration 0002), and each validation reads the
counter, one row by primary key, before it trusts what it kept. A licence with a move in the last
year is never kept (its count depends on the time), nor is an unknown key. PostgreSQL reads the
tables every time.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Table, bindparam, func, select

from facturo.plugin import Context, PinnedConnections

from .evaluation import AddonState, KeyState, LicenseState, LicenseStatus, ShopBinding
from .fastdb import Converter, PinnedQuery
from .migrations.prestaimport_license_0002_pv_state_version import (
    VERSION_TABLE,
    trigger_names,
)
from .models import Addon, Licence, LicenceKey, ShopBindingRow, ShopMove, Supplier
from .service import YEAR, allowance_from, public_id
from .settings import LicenseConfig

_KEYS: Table = LicenceKey.__table__  # type: ignore[assignment]
_LICENCES: Table = Licence.__table__  # type: ignore[assignment]
_BINDINGS: Table = ShopBindingRow.__table__  # type: ignore[assignment]
_ADDONS: Table = Addon.__table__  # type: ignore[assignment]
_SUPPLIERS: Table = Supplier.__table__  # type: ignore[assignment]
_MOVES: Table = ShopMove.__table__  # type: ignore[assignment]

_COUNTED_MOVES = (
    _MOVES.c.licence_id == _KEYS.c.licence_id,
    _MOVES.c.counted.is_(True),
    _MOVES.c.at > bindparam("since"),
)
STATE_QUERY = (
    select(
        _KEYS.c.licence_id,
        _KEYS.c.state,
        _KEYS.c.hint,
        _LICENCES.c.status,
        _LICENCES.c.expires_at,
        _BINDINGS.c.shop_fp,
        _BINDINGS.c.shop_host,
        _BINDINGS.c.platform,
        _BINDINGS.c.bound_at,
        select(func.count(_MOVES.c.id))
        .where(*_COUNTED_MOVES)
        .scalar_subquery()
        .label("moves_used"),
        select(func.max(_MOVES.c.at)).where(*_COUNTED_MOVES).scalar_subquery().label("last_move"),
        _SUPPLIERS.c.code.label("addon_code"),
        _SUPPLIERS.c.id.label("supplier_id"),
        _SUPPLIERS.c.name.label("supplier_name"),
        _ADDONS.c.active.label("addon_active"),
        _ADDONS.c.starts_at.label("addon_starts_at"),
        _ADDONS.c.expires_at.label("addon_expires_at"),
        _ADDONS.c.service_id.label("addon_service_id"),
    )
    .select_from(_KEYS)
    .join(_LICENCES, _LICENCES.c.id == _KEYS.c.licence_id)
    .outerjoin(_BINDINGS, _BINDINGS.c.licence_id == _KEYS.c.licence_id)
    .outerjoin(_ADDONS, _ADDONS.c.licence_id == _KEYS.c.licence_id)
    .outerjoin(_SUPPLIERS, _SUPPLIERS.c.id == _ADDONS.c.supplier_id)
    .where(_KEYS.c.lookup_hmac == bindparam("digest"))
    .order_by(_SUPPLIERS.c.code)
)
_LICENCE_COLUMNS = (
    "licence_id",
    "state",
    "hint",
    "status",
    "expires_at",
    "shop_fp",
    "shop_host",
    "platform",
    "bound_at",
    "moves_used",
    "last_move",
)
_ADDON_COLUMNS = (
    "addon_code",
    "supplier_id",
    "supplier_name",
    "addon_active",
    "addon_starts_at",
    "addon_expires_at",
    "addon_service_id",
)


@dataclass(frozen=True)
class Found:
    """A key's licence as read: the evaluation state, the licence's row id, its moves in
    the last year (for the allowance shown once a first check binds it) and the suppliers whose
    add-on is billed by a service (only those can be offered a renewal)."""

    state: LicenseState
    licence_id: int
    moves_used: int
    last_move: datetime | None
    renewable: frozenset[int] = frozenset()


#: At most this many keys are kept per process and thread (all are dropped when it is reached).
KEPT_KEYS = 10_000
#: How often the counter's triggers are looked for (a migration could have dropped them).
TRIGGER_CHECK_SECONDS = 5.0
_VERSION_SQL = f"SELECT version FROM {VERSION_TABLE} WHERE id = 1"
_TRIGGERS_SQL = "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name IN ({})"


class StateReader:
    """The compiled state query of one context, its row converters and what it keeps."""

    def __init__(self, ctx: Context) -> None:
        self.engine = ctx.db.read_engine
        self.connections = PinnedConnections(self.engine, dispose_with=(ctx.db.engine,))
        self.query = PinnedQuery(self.connections, STATE_QUERY)
        self.licence: Converter = self.query.converter(_LICENCE_COLUMNS)
        self.addon: Converter = self.query.converter(_ADDON_COLUMNS)
        self.keeps = self.engine.dialect.name == "sqlite"
        self._kept = threading.local()

    def version(self) -> int | None:
        """The licence tables' change counter, or None when it cannot be trusted (not SQLite,
        or a trigger is missing)."""
        if not self.keeps:
            return None
        kept = self._kept
        now = time.monotonic()
        if now >= getattr(kept, "next_check", 0.0):
            names = trigger_names()
            sql = _TRIGGERS_SQL.format(", ".join("?" * len(names)))
            kept.triggers = self.connections.fetch(sql, names)[0][0] == len(names)
            kept.next_check = now + TRIGGER_CHECK_SECONDS
        if not kept.triggers:
            return None
        rows = self.connections.fetch(_VERSION_SQL)
        return int(rows[0][0]) if rows else None

    def kept(self, version: int | None) -> dict[bytes, Found]:
        """This thread's kept keys, valid at ``version`` (emptied when it changed)."""
        kept = self._kept
        if getattr(kept, "version", None) != version or len(kept.found) >= KEPT_KEYS:
            kept.version = version
            kept.found = {}
        found: dict[bytes, Found] = kept.found
        return found


_READERS: dict[int, tuple[Context, StateReader]] = {}


def state_reader(ctx: Context) -> StateReader:
    """The state reader of ``ctx`` (built once per context and read engine)."""
    cached = _READERS.get(id(ctx))
    if cached is None or cached[0] is not ctx or cached[1].engine is not ctx.db.read_engine:
        cached = _READERS[id(ctx)] = (ctx, StateReader(ctx))
    return cached[1]


def find(ctx: Context, cfg: LicenseConfig, digest: bytes, now: datetime) -> Found | None:
    """The licence behind a key's lookup HMAC, or None: kept, or read in one indexed query."""
    reader = state_reader(ctx)
    version = reader.version()
    kept = reader.kept(version) if version is not None else None
    if kept is not None:
        hit = kept.get(digest)
        if hit is not None:
            return hit
    found = read(reader, cfg, digest, now)
    if kept is not None and found is not None and found.moves_used == 0:
        kept[digest] = found
    return found


def read(reader: StateReader, cfg: LicenseConfig, digest: bytes, now: datetime) -> Found | None:
    """Read the licence behind a key's lookup HMAC in one indexed query, or None."""
    rows = reader.query.rows({"digest": digest, "since": now - YEAR})
    if not rows:
        return None
    (
        licence_id,
        key_state,
        hint,
        status,
        expires_at,
        shop_fp,
        shop_host,
        platform,
        bound_at,
        moves_used,
        last_move,
    ) = reader.licence(rows[0])
    used = int(moves_used or 0)
    binding = None
    if shop_fp is not None:
        left, until = allowance_from(cfg, now, used, last_move)
        binding = ShopBinding(
            shop_fp=shop_fp,
            shop_host=shop_host,
            bound_at=bound_at,
            platform=platform,
            rebinds_left=left,
            rebind_cooldown_until=until,
        )
    addons = []
    renewable = set()
    for row in rows:
        code, supplier_id, name, active, starts_at, addon_expires, service_id = reader.addon(row)
        if service_id is not None:
            renewable.add(int(supplier_id))
        if code is not None:
            addons.append(
                AddonState(
                    code=code,
                    active=bool(active),
                    starts_at=starts_at,
                    expires_at=addon_expires,
                    supplier_id=supplier_id,
                    name=name,
                )
            )
    state = LicenseState(
        license_id=public_id(licence_id),
        status=LicenseStatus(status),
        key_state=KeyState(key_state),
        expires_at=expires_at,
        binding=binding,
        key_hint=hint,
        addons=addons,
    )
    return Found(state, int(licence_id), used, last_move, frozenset(renewable))
