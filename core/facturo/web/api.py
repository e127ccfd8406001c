"""The api section's core routes: REST API v1 and its OpenAPI document."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from facturo.web import api_resources
from facturo.web.api_openapi import openapi_document
from facturo.web.sections import open_page


@open_page
async def openapi(request: Request) -> Response:
    """The OpenAPI 3 document (public: it describes, it does not expose data)."""
    return JSONResponse(openapi_document(request.app.state.ctx.settings.base_url))


def routes() -> list[BaseRoute]:
    """The core's routes of the api section."""
    return [Route("/v1/openapi.json", openapi), *api_resources.routes()]
