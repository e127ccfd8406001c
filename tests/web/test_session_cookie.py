"""SessionCookieMiddleware answers exactly as Starlette's SessionMiddleware, with or without a
cookie, whether the request reads, writes, clears or ignores its session."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import pytest
from itsdangerous import BadSignature, TimestampSigner
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import Session, SessionMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from facturo.web.session_cookie import RememberingSigner, SessionCookieMiddleware


async def ignore(request: Request) -> Response:
    return PlainTextResponse("ignored")


async def read(request: Request) -> Response:
    return PlainTextResponse(str(request.session.get("n", 0)))


async def write(request: Request) -> Response:
    request.session["n"] = int(request.session.get("n", 0)) + 1
    return PlainTextResponse("written")


async def clear(request: Request) -> Response:
    request.session.clear()
    return PlainTextResponse("cleared")


async def replace(request: Request) -> Response:
    request.scope["session"] = Session({"replaced": True})
    return PlainTextResponse("replaced")


ENDPOINTS: dict[str, Callable[[Request], Awaitable[Response]]] = {
    "ignore": ignore,
    "read": read,
    "write": write,
    "clear": clear,
    "replace": replace,
}


def app(middleware: type[SessionMiddleware]) -> Starlette:
    return Starlette(
        routes=[Route(f"/{name}", endpoint) for name, endpoint in ENDPOINTS.items()],
        middleware=[Middleware(middleware, secret_key="s" * 32, session_cookie="facturo_session")],
    )


def answer(asgi: Starlette, path: str, cookies: dict[str, str]) -> tuple[int, str, list[str]]:
    """Status, body and the Set-Cookie and Vary headers of ``GET path``."""
    headers = [(b"host", b"testserver")]
    if cookies:
        headers.append((b"cookie", "; ".join(f"{k}={v}" for k, v in cookies.items()).encode()))
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": headers,
        "client": ("127.0.0.1", 1),
        "server": ("testserver", 80),
    }
    sent: list[MutableMapping[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    asyncio.run(asgi(scope, receive, send))
    found = sorted(
        f"{name.decode()}: {value.decode()}"
        for name, value in sent[0].get("headers", [])
        if name in (b"set-cookie", b"vary")
    )
    return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:]).decode(), found


def cookie_of(set_cookie: str) -> str:
    """The signed value a Set-Cookie header gives the session cookie."""
    return set_cookie.removeprefix("set-cookie: facturo_session=").split(";")[0]


@pytest.mark.parametrize("path", [f"/{name}" for name in ENDPOINTS])
@pytest.mark.parametrize("cookie", ["none", "other", "session", "forged"])
def test_same_answers_as_starlette(path: str, cookie: str) -> None:
    starlette, ours = app(SessionMiddleware), app(SessionCookieMiddleware)
    signed = cookie_of(answer(starlette, "/write", {})[2][0])
    cookies = {
        "none": {},
        "other": {"theme": "dark"},
        "session": {"facturo_session": signed},
        "forged": {"facturo_session": "forged"},
    }[cookie]
    expected = answer(starlette, path, cookies)
    found = answer(ours, path, cookies)
    assert found == expected


def test_a_remembered_cookie_still_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [1_800_000_000]
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: now[0])
    asgi = Starlette(
        routes=[Route("/read", read), Route("/write", write)],
        middleware=[
            Middleware(
                SessionCookieMiddleware,
                secret_key="s" * 32,
                session_cookie="facturo_session",
                max_age=60,
            )
        ],
    )
    signed = cookie_of(answer(asgi, "/write", {})[2][0])
    now[0] += 10
    assert answer(asgi, "/read", {"facturo_session": signed})[1] == "1"
    assert answer(asgi, "/read", {"facturo_session": signed})[1] == "1"  # remembered now
    now[0] += 51
    assert answer(asgi, "/read", {"facturo_session": signed})[1] == "0"


def test_only_valid_signatures_are_remembered_and_only_so_many() -> None:
    signer = TimestampSigner("s" * 32)
    remembering = RememberingSigner(signer, size=2)
    with pytest.raises(BadSignature):
        remembering.unsign(b"forged.value.sig", max_age=60)
    signed = [signer.sign(f"payload {n}".encode()) for n in range(3)]
    assert [remembering.unsign(value, max_age=60) for value in signed] == [
        b"payload 0",
        b"payload 1",
        b"payload 2",
    ]
    assert list(remembering._verified) == signed[1:]
    # (not the signature's last character: some of its bits are base64 padding)
    tampered = signed[2].replace(b"payload 2", b"payload 9")
    with pytest.raises(BadSignature):
        remembering.unsign(tampered, max_age=60)
    assert tampered not in remembering._verified
