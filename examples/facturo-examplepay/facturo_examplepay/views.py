"""Web handlers: the pay button (client), the notification and the sandbox (public)."""

from __future__ import annotations

from functools import partial

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route

from facturo.plugin import Context, Document, Receipt, error_page, receive_notification, render

from .gateway import GATEWAY, PLUGIN


def _own_document(request: Request, session: Session) -> Document | None:
    """The logged-in customer's document named in the path, else None."""
    try:
        document_id = int(request.path_params["document_id"])
    except ValueError:
        return None
    document = session.get(Document, document_id)
    if document is None or document.customer_id != request.state.customer.id:
        return None
    return document


def confirm_page(request: Request) -> Response:
    """GET: what is about to be paid, with the button that goes to the hosted page."""
    ctx: Context = request.app.state.ctx
    with ctx.db.read_session() as session:
        document = _own_document(request, session)
        if document is None:
            return error_page(request, 404)
        return render(request, "examplepay/pay.html", {"document": document})


def pay(request: Request) -> Response:
    """POST: create the attempt (committed here, by the handler) and go to the hosted page."""
    ctx: Context = request.app.state.ctx
    with ctx.db.transaction() as session:
        document = _own_document(request, session)
        if document is None:
            return error_page(request, 404)
        try:
            started = GATEWAY.start_payment(ctx, session, document)
        except ValueError:
            return error_page(request, 409, "This document has nothing left to pay.")
    assert started.redirect_url is not None
    return RedirectResponse(started.redirect_url, status_code=303)


# region: notify
def receive(ctx: Context, body: str, headers: dict[str, str], remote: str) -> Receipt:
    """Hand one message to the core pipeline: store raw → verify → dedupe → apply → mark."""
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
    """200 once the message is stored (forgeries too: stored as rejected); 503 when it could
    not be stored, so that ExamplePay sends it again."""
    ctx: Context = request.app.state.ctx
    body = (await request.body()).decode("utf-8", errors="replace")
    remote = request.client.host if request.client else ""
    receipt = await run_in_threadpool(receive, ctx, body, dict(request.headers), remote)
    return PlainTextResponse(receipt.status, status_code=receipt.http_status)


# endregion


# region: routes
def routes(ctx: Context, section: str) -> list[BaseRoute]:
    """The plugin's routes in ``section``; the sandbox only when ``sandbox = true``."""
    if section == "client":
        return [
            Route("/examplepay/pay/{document_id}", confirm_page, methods=["GET"]),
            Route("/examplepay/pay/{document_id}", pay, methods=["POST"]),
        ]
    if section != "public":
        return []
    found: list[BaseRoute] = [Route("/examplepay/notify", notify, methods=["POST"])]
    if ctx.settings_for(PLUGIN)["sandbox"]:
        from .sandbox import sandbox_routes

        found.append(Mount("/examplepay/sandbox", routes=sandbox_routes(ctx)))
    return found


# endregion
