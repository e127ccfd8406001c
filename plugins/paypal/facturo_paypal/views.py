"""Web routes: the customer's pay/return/cancel pages, PayPal's notifications, the local
sandbox and the staff list of notifications that need attention."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route

from facturo.plugin import (
    Context,
    Customer,
    Document,
    error_page,
    flash,
    gateway_notifications_page,
    render,
    request_language,
)

from .api import OrderRequest, PayPalError
from .models import CheckoutAttempt
from .notify import receive_ipn, receive_webhook
from .runtime import TIMEOUT, runtime
from .sandbox import sandbox_routes
from .service import GATEWAY, CaptureReport, apply_capture, payable_problem, save_attempt

LOCALES = {"es": "es-ES", "en": "en-GB"}


def _ctx(request: Request) -> Context:
    ctx: Context = request.app.state.ctx
    return ctx


def _gettext(request: Request) -> Any:
    return _ctx(request).translations(request_language(request)).gettext


def _load_document(ctx: Context, document_id: int, customer: Customer) -> tuple[Any, str | None]:
    with ctx.db.read_session() as session:
        document = session.get(Document, document_id)
        fresh = session.get(Customer, customer.id)
        assert fresh is not None
        problem = payable_problem(document, fresh)
        if document is not None:
            session.expunge(document)
        return document, problem


def pay_page(request: Request) -> Response:
    """What will be paid, and the button that creates the PayPal order."""
    ctx = _ctx(request)
    document, problem = _load_document(
        ctx, int(request.path_params["document_id"]), request.state.customer
    )
    if problem == "not found":
        return error_page(request, 404)
    return render(
        request,
        "paypal/pay.html",
        {"document": document, "problem": _gettext(request)(problem) if problem else None},
        status_code=409 if problem else 200,
    )


async def pay(request: Request) -> Response:
    """Create the PayPal order for the document's balance and send the payer to approve it."""
    ctx = _ctx(request)
    _ = _gettext(request)
    customer = request.state.customer
    document_id = int(request.path_params["document_id"])
    document, problem = await run_in_threadpool(_load_document, ctx, document_id, customer)
    if problem == "not found":
        return error_page(request, 404)
    if problem is not None:
        flash(request, _(problem), "error")
        return RedirectResponse(f"/client/paypal/pay/{document_id}", status_code=303)
    rt = runtime(ctx)
    order = OrderRequest(
        reference=document.reference,
        custom_id=f"facturo-doc-{document.id}",
        amount=document.balance,
        currency=document.currency,
        return_url=ctx.url("/client/paypal/return"),
        cancel_url=ctx.url("/client/paypal/cancel"),
        brand_name=rt.settings.brand_name[:127],
        locale=LOCALES.get(request_language(request), "es-ES"),
    )
    try:
        async with httpx.AsyncClient(timeout=TIMEOUT) as http:
            created = await rt.async_client(http).create_order(
                order, f"order-{document.id}-{uuid.uuid4().hex}"
            )
    except PayPalError as exc:
        flash(request, _("PayPal is not available right now. Try again later."), "error")
        flash(request, str(exc.issue or exc.name), "error")
        return RedirectResponse(f"/client/paypal/pay/{document_id}", status_code=303)

    def store() -> None:
        with ctx.db.transaction() as session:
            fresh = session.get(Document, document.id)
            assert fresh is not None
            save_attempt(session, ctx, fresh, created.order_id, order.amount)

    await run_in_threadpool(store)
    return RedirectResponse(created.approval_url, status_code=303)


def _attempt_of(ctx: Context, order_id: str, customer_id: int) -> CheckoutAttempt | None:
    with ctx.db.read_session() as session:
        attempt = session.scalar(
            select(CheckoutAttempt).where(
                CheckoutAttempt.paypal_order_id == order_id,
                CheckoutAttempt.customer_id == customer_id,
            )
        )
        if attempt is not None:
            session.expunge(attempt)
        return attempt


