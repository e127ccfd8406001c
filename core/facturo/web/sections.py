"""The four web sections and the one place that decides who may reach them.

* ``client``: a logged-in customer (``request.state.customer``); pages marked ``open_page``
  (login, registration…) are reachable without one.
* ``admin``: a logged-in staff user who passed two-factor when enabled (``request.state.staff``);
  a route may require roles with ``roles_required``.
* ``api``: a bearer token (``request.state.api_token``) unless the endpoint is ``open_page``
  with its own scheme (licence validation).
* ``public``: no authentication (gateway callbacks, sandboxes).

State-changing requests in ``client`` and ``admin`` must carry the session's CSRF token (form
field ``csrf_token`` or header ``X-CSRF-Token``). Multipart requests in every section must
declare a Content-Length (else 411) of at most the endpoint's ``facturo_max_body`` (default
``DEFAULT_MAX_BODY``; else 413), checked before the form is read.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route, Router

from facturo.accounts.api_tokens import token_hash
from facturo.models import ApiToken, Customer, StaffUser
from facturo.web import login_sessions
from facturo.web.errors import error_page
from facturo.web.security import CSRF_FIELD, CSRF_HEADER, csrf_valid

UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
Endpoint = Callable[[Request], Any]
#: The largest multipart body an endpoint accepts unless it sets ``facturo_max_body``.
DEFAULT_MAX_BODY = 30 * 1024 * 1024


def open_page(endpoint: Endpoint) -> Endpoint:
    """Mark an endpoint as reachable without a logged-in user."""
    endpoint.facturo_open = True  # type: ignore[attr-defined]
    return endpoint


def roles_required(*roles: str) -> Callable[[Endpoint], Endpoint]:
    """Restrict an admin endpoint to staff with one of ``roles`` (admin always passes)."""

    def decorate(endpoint: Endpoint) -> Endpoint:
        endpoint.facturo_roles = roles  # type: ignore[attr-defined]
        return endpoint

    return decorate


def api_write(endpoint: Endpoint) -> Endpoint:
    """Mark an API endpoint as needing a read-write token."""
    endpoint.facturo_write = True  # type: ignore[attr-defined]
    return endpoint


async def load_customer(request: Request) -> Customer | None:
    """The logged-in customer (a live, fully verified session), or None."""
    login = await login_sessions.current_on_loop(request, "customer")
    if login is None:
        return None
    request.state.login = login
    assert isinstance(login.owner, Customer)
    return login.owner


async def load_staff(request: Request) -> StaffUser | None:
    """The logged-in staff user who passed two-factor when required, or None."""
    login = await login_sessions.current_on_loop(request, "staff")
    if login is None:
        return None
    request.state.login = login
    assert isinstance(login.owner, StaffUser)
    return login.owner


#: What each staff role may do through the API; a token acts with the lesser of its scope and
#: its owner's role, read on every request.
ROLE_API_POWER = {"admin": "read-write", "billing": "read-write", "support": "read"}


def load_api_token(request: Request) -> ApiToken | None:
    """The bearer token of the request when it exists and is not revoked (its owner is put in
    ``request.state.api_staff``); None otherwise."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    ctx = request.app.state.ctx
    with ctx.db.transaction() as session:
        found = session.execute(
            select(ApiToken, StaffUser)
            .join(StaffUser, StaffUser.id == ApiToken.staff_id)
            .where(ApiToken.token_hash == token_hash(token.strip()))
        ).first()
        if found is None or found[0].revoked_at is not None:
            return None
        row, staff = found
        row.last_used_at = ctx.now()
        request.state.api_staff = staff
        return row  # type: ignore[no-any-return]


def api_refusal(
    token: ApiToken, staff: StaffUser, needs_write: bool, roles: Sequence[str]
) -> JSONResponse | None:
    """403 when the token's owner is disabled, or the endpoint needs more than the token's
    scope intersected with the owner's current role; None when allowed."""
    if staff.disabled:
        return api_error(403, "forbidden", "the owner of this token is disabled")
    if roles and staff.role not in (*roles, "admin"):
        return api_error(403, "forbidden", "the token owner's role does not allow this")
    if needs_write:
        if token.scope != "read-write":
            return api_error(403, "forbidden", "this token is read-only")
        if ROLE_API_POWER.get(staff.role) != "read-write":
            return api_error(403, "forbidden", "the token owner's role is read-only")
    return None


