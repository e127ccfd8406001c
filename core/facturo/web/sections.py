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

import inspect
from collections.abc import Callable, Sequence
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from facturo.accounts.api_tokens import token_hash
from facturo.models import ApiToken, Customer, StaffUser
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


def load_customer(request: Request) -> Customer | None:
    """The logged-in customer, or None (also None when their sessions were ended)."""
    customer_id = request.session.get("customer_id")
    if not customer_id:
        return None
    with request.app.state.ctx.db.read_session() as session:
        customer: Customer | None = session.get(Customer, customer_id)
    if (
        customer is None
        or customer.disabled
        or customer.session_epoch != request.session.get("customer_epoch")
    ):
        request.session.pop("customer_id", None)
        return None
    return customer


def load_staff(request: Request) -> StaffUser | None:
    """The logged-in staff user who passed two-factor when required, or None."""
    staff_id = request.session.get("staff_id")
    if not staff_id or not request.session.get("staff_verified"):
        return None
    with request.app.state.ctx.db.read_session() as session:
        staff: StaffUser | None = session.get(StaffUser, staff_id)
    if staff is None or staff.disabled or staff.session_epoch != request.session.get("staff_epoch"):
        request.session.pop("staff_id", None)
        return None
    return staff


def load_api_token(request: Request) -> ApiToken | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    ctx = request.app.state.ctx
    from sqlalchemy import select

    with ctx.db.transaction() as session:
        row = session.scalar(
            select(ApiToken).where(ApiToken.token_hash == token_hash(token.strip()))
        )
        if row is None or row.revoked_at is not None:
            return None
        staff = session.get(StaffUser, row.staff_id)
        if staff is None or staff.disabled:
            return None
        row.last_used_at = ctx.now()
        request.state.api_staff = staff
        found: ApiToken = row
        return found


def api_error(status: int, code: str, detail: str, field: str | None = None) -> JSONResponse:
    """The API's error shape: ``{"errors": [{"code", "detail", "field"}]}``."""
    return JSONResponse(
        {"errors": [{"code": code, "detail": detail, "field": field}]}, status_code=status
    )


def multipart_refusal(request: Request, limit: int) -> Response | None:
    """411 for a multipart request without a Content-Length, 413 when it declares more than
    ``limit`` bytes (or an unreadable length); None when the body may be read."""
    if request.method not in UNSAFE_METHODS or not request.headers.get(
        "content-type", ""
    ).lower().startswith("multipart/"):
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


def guard(section: str, endpoint: Endpoint) -> Callable[[Request], Any]:
    """Wrap ``endpoint`` with the access rule of ``section`` and the CSRF check."""
    is_open = getattr(endpoint, "facturo_open", False)
    roles: Sequence[str] = getattr(endpoint, "facturo_roles", ())
    needs_write = getattr(endpoint, "facturo_write", False)
    is_async = inspect.iscoroutinefunction(endpoint)
    body_limit: int = getattr(endpoint, "facturo_max_body", DEFAULT_MAX_BODY)

    async def call(request: Request) -> Response:
        result = await endpoint(request) if is_async else await run_in_threadpool(endpoint, request)
        return result  # type: ignore[no-any-return]

    async def guarded(request: Request) -> Response:
        refusal = multipart_refusal(request, body_limit)
        if refusal is not None:
            return refusal
        if await carries_nul(request, parse_form=section in ("client", "admin")):
            return nul_refusal(request, section)
        if section == "public":
            return await call(request)
        if section == "api":
            if is_open:
                return await call(request)
            token = await run_in_threadpool(load_api_token, request)
            if token is None:
                return api_error(401, "unauthorized", "a valid bearer token is required")
            if needs_write and token.scope != "read-write":
                return api_error(403, "forbidden", "this token is read-only")
            request.state.api_token = token
            return await call(request)
        if section == "client":
            request.state.customer = await run_in_threadpool(load_customer, request)
            user = request.state.customer
            login = "/client/login"
        else:
            request.state.staff = await run_in_threadpool(load_staff, request)
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
        return await call(request)

    return guarded


NUL_MARKERS = (b"\x00", b"\\u0000", b"%00")
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


async def carries_nul(request: Request, parse_form: bool) -> bool:
    """True when the query string or a text field of the body holds a NUL character.

    No text column accepts NUL (PostgreSQL refuses it outright), so such input is refused at
    the door instead of failing deep inside a query. File parts of uploads are not looked at.
    Raw bodies (JSON, gateway callbacks) are read once and cached for the handler.
    """
    query: bytes = request.scope.get("query_string", b"")
    if b"%00" in query or b"\x00" in query:
        return True
    if request.method not in UNSAFE_METHODS:
        return False
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        if not parse_form:
            return False
        form = await request.form()
        return any(isinstance(value, str) and "\x00" in value for _, value in form.multi_items())
    if content_type.startswith(FORM_TYPES) and parse_form:
        form = await request.form()
        return any(isinstance(value, str) and "\x00" in value for _, value in form.multi_items())
    body = await request.body()
    return any(marker in body for marker in NUL_MARKERS)


def nul_refusal(request: Request, section: str) -> Response:
    """400 for input holding a NUL character: JSON under the API, a page elsewhere."""
    detail = "The input contains a NUL character, which is not allowed."
    if section in ("api", "public"):
        return api_error(400, "invalid_input", detail)

    return error_page(request, 400, detail)


def guard_routes(section: str, routes: Sequence[BaseRoute]) -> list[BaseRoute]:
    """Return ``routes`` with every endpoint wrapped by ``guard(section, …)``."""
    wrapped: list[BaseRoute] = []
    for route in routes:
        if isinstance(route, Route):
            wrapped.append(
                Route(
                    route.path,
                    guard(section, route.endpoint),
                    methods=list(route.methods or []) or None,
                    name=route.name,
                )
            )
        else:
            wrapped.append(route)
    return wrapped
