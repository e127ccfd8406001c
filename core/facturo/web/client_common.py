"""Helpers shared by the client area's handlers: the context, forms, ownership, limits."""

from __future__ import annotations

from functools import lru_cache
from typing import Any, TypeVar

import anyio.from_thread
from babel import Locale
from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from facturo.context import Context
from facturo.models import Customer
from facturo.web.rendering import gettext_for, render

T = TypeVar("T")
NOT_COUNTRIES = frozenset({"EU", "EZ", "UN", "QO", "XA", "XB", "ZZ"})


def ctx_of(request: Request) -> Context:
    """The installation's Context."""
    ctx: Context = request.app.state.ctx
    return ctx


def me(request: Request) -> Customer:
    """The logged-in customer (the section guard has loaded it)."""
    customer: Customer = request.state.customer
    return customer


def actor(request: Request) -> str:
    """The audit actor of the logged-in customer: ``customer:<id>``."""
    return f"customer:{me(request).id}"


def client_ip(request: Request) -> str:
    """The caller's IP address (empty when unknown)."""
    return request.client.host if request.client else ""


def read_form(request: Request) -> FormData:
    """The submitted form (call from a sync handler: it runs in the threadpool)."""

    async def read() -> FormData:
        return await request.form()

    form: FormData = anyio.from_thread.run(read)
    return form


def text_fields(form: FormData) -> dict[str, str]:
    """The form's text fields, trimmed (the first value of each name)."""
    return {key: value.strip() for key, value in form.items() if isinstance(value, str)}


def owned(session: Session, model: type[T], raw_id: Any, customer_id: int) -> T:
    """The row of ``model`` with id ``raw_id`` when it belongs to ``customer_id``, else a 404
    (another customer's row looks exactly like a missing one)."""
    try:
        key = int(raw_id)
    except (TypeError, ValueError):
        raise HTTPException(404) from None
    row = session.get(model, key)
    if row is None or getattr(row, "customer_id", None) != customer_id:
        raise HTTPException(404)
    return row


def wait_message(request: Request, seconds: int) -> str:
    """ "Too many attempts" with when to try again, in the request's language."""
    _ = gettext_for(request)
    if seconds < 120:
        return str(_("Too many attempts. Try again in %(n)s seconds.") % {"n": seconds})
    return str(_("Too many attempts. Try again in %(n)s minutes.") % {"n": (seconds + 59) // 60})


def rate_limited(request: Request, limit: str, *keys: str) -> str | None:
    """Count one hit; None when allowed, else the message saying when to try again."""
    verdict = request.app.state.limiter.hit(limit, "client", *keys)
    if verdict.allowed:
        return None
    return wait_message(request, verdict.retry_after)


@lru_cache(maxsize=4)
def _countries(language: str) -> tuple[tuple[str, str], ...]:
    names = Locale.parse("en_GB" if language == "en" else "es_ES").territories
    pairs = [
        (code, str(name))
        for code, name in names.items()
        if len(code) == 2 and code.isalpha() and code not in NOT_COUNTRIES
    ]
    return tuple(sorted(pairs, key=lambda pair: pair[1]))


def countries(language: str) -> list[tuple[str, str]]:
    """(ISO code, name) of every country, sorted by name in ``language``."""
    return list(_countries(language))


def country_name(code: str, language: str) -> str:
    """``ES`` as people read it in ``language``: "España" / "Spain" (unknown codes as given)."""
    return dict(_countries(language)).get(code.upper(), code)


def is_country(code: str) -> bool:
    """True for an ISO 3166 alpha-2 country code."""
    return code in dict(_countries("en"))


def unverified_refusal(request: Request, template: str, values: dict[str, Any]) -> Response | None:
    """A 403 page when the customer has not verified their email yet (ordering and paying)."""
    if me(request).is_verified:
        return None
    _ = gettext_for(request)
    values = {**values, "error": _("Verify your email address before ordering or paying.")}
    return render(request, template, values, 403)