def api_error(status: int, code: str, detail: str, field: str | None = None) -> JSONResponse:
    """The API's error shape: ``{"errors": [{"code", "detail", "field"}]}``."""
    return JSONResponse(
        {"errors": [{"code": code, "detail": detail, "field": field}]}, status_code=status
    )


def multipart_refusal(request: Request, limit: int, content_type: str) -> Response | None:
    """411 for a multipart request (``content_type``: its Content-Type header) without a
    Content-Length, 413 when it declares more than ``limit`` bytes (or an unreadable length);
    None when the body may be read."""
    if request.method not in UNSAFE_METHODS or not content_type.lower().startswith("multipart/"):
        return None

    declared = request.headers.get("content-length")
    if declared is None:
        return error_page(request, 411, "Uploads must declare their length.")
    try:
        too_large = int(declared) > limit
    except ValueError:
        too_large = True
    if too_large:
        return error_page(request, 413, "The upload is too large.")
    return None


def guard(section: str, endpoint: Endpoint, https: bool = False) -> Callable[[Request], Any]:
    """Wrap ``endpoint`` with the access rule of ``section``, the CSRF check, the id range
    check, and ``Cache-Control: no-store`` outside the public section."""
    is_open = getattr(endpoint, "facturo_open", False)
    roles: Sequence[str] = getattr(endpoint, "facturo_roles", ())
    needs_write = getattr(endpoint, "facturo_write", False)
    is_async = inspect.iscoroutinefunction(endpoint)
    body_limit: int = getattr(endpoint, "facturo_max_body", DEFAULT_MAX_BODY)
    parses_forms = section in ("client", "admin")

    # The endpoint itself when it is a coroutine function (no frame of our own per request).
    call: Callable[[Request], Awaitable[Response]] = (
        endpoint if is_async else functools.partial(run_in_threadpool, endpoint)  # type: ignore[call-arg]
    )

    async def guarded(request: Request) -> Response:
        try:
            response = await checked(request)
        finally:  # uploaded files of a parsed form are spooled to disk: close them
            await request.close()
        if section != "public":
            response.headers["cache-control"] = "no-store"
        if section in ("client", "admin"):  # only sign-ins there make a device cookie
            login_sessions.set_device_cookie(request, response, https)
        return response

    async def checked(request: Request) -> Response:
        if ids_out_of_range(request.path_params):
            return not_found(request, section)
        content_type = request.headers.get("content-type", "")
        refusal = multipart_refusal(request, body_limit, content_type)
        if refusal is not None:
            return refusal
        if await carries_nul(request, parse_form=parses_forms, content_type=content_type):
            return nul_refusal(request, section)
        if section == "public":
            return await call(request)
        if section == "api":
            if is_open:
                return await call(request)
            token = await run_in_threadpool(load_api_token, request)
            if token is None:
                return api_error(401, "unauthorized", "a valid bearer token is required")
            refusal = api_refusal(token, request.state.api_staff, needs_write, roles)
            if refusal is not None:
                return refusal
            request.state.api_token = token
            return await call(request)
        if section == "client":
            request.state.customer = await load_customer(request)
            user = request.state.customer
            login = "/client/login"
        else:
            request.state.staff = await load_staff(request)
            user = request.state.staff
            login = "/admin/login"
        if request.method in UNSAFE_METHODS:
            submitted = request.headers.get(CSRF_HEADER)
            if submitted is None and request.headers.get("content-type", "").startswith(
                ("application/x-www-form-urlencoded", "multipart/form-data")
            ):
                form = await request.form()
                value = form.get(CSRF_FIELD)
                submitted = value if isinstance(value, str) else None
            if not csrf_valid(request.session, submitted):
                return error_page(
                    request, 403, "The form has expired. Go back, reload the page and try again."
                )
        if user is None and not is_open:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"{login}?next={target}", status_code=303)
        if roles and user is not None and getattr(user, "role", None) not in (*roles, "admin"):
            return error_page(request, 403, "Your role does not allow this.")
        if section == "client" and user is not None and guards_credentials(request):
            return error_page(
                request,
                403,
                "Staff signed in as a customer cannot change the customer's password, email "
                "address or second factors.",
            )
        return await call(request)

    return guarded


