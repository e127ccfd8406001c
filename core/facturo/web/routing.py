"""A router that tries only the routes a path could match.

Starlette's router tries its routes in order, each with its regular expression, so a request for
the last route of the last mount pays for every route before it. Every path a route or mount
matches starts with the literal part of its pattern (up to the first ``{``; the whole pattern
when it has no parameters). :class:`IndexedRouter` keeps, per path, the routes whose literal
allows it, and tries those in their order: the first full match is the one Starlette's scan
would find, since the routes left out answer "no match". Anything else (no full match among
them, a lifespan or websocket scope) goes to Starlette's own scan, which handles partial
matches (405), slash redirects and 404 as usual.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from starlette._utils import get_route_path
from starlette.routing import BaseRoute, Match, Mount, Route, Router
from starlette.types import Receive, Scope, Send

#: Distinct paths remembered per router (all are forgotten when it is reached).
REMEMBERED_PATHS = 10_000


def _literal(route: BaseRoute) -> tuple[str, bool] | None:
    """The literal start of a route's pattern and whether it is the whole pattern; None when
    the route is not indexed (it is then tried for every path)."""
    if isinstance(route, Mount):
        return route.path.partition("{")[0] + ("/" if "{" not in route.path else ""), False
    if isinstance(route, Route):
        literal, brace, _ = route.path.partition("{")
        return literal, not brace
    return None


class IndexedRouter(Router):
    """A :class:`~starlette.routing.Router` that tries only the routes a path could match."""

    def __init__(self, routes: Sequence[BaseRoute] | None = None, **options: Any) -> None:
        super().__init__(routes, **options)
        self._indexed: tuple[int, list[BaseRoute]] | None = None
        self._literals: list[tuple[BaseRoute, str | None, bool]] = []
        self._by_path: dict[str, list[BaseRoute]] = {}

    def candidates(self, path: str) -> list[BaseRoute]:
        """The routes, in order, whose pattern could match ``path``."""
        indexed = self._indexed
        if indexed is None or indexed[1] is not self.routes or indexed[0] != len(self.routes):
            self._index()
        found = self._by_path.get(path)
        if found is None:
            if len(self._by_path) >= REMEMBERED_PATHS:
                self._by_path.clear()
            found = self._by_path[path] = [
                route
                for route, literal, exact in self._literals
                if literal is None or (path == literal if exact else path.startswith(literal))
            ]
        return found

    def _index(self) -> None:
        self._literals = []
        for route in self.routes:
            literal = _literal(route)
            self._literals.append((route, *literal) if literal else (route, None, False))
        self._by_path = {}
        self._indexed = (len(self.routes), self.routes)

    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            for route in self.candidates(get_route_path(scope)):
                match, child_scope = route.matches(scope)
                if match is Match.FULL:
                    if "router" not in scope:
                        scope["router"] = self
                    scope["route"] = route
                    scope.update(child_scope)
                    await route.handle(scope, receive, send)
                    return
        await super().app(scope, receive, send)


def indexed_mount(path: str, routes: Sequence[BaseRoute], name: str | None = None) -> Mount:
    """``Mount(path, routes=routes)`` whose router is an :class:`IndexedRouter`."""
    return Mount(path, app=IndexedRouter(list(routes)), name=name)
