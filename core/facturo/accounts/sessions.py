"""Server-side login sessions: one row per login of a customer or a staff user.

The browser holds a random secret (in the signed session cookie); the database holds only its
SHA-256, who it belongs to, when it started and was last seen, from where, and whether it was
revoked. A session ends on logout, on a password or second-factor change, when its owner is
disabled, or when its idle or absolute lifetime (settings) runs out. Looking one up is one
indexed read joined to its owner.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, TypeVar, cast

from sqlalchemy import Executable, Select, bindparam, delete, inspect, select, update
from sqlalchemy.orm import Session, make_transient_to_detached

from facturo.db.base import Base
from facturo.db.reader import RowReader
from facturo.models import AuthSession, Customer, StaffUser

if TYPE_CHECKING:
    from facturo.context import Context

Owner = Customer | StaffUser
M = TypeVar("M", bound=Base)
#: A session that passed the password but still owes a second factor lives this long unused.
PENDING_IDLE = timedelta(minutes=10)
#: ``last_seen_at`` is written at most this often (a write per request would be wasteful).
TOUCH_EVERY = timedelta(seconds=60)
#: Ended sessions are forgotten after this long (they still tell which devices were seen).
KEEP_ENDED = timedelta(days=180)


@dataclass(frozen=True)
class Lifetimes:
    idle: timedelta
    absolute: timedelta


def kind_of(owner: Owner) -> str:
    """``customer`` or ``staff``."""
    return "staff" if isinstance(owner, StaffUser) else "customer"


def lifetimes(ctx: Context, kind: str) -> Lifetimes:
    """The idle and absolute lifetimes of ``kind``'s sessions, from the settings."""
    config = ctx.settings.security.sessions
    if kind == "staff":
        return Lifetimes(
            timedelta(minutes=config.staff_idle_minutes), timedelta(hours=config.staff_max_hours)
        )
    return Lifetimes(
        timedelta(days=config.customer_idle_days), timedelta(days=config.customer_max_days)
    )


def token_hash(token: str) -> str:
    """How a session secret is stored: its SHA-256 in hex."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def device_hash(device: str) -> str:
    """How a browser's device cookie is stored."""
    return hashlib.sha256(("device:" + device).encode("utf-8")).hexdigest() if device else ""


def open_session(
    session: Session,
    ctx: Context,
    owner: Owner,
    verified: bool,
    ip: str = "",
    user_agent: str = "",
    device: str = "",
) -> tuple[AuthSession, str]:
    """Start a session for ``owner``; return the row and the secret for the cookie."""
    token = secrets.token_urlsafe(32)
    kind = kind_of(owner)
    now = ctx.now()
    row = AuthSession(
        token_hash=token_hash(token),
        kind=kind,
        customer_id=owner.id if kind == "customer" else None,
        staff_id=owner.id if kind == "staff" else None,
        verified=verified,
        created_at=now,
        last_seen_at=now,
        ip=ip[:45],
        user_agent=user_agent[:300],
        device_hash=device_hash(device),
        revoked_reason="",
    )
    session.add(row)
    _forget_old(session, ctx, owner)
    session.flush()
    return row, token


def _owner_column(kind: str) -> object:
    return AuthSession.staff_id if kind == "staff" else AuthSession.customer_id


def _forget_old(session: Session, ctx: Context, owner: Owner) -> None:
    kind = kind_of(owner)
    cutoff = ctx.now() - KEEP_ENDED
    session.execute(
        delete(AuthSession).where(
            _owner_column(kind) == owner.id,  # type: ignore[arg-type]
            AuthSession.last_seen_at < cutoff,
        )
    )


def is_live(ctx: Context, row: AuthSession, owner: Owner | None) -> bool:
    """True when ``row`` is neither revoked nor past its lifetimes, and its owner may log in."""
    if row.revoked_at is not None or owner is None or owner.disabled:
        return False
    # Staff signed in as a customer keep staff lifetimes, not the customer's weeks.
    limits = lifetimes(ctx, "staff" if row.impersonator_id is not None else row.kind)
    idle = limits.idle if row.verified else min(limits.idle, PENDING_IDLE)
    now = ctx.now()
    return now - row.last_seen_at <= idle and now - row.created_at <= limits.absolute


