"""The validation API: ``POST /api/v1/licenses/validate`` and ``GET /api/v1/licenses/keys``.

The hot path stays on the event loop and small: the body is parsed and the key's syntax checked
before any database access; then one indexed read (:mod:`.lookup`, a raw cursor on a connection
kept per thread), one pure evaluation, a signature, and a validation-log row queued for a
batched write (:mod:`.validation_log`). Binding an unbound licence is the only write in the
request path. benchmarks/README.md says what each of these choices bought.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import orjson
from sqlalchemy import Table, insert
from sqlalchemy.exc import IntegrityError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from facturo.plugin import Context, open_page

from .client import KeyFormatError, Shop
from .evaluation import ValidationAnswer, ValidationRequest, evaluate
from .frozen import frozen_instance
from .keys import key_hint, lookup_hmac, normalize_key
from .lookup import find
from .models import ShopBindingRow
from .offers import renewal_offers, wants_offers
from .service import allowance_from
from .settings import LicenseConfig, config
from .signing import canonical_json_without_floats, json_bytes
from .validation_log import log_buffer

MAX_BODY = 4096
_BINDINGS: Table = ShopBindingRow.__table__  # type: ignore[assignment]


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
        body = orjson.loads(raw)  # strict: no NaN, no lone surrogates (they cannot be signed)
    except orjson.JSONDecodeError:
        raise RequestInvalid("the body is not valid JSON") from None
    if not isinstance(body, dict):
        raise RequestInvalid("the body must be a JSON object")
    key = _text(body, "key", required=True, limit=200)
    install_id = _text(body, "install_id", limit=128)
    nonce = _text(body, "nonce", limit=128)
    app_version = _text(body, "app_version", limit=32)
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
        "app_version": app_version or "",
    }


@dataclass(frozen=True)
class KeyFacts:
    """What the validation derives from a key as typed: its normalised form, lookup HMAC and
    log hint."""

    key: str
    digest: bytes
    hint: str


_FACTS: dict[tuple[str, str, str], KeyFacts] = {}
FACTS_LIMIT = 10_000


def key_facts(raw: str, cfg: LicenseConfig) -> KeyFacts:
    """The facts of a well-formed key (KeyFormatError otherwise), remembered per spelling: the
    same desktop tools send the same keys again and again."""
    remembered = (raw, cfg.prefix, cfg.pepper)
    facts = _FACTS.get(remembered)
    if facts is None:
        key = normalize_key(raw, cfg.prefix)
        facts = KeyFacts(key, lookup_hmac(key, cfg.pepper), key_hint(key))
        if len(_FACTS) >= FACTS_LIMIT:
            _FACTS.clear()
        _FACTS[remembered] = facts
    return facts


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
    client = request.scope.get("client")
    return str(client[0]) if client else "unknown"


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
    raw = await request.body()  # already read (and kept) by the section guard's NUL check
    if len(raw) > MAX_BODY:
        return errors(400, "REQUEST_INVALID", f"the body is larger than {MAX_BODY} bytes")
    try:
        body = parse_request(raw)
    except RequestInvalid as exc:
        return errors(400, "REQUEST_INVALID", exc.detail, exc.field)
    try:
        facts = key_facts(body["key"], cfg)
    except KeyFormatError as exc:
        return errors(400, "KEY_FORMAT_INVALID", str(exc), "key")
    key, digest = facts.key, facts.digest
    if cfg.rate_limit_key:
        verdict = limiter.hit(cfg.rate_limit_key, "licence-key", digest[:12].hex())
        if not verdict.allowed:
            return _too_many(verdict.retry_after)
    now = ctx.now()
    found = find(ctx, cfg, digest, now)
    validation = request_for(key, body)
    answer = evaluate(
        found.state if found is not None else None,
        validation,
        now=now,
        grace=cfg.grace,
        lease_ttl=cfg.lease_ttl,
        refresh_after=cfg.refresh_after,
    )
    if answer.binds and found is not None:
        if await run_in_threadpool(bind, ctx, found.licence_id, answer):
            # The moves were read with the state; binding does not count as one.
            left, until = allowance_from(cfg, now, found.moves_used, found.last_move)
            if answer.binding is not None:
                answer = replace(
                    answer,
                    binding=replace(answer.binding, rebinds_left=left, rebind_cooldown_until=until),
                )
        else:  # another shop's first check won the race: answer against its binding
            again = find(ctx, cfg, digest, now)
            answer = evaluate(
                again.state if again is not None else None,
                validation,
                now=now,
                grace=cfg.grace,
                lease_ttl=cfg.lease_ttl,
                refresh_after=cfg.refresh_after,
            )
    payload = answer.to_payload(cfg.issuer)
    if found is not None and wants_offers(answer, now, cfg.renewal_offer, found.renewable):
        offers = await run_in_threadpool(renewal_offers, ctx, cfg, found.licence_id, answer, now)
        if offers:
            payload["offers"] = offers
    envelope = cfg.keyring.sign_bytes(canonical_json_without_floats(payload))
    await log_buffer(ctx, cfg.log_batch_size).record(
        {
            "at": now,
            "licence_id": found.licence_id if found is not None else None,
            "key_hint": facts.hint,
            "shop_host": (answer.shop.host if answer.shop else "")[:253],
            "install_id": (body["install_id"] or "")[:128],
            "code": str(answer.code),
            "ip": ip[:64],
            "app_version": body["app_version"],
        }
    )
    # The section guard adds Cache-Control: no-store to every API answer.
    return Response(json_bytes(envelope), media_type="application/json")


def request_for(key: str, body: dict[str, Any]) -> ValidationRequest:
    """The evaluation request for a parsed body and its normalised key."""
    return frozen_instance(
        ValidationRequest,
        {
            "key": key,
            "shop": body["shop"],
            "install_id": body["install_id"],
            "nonce": body["nonce"],
            "require_addons": body["require_addons"],
        },
    )


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
