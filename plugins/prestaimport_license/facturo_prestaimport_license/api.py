"""The validation API: ``POST /api/v1/licenses/validate`` and ``GET /api/v1/licenses/keys``.

The hot path stays small: the body is parsed and the key's syntax checked before any database
access; then two indexed reads (Core, on the read engine), one pure evaluation, a signature,
and a validation-log row (buffered when ``log_batch_size`` > 1). Binding an unbound licence is
the only write in the request path.
"""

from __future__ import annotations

import asyncio
import atexit
import json
import logging
import threading
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, bindparam, func, insert, select
from sqlalchemy.exc import IntegrityError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from facturo.plugin import Context, open_page

from .client import KeyFormatError, Shop
from .evaluation import (
    AddonState,
    KeyState,
    LicenseState,
    LicenseStatus,
    ShopBinding,
    ValidationAnswer,
    ValidationRequest,
    evaluate,
)
from .keys import key_hint, lookup_hmac, normalize_key
from .models import (
    Addon,
    Licence,
    LicenceKey,
    ShopBindingRow,
    ShopMove,
    Supplier,
    ValidationLog,
)
from .service import YEAR, allowance_from, public_id
from .settings import LicenseConfig, config

MAX_BODY = 4096
LOG = logging.getLogger(__name__)
_KEYS: Table = LicenceKey.__table__  # type: ignore[assignment]
_LICENCES: Table = Licence.__table__  # type: ignore[assignment]
_BINDINGS: Table = ShopBindingRow.__table__  # type: ignore[assignment]
_ADDONS: Table = Addon.__table__  # type: ignore[assignment]
_SUPPLIERS: Table = Supplier.__table__  # type: ignore[assignment]
_LOG: Table = ValidationLog.__table__  # type: ignore[assignment]
_MOVES: Table = ShopMove.__table__  # type: ignore[assignment]

_MOVES_SINCE: Any = bindparam("since")
_STATE_QUERY = (
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
        .where(
            _MOVES.c.licence_id == _KEYS.c.licence_id,
            _MOVES.c.counted.is_(True),
            _MOVES.c.at > _MOVES_SINCE,
        )
        .scalar_subquery()
        .label("moves_used"),
        select(func.max(_MOVES.c.at))
        .where(
            _MOVES.c.licence_id == _KEYS.c.licence_id,
            _MOVES.c.counted.is_(True),
            _MOVES.c.at > _MOVES_SINCE,
        )
        .scalar_subquery()
        .label("last_move"),
        _SUPPLIERS.c.code.label("addon_code"),
        _SUPPLIERS.c.id.label("supplier_id"),
        _SUPPLIERS.c.name.label("supplier_name"),
        _ADDONS.c.active.label("addon_active"),
        _ADDONS.c.starts_at.label("addon_starts_at"),
        _ADDONS.c.expires_at.label("addon_expires_at"),
    )
    .select_from(_KEYS)
    .join(_LICENCES, _LICENCES.c.id == _KEYS.c.licence_id)
    .outerjoin(_BINDINGS, _BINDINGS.c.licence_id == _KEYS.c.licence_id)
    .outerjoin(_ADDONS, _ADDONS.c.licence_id == _KEYS.c.licence_id)
    .outerjoin(_SUPPLIERS, _SUPPLIERS.c.id == _ADDONS.c.supplier_id)
    .where(_KEYS.c.lookup_hmac == bindparam("digest"))
    .order_by(_SUPPLIERS.c.code)
)