def _live_query(kind: str) -> Executable:
    model: type[Customer] | type[StaffUser] = StaffUser if kind == "staff" else Customer
    return (
        select(AuthSession, model)
        .join(model, model.id == _owner_column(kind))
        .where(AuthSession.token_hash == bindparam("token_hash"), AuthSession.kind == kind)
    )


#: The session lookup of each kind, built once (it runs on every request of its section).
_LIVE_QUERIES = {kind: _live_query(kind) for kind in ("customer", "staff")}


def _columns(model: type[Base]) -> list[tuple[str, Any]]:
    """(attribute, column) of every column attribute of ``model``, in mapper order."""
    return [(prop.key, prop.columns[0]) for prop in inspect(model).column_attrs]


_SESSION_COLUMNS = _columns(AuthSession)
_OWNER_COLUMNS = {"customer": _columns(Customer), "staff": _columns(StaffUser)}


def _live_rows_query(kind: str) -> Select[Any]:
    model: type[Customer] | type[StaffUser] = StaffUser if kind == "staff" else Customer
    columns = [column for _, column in (*_SESSION_COLUMNS, *_OWNER_COLUMNS[kind])]
    return (
        select(*columns)
        .select_from(AuthSession.__table__)
        .join(model.__table__, model.__table__.c.id == _owner_column(kind))
        .where(AuthSession.token_hash == bindparam("token_hash"), AuthSession.kind == kind)
    )


#: :func:`find_live_read`'s statement per kind: every column of the session and its owner.
_LIVE_ROWS = {kind: _live_rows_query(kind) for kind in ("customer", "staff")}


def _maker(model: type[Base]) -> tuple[Callable[[], Any], tuple[str, ...]]:
    return inspect(model).class_manager.new_instance, tuple(key for key, _ in _columns(model))


#: Per model: how to make a bare instance, and the attribute names of its columns in the order
#: :data:`_LIVE_ROWS` reads them.
_MAKERS: dict[type[Base], tuple[Callable[[], Any], tuple[str, ...]]] = {
    model: _maker(model) for model in (AuthSession, Customer, StaffUser)
}


def _detached(model: type[M], values: Any) -> M:
    """An instance of ``model`` as a closed session leaves one it loaded with ``values`` (its
    columns in :func:`_columns` order): detached, with its identity, every column loaded and
    nothing pending. Like the ORM's own loading, the values go straight into the instance's
    state (no attribute events)."""
    new_instance, keys = _MAKERS[model]
    instance = cast(M, new_instance())
    instance.__dict__.update(zip(keys, values, strict=True))
    make_transient_to_detached(instance)
    return instance


def find_live_read(
    reader: RowReader, ctx: Context, kind: str, token: str
) -> tuple[AuthSession, Owner] | None:
    """:func:`find_live` through a :class:`~facturo.db.reader.RowReader` (the guard reads on
    the event loop): the same rule, the same detached objects, one indexed read."""
    rows = reader.rows(_LIVE_ROWS[kind], {"token_hash": token_hash(token)})
    if not rows:
        return None
    split = len(_SESSION_COLUMNS)
    row = _detached(AuthSession, rows[0][:split])
    model: type[Customer] | type[StaffUser] = StaffUser if kind == "staff" else Customer
    owner = _detached(model, rows[0][split:])
    return (row, owner) if is_live(ctx, row, owner) else None


def find_live(
    session: Session, ctx: Context, kind: str, token: str
) -> tuple[AuthSession, Owner] | None:
    """The live session of ``kind`` whose secret is ``token``, with its owner; one indexed
    read. None when unknown, revoked, expired, or its owner is disabled."""
    found = session.execute(_LIVE_QUERIES[kind], {"token_hash": token_hash(token)}).first()
    if found is None:
        return None
    row, owner = found[0], found[1]
    assert isinstance(owner, Customer | StaffUser)
    return (row, owner) if is_live(ctx, row, owner) else None


