"""A local stand-in for ExamplePay (served only with ``sandbox = true``): the hosted payment
page, the server-to-server notification, the status endpoint and refunds.

It keeps its payments in memory, like a test account that forgets on restart.
"""

from __future__ import annotations

import json
import secrets
from decimal import Decimal
from urllib.parse import parse_qsl

import httpx
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from facturo.plugin import Context, render

from .gateway import PLUGIN, SIGNATURE_HEADER, sign, signature_ok

#: reference → {"reference", "status", "amount", "currency", "refunded"}
LEDGER: dict[str, dict[str, str]] = {}


def sandbox_routes(ctx: Context) -> list[BaseRoute]:
    """The sandbox's routes; they sign with the same shared secret as the plugin."""
    secret = str(ctx.settings_for(PLUGIN)["secret"])

    def signed(data: dict[str, str], status: int = 200) -> Response:
        body = json.dumps(data)
        headers = {SIGNATURE_HEADER: sign(secret, body)}
        return Response(body, status, headers=headers, media_type="application/json")

    def checked_query(query: str, signature: str) -> dict[str, str] | None:
        return dict(parse_qsl(query)) if signature_ok(secret, query, signature) else None

    async def page(request: Request) -> Response:
        query, _, signature = request.url.query.rpartition("&signature=")
        fields = checked_query(query, signature)
        if fields is None:
            return PlainTextResponse("bad signature", 400)
        values = {"fields": fields, "query": query, "signature": signature}
        return render(request, "examplepay/sandbox.html", values)

    async def pay(request: Request) -> Response:
        form = await request.form()
        fields = checked_query(str(form.get("query", "")), str(form.get("signature", "")))
        if fields is None:
            return PlainTextResponse("bad signature", 400)
        outcome = "paid" if form.get("outcome") == "paid" else "failed"
        entry = {k: fields[k] for k in ("reference", "amount", "currency")}
        entry.update(status=outcome, refunded="0.00")
        LEDGER[entry["reference"]] = entry
        if form.get("notify") == "yes":  # untick it to test reconciliation
            body = json.dumps({k: entry[k] for k in ("reference", "status", "amount", "currency")})
            async with httpx.AsyncClient(timeout=15) as client:
                await client.post(
                    fields["notify_url"],
                    content=body,
                    headers={SIGNATURE_HEADER: sign(secret, body)},
                )
        return RedirectResponse(fields["return_url"], status_code=303)

    async def status(request: Request) -> Response:
        reference = request.path_params["reference"]
        if not signature_ok(secret, reference, request.headers.get(SIGNATURE_HEADER, "")):
            return PlainTextResponse("bad signature", 403)
        entry = LEDGER.get(reference)
        if entry is None:
            return PlainTextResponse("unknown payment", 404)
        return signed({k: entry[k] for k in ("reference", "status", "amount", "currency")})

    async def refund(request: Request) -> Response:
        body = (await request.body()).decode()
        if not signature_ok(secret, body, request.headers.get(SIGNATURE_HEADER, "")):
            return PlainTextResponse("bad signature", 403)
        data = json.loads(body)
        entry = LEDGER.get(data["reference"])
        amount = Decimal(data["amount"])
        if entry is None or entry["status"] != "paid":
            return PlainTextResponse("nothing to refund", 409)
        refunded = Decimal(entry["refunded"]) + amount
        if amount <= 0 or refunded > Decimal(entry["amount"]):
            return PlainTextResponse("more than was paid", 409)
        entry["refunded"] = str(refunded)
        return signed({"refund_id": f"re_{secrets.token_hex(6)}", "amount": str(amount)})

    return [
        Route("/pay", page, methods=["GET"]),
        Route("/pay", pay, methods=["POST"]),
        Route("/payments/{reference}", status, methods=["GET"]),
        Route("/refunds", refund, methods=["POST"]),
    ]
