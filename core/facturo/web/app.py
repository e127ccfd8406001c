"""The Starlette application factory."""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from facturo.context import Context
from facturo.delivery.worker import run_forever
from facturo.errors import FacturoError
from facturo.i18n import LANGUAGES
from facturo.operations.health import ReadinessProbe
from facturo.plugin_resources import STATIC_PREFIX, static_dirs
from facturo.plugins import PluginError, contributions_by_plugin
from facturo.web import admin, api, client, operations, public
from facturo.web.answers import AnswerMiddleware
from facturo.web.errors import facturo_error, http_exception, server_error
from facturo.web.proxies import TrustedProxyMiddleware
from facturo.web.ratelimit import RateLimiter
from facturo.web.routing import IndexedRouter, indexed_mount
from facturo.web.sections import UnguardedRoute, guard_routes
from facturo.web.security import security_headers
from facturo.web.session_cookie import SessionCookieMiddleware

LOG = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
SESSION_COOKIE = "facturo_session"


def cookie_max_age(ctx: Context) -> int:
    """How long the browser keeps the cookie: the longest a session can stay idle (the
    server ends sessions on its own terms; the cookie only has to outlive them)."""
    config = ctx.settings.security.sessions
    return max(config.customer_idle_days * 86400, config.staff_max_hours * 3600)


def section_routes(ctx: Context, section: str) -> list[BaseRoute]:
    """The core's routes of ``section`` plus every plugin's, all guarded. A plugin route the
    guard cannot wrap stops start-up with a PluginError naming the plugin."""
    https = ctx.settings.base_url.startswith("https://")
    core = {
        "client": client.routes,
        "admin": admin.routes,
        "api": api.routes,
        "public": public.routes,
    }[section]()
    routes: list[BaseRoute] = guard_routes(section, list(core), https)
    for plugin, contributed in contributions_by_plugin(
        ctx.plugins, "web_routes", ctx=ctx, section=section
    ):
        try:
            routes.extend(guard_routes(section, list(contributed or []), https))
        except UnguardedRoute as exc:
            raise PluginError(f"plugin {plugin!r}: {exc}") from None
    return routes


def plugin_static_mounts(ctx: Context) -> list[BaseRoute]:
    """Each plugin's ``static/`` folder, served at ``/static/plugins/<name>/`` (found by
    convention, no hook)."""
    return [
        Mount(f"{STATIC_PREFIX}/{name}", app=StaticFiles(directory=str(folder)))
        for name, folder in static_dirs(ctx.plugins)
    ]


async def home(request: Request) -> Response:
    """The site's front page is the public price list (the client area links from there)."""
    return RedirectResponse("/client/pricing", status_code=302)


async def switch_language(request: Request) -> Response:
    """``/lang/es`` or ``/lang/en``: remember the choice and go back."""
    code = request.path_params["code"]
    if code in LANGUAGES:
        request.session["lang"] = code
    target = request.query_params.get("next", "/")
    if not target.startswith("/") or target.startswith("//"):
        target = "/"
    return RedirectResponse(target, status_code=303)


def create_app(
    ctx: Context, embedded_worker: bool = False, worker_interval: float = 5.0
) -> Starlette:
    """Build the web app for ``ctx``; optionally run the worker in a background thread."""
    routes: list[BaseRoute] = [
        Route("/", home),
        *operations.routes(),
        Route("/lang/{code}", switch_language),
        *plugin_static_mounts(ctx),
        Mount("/static", app=StaticFiles(directory=str(STATIC_DIR)), name="static"),
        indexed_mount("/client", section_routes(ctx, "client")),
        indexed_mount("/admin", section_routes(ctx, "admin")),
        indexed_mount("/api", section_routes(ctx, "api")),
        indexed_mount("/public", section_routes(ctx, "public")),
    ]
    trusted = ctx.settings.security.trusted_proxies
    middleware = [
        Middleware(AnswerMiddleware, headers=security_headers(ctx)),
        # Without trusted proxies the middleware would pass every request on unchanged.
        *([Middleware(TrustedProxyMiddleware, trusted=trusted)] if trusted else []),
        Middleware(
            SessionCookieMiddleware,
            secret_key=ctx.settings.secret_key,
            session_cookie=SESSION_COOKIE,
            max_age=cookie_max_age(ctx),
            same_site="lax",
            https_only=ctx.settings.base_url.startswith("https://"),
        ),
    ]

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        stop = threading.Event()
        thread = None
        if embedded_worker:
            thread = threading.Thread(
                target=run_forever,
                args=(ctx, worker_interval, stop),
                daemon=True,
                name="facturo-worker",
            )
            thread.start()
        yield
        try:
            ctx.hook.web_process_stopping(ctx=ctx)
        except Exception:  # one plugin's failure must not keep the process from stopping
            LOG.exception("a plugin failed while the web process was stopping")
        stop.set()
        if thread is not None:
            thread.join(timeout=10)

    app = Starlette(
        routes=routes,
        middleware=middleware,
        exception_handlers={
            404: http_exception,
            405: http_exception,
            500: server_error,
            400: http_exception,
            403: http_exception,
            FacturoError: facturo_error,
        },
        lifespan=lifespan,
    )
    # Starlette builds a plain Router from ``routes``; ours tries only the routes a path could
    # match (same answers, see facturo.web.routing). The middleware stack is built on the first
    # request, from this router.
    app.router = IndexedRouter(routes, lifespan=lifespan)
    app.state.ctx = ctx
    app.state.limiter = RateLimiter(
        ctx.settings.rate_limit_storage, ctx.settings.rate_limit_key_prefix
    )
    app.state.readiness = ReadinessProbe(ctx)
    return app