def needs_touch(ctx: Context, row: AuthSession, ip: str) -> bool:
    """True when ``last_seen_at`` (or the address) is stale enough to be written."""
    return ctx.now() - row.last_seen_at >= TOUCH_EVERY or (bool(ip) and ip != row.ip)


def touch(session: Session, ctx: Context, session_id: int, ip: str) -> None:
    """Record activity on a session (sliding idle lifetime) and the address it came from."""
    values: dict[str, object] = {"last_seen_at": ctx.now()}
    if ip:
        values["ip"] = ip[:45]
    session.execute(
        update(AuthSession)
        .where(AuthSession.id == session_id, AuthSession.revoked_at.is_(None))
        .values(**values)
    )


def mark_verified(session: Session, ctx: Context, row: AuthSession) -> str:
    """The second factor passed: make ``row`` a full session under a new secret (returned), so
    a secret seen before the second factor is worth nothing."""
    token = secrets.token_urlsafe(32)
    row.verified = True
    row.token_hash = token_hash(token)
    row.last_seen_at = ctx.now()
    return token


def revoke(session: Session, ctx: Context, row: AuthSession, reason: str) -> None:
    """End one session (idempotent)."""
    if row.revoked_at is None:
        row.revoked_at = ctx.now()
        row.revoked_reason = reason[:30]


def revoke_token(session: Session, ctx: Context, kind: str, token: str, reason: str) -> None:
    """End the session whose secret is ``token``, if any (logout)."""
    session.execute(
        update(AuthSession)
        .where(
            AuthSession.token_hash == token_hash(token),
            AuthSession.kind == kind,
            AuthSession.revoked_at.is_(None),
        )
        .values(revoked_at=ctx.now(), revoked_reason=reason[:30])
    )


def revoke_all(
    session: Session, ctx: Context, owner: Owner, reason: str, keep: int | None = None
) -> int:
    """End every session of ``owner`` except the one with id ``keep``; return how many."""
    query = (
        update(AuthSession)
        .where(
            _owner_column(kind_of(owner)) == owner.id,  # type: ignore[arg-type]
            AuthSession.revoked_at.is_(None),
        )
        .values(revoked_at=ctx.now(), revoked_reason=reason[:30])
    )
    if keep is not None:
        query = query.where(AuthSession.id != keep)
    result = session.execute(query)
    return int(getattr(result, "rowcount", 0) or 0)


def revoke_one(session: Session, ctx: Context, owner: Owner, session_id: int, reason: str) -> bool:
    """End ``owner``'s session ``session_id``; False when it is not theirs or already ended."""
    result = session.execute(
        update(AuthSession)
        .where(
            AuthSession.id == session_id,
            _owner_column(kind_of(owner)) == owner.id,  # type: ignore[arg-type]
            AuthSession.revoked_at.is_(None),
        )
        .values(revoked_at=ctx.now(), revoked_reason=reason[:30])
    )
    return bool(getattr(result, "rowcount", 0))


def active_sessions(session: Session, ctx: Context, owner: Owner) -> list[AuthSession]:
    """``owner``'s live, fully verified sessions, most recently seen first."""
    rows = session.scalars(
        select(AuthSession)
        .where(
            _owner_column(kind_of(owner)) == owner.id,  # type: ignore[arg-type]
            AuthSession.revoked_at.is_(None),
            AuthSession.verified.is_(True),
        )
        .order_by(AuthSession.last_seen_at.desc())
    )
    return [row for row in rows if is_live(ctx, row, owner)]


def seen_device(session: Session, owner: Owner, device: str, before: int) -> bool | None:
    """Whether ``owner`` logged in from ``device`` before session ``before``: True or False,
    or None when they have no earlier session at all (a first login is not news)."""
    column = _owner_column(kind_of(owner))
    earlier = list(
        session.scalars(
            select(AuthSession.device_hash).where(
                column == owner.id,  # type: ignore[arg-type]
                AuthSession.id != before,
                AuthSession.verified.is_(True),
            )
        )
    )
    if not earlier:
        return None
    return bool(device) and device_hash(device) in earlier
