"""What every HTTP answer gets on its way out: the security headers and a duration in the
request metrics, in one ASGI layer.

They were two middlewares, each awaiting the app and wrapping ``send`` with a function of its
own; one layer with one wrapper does the same work with a coroutine and two calls less per
answer (measured on a licence validation: ~10 k instructions less per request).
"""

from __future__ import annotations

import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from facturo.web.operations import observe_request
from facturo.web.security import SecurityHeaders


class AnswerMiddleware:
    """Add the security headers (CSP without inline scripts, nosniff, …) to every HTTP answer
    and observe its duration under its route template (status 500 when the app raised before
    answering)."""

    def __init__(self, app: ASGIApp, headers: list[tuple[bytes, bytes]] | None = None) -> None:
        self.app = app
        self.security = SecurityHeaders(headers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        security = self.security

        async def send_answer(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                message["headers"] = security.added_to(message.get("headers", ()))
            await send(message)

        try:
            await self.app(scope, receive, send_answer)
        finally:
            observe_request(scope, status, time.perf_counter() - started)