#: Client pages that change how the customer signs in: closed to staff signed in as them.
CREDENTIAL_PATHS = ("/client/security", "/client/account/password")


def guards_credentials(request: Request) -> bool:
    """True when this request would change sign-in credentials inside a session that staff
    opened as the customer (see ``facturo.accounts.impersonation``)."""
    login = getattr(request.state, "login", None)
    return (
        request.method in UNSAFE_METHODS
        and isinstance(login, login_sessions.Login)
        and login.row.impersonator_id is not None
        and request.url.path.startswith(CREDENTIAL_PATHS)
    )


FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


async def carries_nul(request: Request, parse_form: bool, content_type: str) -> bool:
    """True when the query string or a text field of the body holds a NUL character.

    No text column accepts NUL (PostgreSQL refuses it outright), so such input is refused at
    the door instead of failing deep inside a query. File parts of uploads are not looked at.
    Raw bodies (JSON, gateway callbacks) are read once and cached for the handler.
    ``content_type`` is the request's Content-Type header.
    """
    query: bytes = request.scope.get("query_string", b"")
    if b"%00" in query or b"\x00" in query:
        return True
    if request.method not in UNSAFE_METHODS:
        return False
    if content_type.startswith("multipart/form-data"):
        if not parse_form:
            return False
        form = await request.form()
        return any(isinstance(value, str) and "\x00" in value for _, value in form.multi_items())
    if content_type.startswith(FORM_TYPES) and parse_form:
        form = await request.form()
        return any(isinstance(value, str) and "\x00" in value for _, value in form.multi_items())
    body = await request.body()
    # a raw NUL, JSON's escape of one, a URL-encoded one
    return b"\x00" in body or b"\\u0000" in body or b"%00" in body


def nul_refusal(request: Request, section: str) -> Response:
    """400 for input holding a NUL character: JSON under the API, a page elsewhere."""
    detail = "The input contains a NUL character, which is not allowed."
    if section in ("api", "public"):
        return api_error(400, "invalid_input", detail)

    return error_page(request, 400, detail)


#: The largest row id a URL may name: primary keys are 32-bit integers on PostgreSQL.
MAX_ROW_ID = 2**31 - 1


def ids_out_of_range(params: dict[str, Any]) -> bool:
    """True when a path parameter is a number no row id can be (past MAX_ROW_ID)."""
    for value in params.values():
        if isinstance(value, int) and not isinstance(value, bool) and not 0 <= value <= MAX_ROW_ID:
            return True
        if isinstance(value, str) and value.isdigit() and int(value) > MAX_ROW_ID:
            return True
    return False


def not_found(request: Request, section: str) -> Response:
    """404: JSON under the API and public sections, a page elsewhere."""
    if section in ("api", "public"):
        return api_error(404, "not_found", "no such resource")
    return error_page(request, 404)


class UnguardedRoute(ValueError):
    """A route the section guard cannot wrap (not a Route, nor a Mount of routes)."""


def guard_routes(section: str, routes: Sequence[BaseRoute], https: bool = False) -> list[BaseRoute]:
    """Return ``routes`` with every endpoint wrapped by ``guard(section, …)``, recursing into
    Mounts of routes. Anything else (a Mount of a bare ASGI app, a Host, a WebSocket route)
    could be reached without the guard: UnguardedRoute names it."""
    wrapped: list[BaseRoute] = []
    for route in routes:
        if isinstance(route, Route):
            wrapped.append(
                Route(
                    route.path,
                    guard(section, route.endpoint, https),
                    methods=list(route.methods or []) or None,
                    name=route.name,
                )
            )
        elif isinstance(route, Mount) and route.routes and _is_router_of(route):
            wrapped.append(
                Mount(
                    route.path,
                    routes=guard_routes(section, route.routes, https),
                    name=route.name,
                )
            )
        else:
            path = getattr(route, "path", "") or getattr(route, "host", "")
            raise UnguardedRoute(
                f"{type(route).__name__} {path!r} in section {section!r} cannot be guarded: "
                "contribute Route objects, or a Mount(path, routes=[...]) of them"
            )
    return wrapped


def _is_router_of(mount: Mount) -> bool:
    """True when the Mount is a plain list of routes (no middleware or app of its own)."""
    return isinstance(mount.app, Router) and type(mount.app) is Router