async def return_page(request: Request) -> Response:
    """Back from PayPal: capture the order (idempotent key ``capture-<order id>``), record a
    COMPLETED capture, then show the attempt's real state."""
    ctx = _ctx(request)
    _ = _gettext(request)
    order_id = request.query_params.get("token", "")
    attempt = await run_in_threadpool(_attempt_of, ctx, order_id, request.state.customer.id)
    if attempt is None:
        return error_page(request, 404)
    if attempt.status in ("created", "approved"):
        rt = runtime(ctx)
        try:
            async with httpx.AsyncClient(timeout=TIMEOUT) as http:
                capture = await rt.async_client(http).capture_order(order_id, f"capture-{order_id}")
        except PayPalError as exc:
            flash(
                request,
                _("PayPal did not take the payment: %(reason)s")
                % {"reason": exc.issue or exc.name or exc.message},
                "error",
            )
            return RedirectResponse(f"/client/paypal/attempts/{attempt.id}", status_code=303)
        report = CaptureReport(
            order_id=order_id,
            capture_id=capture.capture_id,
            status=capture.status,
            amount=capture.amount,
            currency=capture.currency,
            payer_country=capture.payer_country,
        )

        def apply() -> None:
            with ctx.db.transaction() as session:
                apply_capture(session, ctx, report, {"capture_id": capture.capture_id})

        await run_in_threadpool(apply)
    return RedirectResponse(f"/client/paypal/attempts/{attempt.id}", status_code=303)


def attempt_page(request: Request) -> Response:
    """Paid (with the invoice number), waiting for PayPal (refreshing), or failed."""
    ctx = _ctx(request)
    with ctx.db.read_session() as session:
        attempt = session.get(CheckoutAttempt, int(request.path_params["attempt_id"]))
        if attempt is None or attempt.customer_id != request.state.customer.id:
            return error_page(request, 404)
        document = session.get(Document, attempt.document_id)
        assert document is not None
        paid = attempt.status == "completed" and document.status == "paid"
        if paid:
            state = "paid"
        elif attempt.status in ("created", "approved", "pending", "completed"):
            state = "waiting"
        elif attempt.status == "refunded":
            state = "refunded"
        else:
            state = "failed"
        return render(
            request,
            "paypal/attempt.html",
            {"attempt": attempt, "document": document, "state": state},
        )


def cancel_page(request: Request) -> Response:
    """The payer cancelled on PayPal: back to the document."""
    ctx = _ctx(request)
    attempt = _attempt_of(ctx, request.query_params.get("token", ""), request.state.customer.id)
    flash(request, _gettext(request)("The PayPal payment was cancelled."), "info")
    target = f"/client/documents/{attempt.document_id}" if attempt else "/client/"
    return RedirectResponse(target, status_code=303)


async def webhook(request: Request) -> Response:
    """PayPal webhooks (raw body, verified, deduplicated by event id)."""
    body = await request.body()
    remote = request.client.host if request.client else ""
    status = await run_in_threadpool(
        receive_webhook, _ctx(request), dict(request.headers), body, remote
    )
    return PlainTextResponse("ok" if status == 200 else "refused", status_code=status)


async def ipn(request: Request) -> Response:
    """PayPal IPN: always 200 (PayPal only needs the receipt); the postback decides."""
    body = await request.body()
    remote = request.client.host if request.client else ""
    status = await run_in_threadpool(
        receive_ipn, _ctx(request), dict(request.headers), body, remote
    )
    if status != 200:
        return PlainTextResponse("retry", status_code=status)
    return PlainTextResponse("")


def client_routes() -> list[BaseRoute]:
    return [
        Route("/paypal/pay/{document_id:int}", pay_page, methods=["GET"]),
        Route("/paypal/pay/{document_id:int}", pay, methods=["POST"]),
        Route("/paypal/return", return_page, methods=["GET"]),
        Route("/paypal/cancel", cancel_page, methods=["GET"]),
        Route("/paypal/attempts/{attempt_id:int}", attempt_page, methods=["GET"]),
    ]


def public_routes(ctx: Context) -> list[BaseRoute]:
    routes: list[BaseRoute] = [
        Route("/paypal/webhook", webhook, methods=["POST"]),
        Route("/paypal/ipn", ipn, methods=["POST"]),
    ]
    rt = runtime(ctx)
    if rt.settings.is_local:
        routes.append(Mount("/paypal/sandbox", routes=sandbox_routes(rt.sandbox)))
    return routes


def admin_routes() -> list[BaseRoute]:
    return [Route("/paypal/notifications", gateway_notifications_page(GATEWAY), methods=["GET"])]
