"""IndexedRouter answers every request exactly as Starlette's Router does."""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import BaseRoute, Mount, Route, Router

from facturo.web.routing import IndexedRouter, indexed_mount


def endpoint(name: str) -> Any:
    async def answer(request: Request) -> PlainTextResponse:
        params = ",".join(f"{k}={v}" for k, v in sorted(request.path_params.items()))
        return PlainTextResponse(f"{name} {params} {request.scope.get('root_path', '')}")

    return answer


PATTERNS: list[tuple[str, list[str] | None]] = [
    ("/", ["GET"]),
    ("/healthz", ["GET"]),
    ("/lang/{code}", ["GET"]),
    ("/v1/documents/{id:int}", ["GET"]),
    ("/v1/documents/{id:int}/pdf", ["GET"]),
    ("/v1/payments", ["GET"]),
    ("/v1/payments", ["POST"]),
    ("/v1/licenses/validate", ["POST"]),
    ("/v1/{anything}/validate", ["GET", "POST"]),
    ("/files/{rest:path}", None),
    ("/a.b+c", ["GET"]),
    ("/slash/", ["GET"]),
]
PATHS = [
    "/",
    "/healthz",
    "/healthz/",
    "/healthzz",
    "/lang/es",
    "/lang/",
    "/lang/es/x",
    "/v1/documents/12",
    "/v1/documents/x",
    "/v1/documents/12/pdf",
    "/v1/payments",
    "/v1/licenses/validate",
    "/v1/licences/validate",
    "/v1/licenses/validatex",
    "/files/a/b/c",
    "/files",
    "/a.b+c",
    "/aXb+c",
    "/slash",
    "/api",
    "/api/",
    "/api/v1/licenses/validate",
    "/api/v1/payments",
    "/api/lang/en",
    "/apix/healthz",
    "/static/3/healthz",
    "/static//healthz",
    "/nowhere",
]


def routes(mount: Any) -> list[BaseRoute]:
    inner = [
        Route(path, endpoint(f"{path} {methods}"), methods=methods) for path, methods in PATTERNS
    ]
    return [
        *inner,
        mount("/api", inner),
        mount("/static/{version}", inner),
        mount("", inner),
    ]


def plain_mount(path: str, inner: list[BaseRoute]) -> Mount:
    return Mount(path, routes=inner)


async def call(app: Any, method: str, path: str) -> tuple[int, bytes, list[Any]]:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver")],
        "client": ("127.0.0.1", 1),
        "server": ("testserver", 80),
    }
    sent: list[Any] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    start, body = sent[0], b"".join(m.get("body", b"") for m in sent[1:])
    return start["status"], body, sorted(start["headers"])


def test_indexed_router_answers_every_request_as_starlettes_router() -> None:
    ours = IndexedRouter(routes(indexed_mount))
    theirs = Router(routes(plain_mount))

    async def compare() -> int:
        compared = 0
        for path in PATHS:
            for method in ("GET", "POST", "PUT"):
                assert await call(ours, method, path) == await call(theirs, method, path), (
                    method,
                    path,
                )
                compared += 1
        return compared

    assert asyncio.run(compare()) == len(PATHS) * 3


def test_routes_added_later_are_found() -> None:
    router = IndexedRouter([Route("/a", endpoint("a"))])
    assert asyncio.run(call(router, "GET", "/b"))[0] == 404
    router.routes.append(Route("/b", endpoint("b")))
    assert asyncio.run(call(router, "GET", "/b"))[:2] == (200, b"b  ")


def test_only_the_routes_a_path_could_match_are_tried(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    tried: list[str] = []
    original = Route.matches

    def counting(route: Route, scope: Any) -> Any:
        tried.append(route.path)
        return original(route, scope)

    monkeypatch.setattr(Route, "matches", counting)
    router = IndexedRouter(routes(indexed_mount))
    assert asyncio.run(call(router, "POST", "/api/v1/licenses/validate"))[0] == 200
    assert tried == ["/v1/licenses/validate"]