class RequestInvalid(ValueError):
    """A request body that is not a valid validation request; ``field`` names the culprit."""

    def __init__(self, detail: str, field: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field


def errors(status: int, code: str, detail: str, field: str | None = None, **extra: Any) -> Response:
    """The unsigned error envelope ``{"errors": [{"code", "detail", "field"}]}``."""
    item: dict[str, Any] = {"code": code, "detail": detail, "field": field, **extra}
    return JSONResponse({"errors": [item]}, status_code=status)


def _text(body: dict[str, Any], name: str, required: bool = False, limit: int = 256) -> str | None:
    value = body.get(name)
    if value is None:
        if required:
            raise RequestInvalid(f"{name} is required", name)
        return None
    if not isinstance(value, str) or len(value) > limit:
        raise RequestInvalid(f"{name} must be a string of at most {limit} characters", name)
    return value


def parse_request(raw: bytes) -> dict[str, Any]:
    """Parse and type-check a request body; raise RequestInvalid with the field at fault."""
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise RequestInvalid("the body is not valid JSON") from None
    if not isinstance(body, dict):
        raise RequestInvalid("the body must be a JSON object")
    key = _text(body, "key", required=True, limit=200)
    install_id = _text(body, "install_id", limit=128)
    nonce = _text(body, "nonce", limit=128)
    shop_raw = body.get("shop")
    shop: Shop | None = None
    if shop_raw is not None:
        if not isinstance(shop_raw, dict):
            raise RequestInvalid("shop must be an object {platform, url, shop_id?}", "shop")
        fields = {}
        for name in ("platform", "url", "shop_id"):
            value = shop_raw.get(name)
            if value is not None and (not isinstance(value, str) or len(value) > 2048):
                raise RequestInvalid(f"shop.{name} must be a string", f"shop.{name}")
            fields[name] = value
        shop = Shop(fields["platform"] or "", fields["url"] or "", fields["shop_id"])
    wanted = body.get("require_addons", [])
    if wanted is None:
        wanted = []
    if (
        not isinstance(wanted, list)
        or len(wanted) > 50
        or not all(isinstance(item, str) and len(item) <= 64 for item in wanted)
    ):
        raise RequestInvalid("require_addons must be a list of supplier codes", "require_addons")
    return {
        "key": key,
        "shop": shop,
        "install_id": install_id,
        "nonce": nonce,
        "require_addons": wanted,
    }


class FastQuery:
    """A Core SELECT compiled once for an engine and run on a raw DB-API cursor: no
    SQLAlchemy transaction or execution context per request (a single SELECT is atomic)."""

    def __init__(self, engine: Any, statement: Any) -> None:
        dialect = engine.dialect
        compiled = statement.compile(dialect=dialect)
        self.engine = engine
        self.sql = str(compiled)
        self.positional = bool(compiled.positional)
        self.order = list(compiled.positiontup or ())
        self.binds = dict(getattr(compiled, "_bind_processors", {}))
        self.names = [column.key for column in statement.selected_columns]
        self.results = [
            column.type._cached_result_processor(dialect, None)
            for column in statement.selected_columns
        ]

    def rows(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        """Run the query with ``params``; rows as dicts with typed values."""
        values = {
            name: (self.binds[name](value) if name in self.binds else value)
            for name, value in params.items()
        }
        args: Any = [values[name] for name in self.order] if self.positional else values
        raw = self.engine.raw_connection()
        try:
            cursor = raw.cursor()
            cursor.execute(self.sql, args)
            fetched = cursor.fetchall()
            cursor.close()
        finally:
            raw.close()
        out = []
        for row in fetched:
            out.append(
                {
                    name: (process(value) if process is not None else value)
                    for name, process, value in zip(self.names, self.results, row, strict=True)
                }
            )
        return out


class FastInsert:
    """An INSERT of every column but the id, compiled once, run with DB-API ``executemany``
    in one transaction."""

    def __init__(self, engine: Any, table: Table) -> None:
        dialect = engine.dialect
        self.engine = engine
        self.columns = [column.name for column in table.columns if column.name != "id"]
        compiled = (
            insert(table)
            .values({name: bindparam(name) for name in self.columns})
            .compile(dialect=dialect)
        )
        self.sql = str(compiled)
        self.positional = bool(compiled.positional)
        self.order = list(compiled.positiontup or ())
        self.binds = dict(getattr(compiled, "_bind_processors", {}))

    def insert_many(self, rows: list[dict[str, Any]]) -> None:
        """Insert ``rows`` (dicts keyed by column name) and commit."""
        params: list[Any] = []
        for row in rows:
            values = {
                name: (self.binds[name](row[name]) if name in self.binds else row[name])
                for name in self.columns
            }
            params.append([values[name] for name in self.order] if self.positional else values)
        raw = self.engine.raw_connection()
        try:
            cursor = raw.cursor()
            if self.engine.dialect.name == "sqlite":
                cursor.execute("BEGIN IMMEDIATE")
            cursor.executemany(self.sql, params)
            cursor.close()
            raw.commit()
        except BaseException:
            raw.rollback()
            raise
        finally:
            raw.close()


_QUERIES: dict[int, tuple[Any, FastQuery]] = {}


def state_query(ctx: Context) -> FastQuery:
    """The compiled state query for ``ctx``'s read engine."""
    engine = ctx.db.read_engine
    cached = _QUERIES.get(id(ctx))
    if cached is None or cached[0] is not engine:
        cached = _QUERIES[id(ctx)] = (engine, FastQuery(engine, _STATE_QUERY))
    return cached[1]


def load_state(ctx: Context, digest: bytes) -> LicenseState | None:
    """Read the licence behind a key's lookup HMAC in one indexed query, or None."""
    cfg = config(ctx)
    now = ctx.now()
    rows = state_query(ctx).rows({"digest": digest, "since": now - YEAR})
    if not rows:
        return None
    row = rows[0]
    binding = None
    if row["shop_fp"] is not None:
        left, until = allowance_from(cfg, now, int(row["moves_used"] or 0), row["last_move"])
        binding = ShopBinding(
            shop_fp=row["shop_fp"],
            shop_host=row["shop_host"],
            bound_at=row["bound_at"],
            platform=row["platform"],
            rebinds_left=left,
            rebind_cooldown_until=until,
        )
    return LicenseState(
        license_id=public_id(row["licence_id"]),
        status=LicenseStatus(row["status"]),
        key_state=KeyState(row["state"]),
        expires_at=row["expires_at"],
        binding=binding,
        key_hint=row["hint"],
        addons=[
            AddonState(
                code=r["addon_code"],
                active=bool(r["addon_active"]),
                starts_at=r["addon_starts_at"],
                expires_at=r["addon_expires_at"],
                supplier_id=r["supplier_id"],
                name=r["supplier_name"],
            )
            for r in rows
            if r["addon_code"] is not None
        ],
    )


def move_allowance_fast(ctx: Context, connection: Any, licence_id: int) -> tuple[int, Any]:
    """Moves left and cooldown end, read with Core on ``connection``."""
    cfg = config(ctx)
    now = ctx.now()
    used, last = connection.execute(
        select(func.count(_MOVES.c.id), func.max(_MOVES.c.at)).where(
            _MOVES.c.licence_id == licence_id,
            _MOVES.c.counted.is_(True),
            _MOVES.c.at > now - YEAR,
        )
    ).one()
    return allowance_from(cfg, now, int(used or 0), last)


class LogBuffer:
    """Validation-log rows written in batches of ``size`` (1 = immediately)."""

    def __init__(self, ctx: Context, size: int) -> None:
        self.ctx = ctx
        self.size = size
        self.rows: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.timer: asyncio.TimerHandle | None = None
        self._writer: FastInsert | None = None

    def add(self, row: dict[str, Any]) -> bool:
        """Queue ``row``; True when the buffer is full and should be flushed now."""
        with self.lock:
            self.rows.append(row)
            return len(self.rows) >= self.size

    def flush(self) -> int:
        """Write every queued row in one transaction; return how many. On a database error
        the rows are logged as lost (the answers were already sent) and 0 is returned."""
        with self.lock:
            rows, self.rows = self.rows, []
        if not rows:
            return 0
        try:
            self.writer().insert_many(rows)
        except Exception:
            LOG.exception("could not write %d validation log rows", len(rows))
            return 0
        return len(rows)

    def writer(self) -> FastInsert:
        """The compiled log insert for this context's engine."""
        if self._writer is None:
            self._writer = FastInsert(self.ctx.db.engine, _LOG)
        return self._writer

    def schedule(self) -> None:
        """Flush leftovers half a second from now (on the running event loop)."""
        if self.timer is not None:
            return
        loop = asyncio.get_running_loop()

        def fire() -> None:
            self.timer = None
            loop.run_in_executor(None, self.flush)

        self.timer = loop.call_later(0.5, fire)


_BUFFERS: dict[int, LogBuffer] = {}


def log_buffer(ctx: Context, cfg: LicenseConfig) -> LogBuffer:
    """The log buffer of ``ctx`` (one per context and process)."""
    buffer = _BUFFERS.get(id(ctx))
    if buffer is None or buffer.ctx is not ctx:
        buffer = _BUFFERS[id(ctx)] = LogBuffer(ctx, cfg.log_batch_size)
        if cfg.log_batch_size > 1:
            atexit.register(buffer.flush)  # rows still queued when the worker stops
    return buffer


def bind(ctx: Context, licence_id: int, answer: ValidationAnswer) -> bool:
    """Store the first-check binding; False when a concurrent first check bound it first."""
    shop = answer.shop
    assert shop is not None
    try:
        with ctx.db.engine.begin() as connection:
            connection.execute(
                insert(_BINDINGS).values(
                    licence_id=licence_id,
                    platform=shop.platform,
                    shop_id=shop.shop_id,
                    shop_host=shop.host,
                    shop_fp=shop.fp,
                    bound_at=answer.issued_at,
                    bound_via="AUTO_FIRST_CHECK",
                )
            )
    except IntegrityError:
        return False
    return True


def client_ip(request: Request) -> str:
    """The caller's address (the proxy in front must set it on the connection)."""
    return request.client.host if request.client is not None else "unknown"


@open_page
async def validate(request: Request) -> Response:
    """Validate a licence key for a shop; 200 with a signed envelope for every evaluated
    answer, 400 for a malformed request or key (before any database access), 429 when rate
    limited."""
    ctx: Context = request.app.state.ctx
    cfg = config(ctx)
    ip = client_ip(request)
    limiter = request.app.state.limiter
    if cfg.rate_limit_ip:
        verdict = limiter.hit(cfg.rate_limit_ip, "licence-ip", ip)
        if not verdict.allowed:
            return _too_many(verdict.retry_after)
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY):
        return errors(400, "REQUEST_INVALID", f"the body is larger than {MAX_BODY} bytes")
    raw = b""
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_BODY:
            return errors(400, "REQUEST_INVALID", f"the body is larger than {MAX_BODY} bytes")
    try:
        body = parse_request(raw)
    except RequestInvalid as exc:
        return errors(400, "REQUEST_INVALID", exc.detail, exc.field)
    try:
        key = normalize_key(body["key"], cfg.prefix)
    except KeyFormatError as exc:
        return errors(400, "KEY_FORMAT_INVALID", str(exc), "key")
    digest = lookup_hmac(key, cfg.pepper)
    if cfg.rate_limit_key:
        verdict = limiter.hit(cfg.rate_limit_key, "licence-key", digest[:12].hex())
        if not verdict.allowed:
            return _too_many(verdict.retry_after)
    state = load_state(ctx, digest)
    now = ctx.now()
    answer = evaluate(
        state,
        request_for(key, body),
        now=now,
        grace=cfg.grace,
        lease_ttl=cfg.lease_ttl,
        refresh_after=cfg.refresh_after,
    )
    licence_id = int(state.license_id.removeprefix("lic_")) if state is not None else None
    if answer.binds and licence_id is not None:
        if await run_in_threadpool(bind, ctx, licence_id, answer):
            answer = _with_allowance(ctx, licence_id, answer)
        else:  # another shop's first check won the race: answer against its binding
            answer = evaluate(
                load_state(ctx, digest),
                request_for(key, body),
                now=now,
                grace=cfg.grace,
                lease_ttl=cfg.lease_ttl,
                refresh_after=cfg.refresh_after,
            )
    envelope = cfg.keyring.sign(answer.to_payload(cfg.issuer))
    _log(
        ctx,
        cfg,
        {
            "at": now,
            "licence_id": licence_id,
            "key_hint": key_hint(key),
            "shop_host": (answer.shop.host if answer.shop else "")[:253],
            "install_id": (body["install_id"] or "")[:128],
            "code": str(answer.code),
            "ip": ip[:64],
        },
    )
    return Response(
        json.dumps(envelope, separators=(",", ":")),
        media_type="application/json",
        headers={"Cache-Control": "no-store"},
    )


def request_for(key: str, body: dict[str, Any]) -> ValidationRequest:
    """The evaluation request for a parsed body and its normalised key."""
    return ValidationRequest(
        key=key,
        shop=body["shop"],
        install_id=body["install_id"],
        nonce=body["nonce"],
        require_addons=body["require_addons"],
    )


def _with_allowance(ctx: Context, licence_id: int, answer: ValidationAnswer) -> ValidationAnswer:
    from dataclasses import replace

    if answer.binding is None:
        return answer
    with ctx.db.read_engine.connect() as connection:
        left, until = move_allowance_fast(ctx, connection, licence_id)
    return replace(
        answer, binding=replace(answer.binding, rebinds_left=left, rebind_cooldown_until=until)
    )


def _log(ctx: Context, cfg: LicenseConfig, row: dict[str, Any]) -> None:
    buffer = log_buffer(ctx, cfg)
    if buffer.add(row):
        if cfg.log_batch_size == 1:
            buffer.flush()  # written before the answer leaves
        else:
            asyncio.get_running_loop().run_in_executor(None, buffer.flush)
    else:
        buffer.schedule()


def _too_many(retry_after: int) -> Response:
    response = errors(
        429,
        "TOO_MANY_REQUESTS",
        "too many validation requests; retry later",
        retry_after=retry_after,
    )
    response.headers["Retry-After"] = str(retry_after)
    return response


@open_page
async def public_keys(request: Request) -> Response:
    """The Ed25519 public keys (JWKS) leases are signed with."""
    cfg = config(request.app.state.ctx)
    return JSONResponse(cfg.keyring.jwks(), headers={"Cache-Control": "public, max-age=300"})


def api_routes() -> Sequence[BaseRoute]:
    """Routes mounted under /api."""
    return [
        Route("/v1/licenses/validate", validate, methods=["POST"]),
        Route("/v1/licenses/keys", public_keys, methods=["GET"]),
    ]
