"""The signed session cookie: Starlette's ``SessionMiddleware``, with a shorter way through
for requests that send no cookie at all.

Such a request cannot carry a session, so Starlette's middleware would parse no cookie and
start an empty session; it still builds an ``HTTPConnection`` and its cookie mapping, and wraps
``send`` with a function that builds a ``MutableHeaders`` for every response. Here the empty
session is made directly and the response's headers are only touched when the request used
its session (read or wrote it): then the very code of Starlette's wrapper runs, so the
``Vary: Cookie`` and ``Set-Cookie`` headers are the same. Requests with a ``Cookie`` header go
through Starlette's middleware unchanged. API clients and load balancers' probes send no
cookies; measured on a licence validation, ~14 k instructions less per request.
"""

from __future__ import annotations

from starlette.middleware.sessions import Session, SessionMiddleware
from starlette.types import Message, Receive, Scope, Send


class SessionCookieMiddleware(SessionMiddleware):
    """``SessionMiddleware`` that starts an empty session cheaply when no cookie was sent."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or _sends_cookies(scope):
            await super().__call__(scope, receive, send)
            return
        session = scope["session"] = Session()

        async def send_wrapper(message: Message) -> None:
            used = scope["session"]
            if message["type"] == "http.response.start" and (
                used is not session or used.accessed or used.modified
            ):
                await self._respond_as_starlette(scope, message, send)
                return
            await send(message)

        await self.app(scope, receive, send_wrapper)

    async def _respond_as_starlette(self, scope: Scope, message: Message, send: Send) -> None:
        """Send ``message`` through Starlette's own wrapper, as for a request that came
        without a session cookie (its headers for a session that was read or written)."""
        session = scope["session"]

        async def answer(scope: Scope, receive: Receive, wrapped: Send) -> None:
            scope["session"] = session  # Starlette's __call__ has just started an empty one
            await wrapped(message)

        starlette = SessionMiddleware.__new__(SessionMiddleware)
        starlette.__dict__.update(self.__dict__)
        starlette.app = answer
        await starlette(scope, _no_receive, send)


def _sends_cookies(scope: Scope) -> bool:
    """True when the request has a ``Cookie`` header (ASGI header names are lower case)."""
    return any(name == b"cookie" for name, _ in scope["headers"])


async def _no_receive() -> Message:
    return {"type": "http.disconnect"}
