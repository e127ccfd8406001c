"""Operations endpoints: ``/healthz`` (alive), ``/readyz`` (ready to serve), ``/metrics``
(Prometheus), and the request durations by route template (observed by
:class:`facturo.web.answers.AnswerMiddleware`)."""

from __future__ import annotations

import hmac
import ipaddress
import os

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import Scope

from facturo.context import Context
from facturo.operations.health import ReadinessProbe
from facturo.operations.metrics import REQUEST_SECONDS, exposition, metrics_registry

PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


async def healthz(request: Request) -> Response:
    """The process is alive (no database access: a blip must not get it restarted).
    ``X-Process-Id`` tells which web process answered (several run side by side)."""
    return PlainTextResponse("ok", headers={"X-Process-Id": str(os.getpid())})


async def readyz(request: Request) -> Response:
    """200 when the database answers, migrations are current and the worker's heartbeat is
    fresh; 503 otherwise. The JSON body names every check and says which failed."""
    probe: ReadinessProbe = request.app.state.readiness
    readiness = await run_in_threadpool(probe.check)
    return JSONResponse(readiness.as_json(), status_code=200 if readiness.ready else 503)


def _allowed(request: Request, ctx: Context) -> bool:
    """A local address (not relayed by a proxy), or the configured bearer token."""
    token = ctx.settings.operations.metrics_token
    if token:
        given = request.headers.get("authorization", "")
        if hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            return True
    if request.headers.get("x-forwarded-for") or request.client is None:
        return False
    try:
        return ipaddress.ip_address(request.client.host).is_loopback
    except ValueError:
        return False


async def metrics(request: Request) -> Response:
    """The Prometheus exposition; 404 for anyone not allowed (it is not advertised)."""
    ctx: Context = request.app.state.ctx
    if not _allowed(request, ctx):
        return PlainTextResponse("Not Found", status_code=404)
    body = await run_in_threadpool(exposition, metrics_registry(ctx))
    return Response(body, media_type=PROMETHEUS_CONTENT_TYPE)


def routes() -> list[Route]:
    return [
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        Route("/metrics", metrics),
    ]


def observe_request(scope: Scope, status: int, seconds: float) -> None:
    """Count an HTTP request's duration under its route template (``/client/documents/
    {id:int}``, never the concrete path, so the number of series stays bounded)."""
    REQUEST_SECONDS.labels(
        scope.get("method", ""), route_template(scope), f"{status // 100}xx"
    ).observe(seconds)


def route_template(scope: Scope) -> str:
    """The matched route's path with its mounts' prefixes, or ``unmatched``."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    if path is None:
        return "unmatched"
    prefix = scope.get("root_path", "")[len(scope.get("app_root_path", "")) :]
    return f"{prefix}{path}" or "/"
