"""Web handlers: paying (client), the bank's return, the notification and the sandbox
(public), and the staff list of rejected notifications (admin). Thin: logic is in service."""

from __future__ import annotations

import logging
from functools import partial
from pathlib import Path

import httpx
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount, Route

from facturo.plugin import (
    Context,
    Document,
    Receipt,
    error_page,
    gateway_notifications_page,
    read_form,
    receive_notification,
    render,
    request_language,
    thank_you,
)

from .config import PLUGIN, SCRIPT_PATH, terminal_settings
from .gateway import GATEWAY
from .service import (
    PayError,
    attempt_for_customer,
    payable_document,
    payment_form,
    start_attempt,
)
from .settings import Environment

log = logging.getLogger(__name__)
STATIC = Path(__file__).resolve().parent / "static"
#: Seconds between reloads of the "waiting for the bank" page.
REFRESH_SECONDS = 3


def _pay_error(request: Request, error: PayError) -> Response:
    _ = request.app.state.ctx.translations(request_language(request)).gettext
    return error_page(request, error.status, _(error.message))


def confirm_page(request: Request) -> Response:
    """GET: what is about to be paid, with the button that starts the card payment."""
    ctx = request.app.state.ctx
    customer = request.state.customer
    try:
        document_id = int(request.path_params["document_id"])
    except ValueError:
        return error_page(request, 404)
    with ctx.db.read_session() as session:
        try:
            document = payable_document(session, customer, document_id)
        except PayError as error:
            return _pay_error(request, error)
        return render(request, "ruralvia/pay.html", {"document": document})


def pay(request: Request) -> Response:
    """POST: create an attempt and send the browser to the payment page (auto-submitted)."""
    ctx = request.app.state.ctx
    customer = request.state.customer
    try:
        document_id = int(request.path_params["document_id"])
    except ValueError:
        return error_page(request, 404)
    save_card = str(read_form(request).get("save_card", "")) == "1"
    try:
        with ctx.db.transaction() as session:
            attempt = start_attempt(session, ctx, customer, document_id, save_card=save_card)
            document = session.get(Document, attempt.document_id)
            assert document is not None
            form = payment_form(ctx, attempt, document)
            reference = document.reference
    except PayError as error:
        return _pay_error(request, error)
    _ = ctx.translations(request_language(request)).gettext
    html = form.render_html(script_src=SCRIPT_PATH, label=_("Continue to the card payment page"))
    return render(
        request,
        "ruralvia/redirect.html",
        {"form_html": html, "reference": reference, "attempt": attempt},
    )


def return_page(request: Request) -> Response:
    """The page URLOK and URLKO lead to: the attempt's real state, never assumed."""
    ctx = request.app.state.ctx
    with ctx.db.read_session() as session:
        attempt = attempt_for_customer(
            session, request.state.customer, str(request.path_params["order"])
        )
        if attempt is None:
            return error_page(request, 404)
        document = session.get(Document, attempt.document_id)
        assert document is not None
        thanks = thank_you(ctx, session, document, request_language(request))
        waiting = attempt.status == "pending" or thanks.preparing
        return render(
            request,
            "ruralvia/return.html",
            {
                "attempt": attempt,
                "document": document,
                "meaning": attempt.meaning(request_language(request)),
                "refresh_seconds": REFRESH_SECONDS if waiting else None,
                "thanks": thanks,
            },
        )


def receive(ctx: Context, body: str, headers: dict[str, str], remote: str) -> Receipt:
    """Run a Redsys notification through the core pipeline (store, verify, dedupe, apply)."""
    return receive_notification(
        ctx,
        PLUGIN,
        body,
        headers,
        remote,
        verify=partial(GATEWAY.verify_notification, ctx),
        apply=partial(GATEWAY.apply_notification, ctx),
    )


async def notify(request: Request) -> Response:
    """The server-to-server notification: 200 once durably stored (forged ones included: they
    are stored as rejected); 503 when it could not be stored, so that Redsys retries."""
    ctx: Context = request.app.state.ctx
    raw = await request.body()
    body = raw.decode("utf-8", errors="replace")
    remote = request.client.host if request.client else ""
    receipt = await run_in_threadpool(receive, ctx, body, dict(request.headers), remote)
    if receipt.http_status != 200:
        return PlainTextResponse("error", status_code=receipt.http_status)
    return PlainTextResponse("ok")


async def autosubmit_script(request: Request) -> Response:
    """The script that submits the payment form (no inline scripts under the CSP)."""
    return FileResponse(STATIC / "autosubmit.js", media_type="text/javascript")


def client_routes() -> list[BaseRoute]:
    from .card_views import card_routes

    return [
        *card_routes(),
        Route("/ruralvia/pay/{document_id}", confirm_page, methods=["GET"]),
        Route("/ruralvia/pay/{document_id}", pay, methods=["POST"]),
        Route("/ruralvia/return/{order}", return_page, methods=["GET"]),
    ]


def admin_routes() -> list[BaseRoute]:
    return [Route("/ruralvia/notifications", gateway_notifications_page(PLUGIN), methods=["GET"])]


def public_routes(ctx: Context) -> list[BaseRoute]:
    routes: list[BaseRoute] = [
        Route("/ruralvia/notify", notify, methods=["POST"]),
        Route("/ruralvia/static/autosubmit.js", autosubmit_script, methods=["GET"]),
    ]
    settings = terminal_settings(ctx)
    if settings.environment is Environment.SANDBOX:
        from .sandbox import sandbox_ledger, sandbox_routes

        routes.append(
            Mount(
                "/ruralvia/sandbox",
                routes=sandbox_routes(
                    settings.secret_key,
                    lambda: httpx.AsyncClient(timeout=15),
                    clock=ctx.now,
                    ledger=sandbox_ledger(ctx),
                ),
            )
        )
    return routes
