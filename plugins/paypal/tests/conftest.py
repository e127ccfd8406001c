from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route

from facturo_paypal.sandbox import SandboxState, sandbox_routes

VECTORS = Path(__file__).parent / "vectors"
HOST = "http://testserver"
PREFIX = "/public/paypal-sandbox"
SANDBOX_URL = HOST + PREFIX
WEBHOOK_PATH = "/hooks/paypal"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def vectors() -> Path:
    return VECTORS


@pytest.fixture
def webhook_vector() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((VECTORS / "paypal_webhook_java_sdk.json").read_text())
    return data


@pytest.fixture
def ipn_samples() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((VECTORS / "paypal_ipn_samples.json").read_text())
    return data


Received = list[tuple[dict[str, str], bytes]]


@pytest.fixture
def received() -> Received:
    """Webhook deliveries received by the test app: raw headers and body as sent."""
    return []


@pytest.fixture
def sandbox() -> SandboxState:
    return SandboxState()


@pytest.fixture
def app(sandbox: SandboxState, received: Received) -> Starlette:
    """The sandbox mounted under a prefix, next to a webhook receiver, as the core will do."""

    async def receive_webhook(request: Request) -> Response:
        received.append((dict(request.headers), await request.body()))
        return Response(status_code=200)

    return Starlette(
        routes=[
            Mount(PREFIX, routes=sandbox_routes(sandbox)),
            Route(WEBHOOK_PATH, receive_webhook, methods=["POST"]),
        ]
    )


@pytest.fixture
async def http(app: Starlette, sandbox: SandboxState) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client wired to the app; the sandbox delivers its webhooks through it too."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=HOST) as client:
        sandbox.http = client
        sandbox.webhook_url = HOST + WEBHOOK_PATH
        yield client


@pytest.fixture
def sandbox_url() -> str:
    """Where the sandbox is mounted: the API client's base URL in tests."""
    return SANDBOX_URL
