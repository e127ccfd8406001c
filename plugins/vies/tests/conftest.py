"""Fixtures: the VIES stand-in served over real HTTP, and a context whose vies plugin asks it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from starlette.applications import Starlette

from facturo.context import Context
from facturo.testing import LiveServer, make_catalog, serve_in_thread, stop_server
from facturo_vies.protocol import SERVICE_PATH
from facturo_vies.sandbox import SandboxState, sample_number, sandbox_routes

VALID_DE = sample_number("DE", "123")  # valid check digits: the stand-in says valid
DOWN_DE = sample_number("DE", "301")  # the stand-in answers MS_UNAVAILABLE
INVALID_DE = sample_number("DE", "200")  # the stand-in answers valid=false


@dataclass
class StandIn:
    """The stand-in on a free port; ``state`` takes member states down or forces answers."""

    state: SandboxState
    live: LiveServer

    @property
    def endpoint(self) -> str:
        return self.live.url + SERVICE_PATH


@pytest.fixture
def standin() -> Iterator[StandIn]:
    state = SandboxState()
    live = serve_in_thread(Starlette(routes=sandbox_routes(state)))
    yield StandIn(state, live)
    stop_server(live)


def vies_settings(standin: StandIn, **more: Any) -> dict[str, dict[str, Any]]:
    """Plugin settings pointing the vies plugin at the stand-in."""
    return {
        "vies": {"mode": "live", "endpoint_url": standin.endpoint, "timeout": 2, **more},
        "transfer": {
            "account_holder": "Facturo Test S.L.",
            "iban": "ES9121000418450200051332",
        },
    }


@pytest.fixture
def vies_ctx(make_context: Callable[..., Context], standin: StandIn) -> Context:
    """A context with the vies plugin asking the stand-in, and the licence catalog."""
    ctx = make_context(plugins=("vies",), plugin_settings=vies_settings(standin))
    make_catalog(ctx)
    return ctx


@dataclass
class LiveApp:
    """The app with the vies plugin (asking the stand-in) under uvicorn."""

    ctx: Context
    url: str


@pytest.fixture
def vies_app(make_context: Callable[..., Context], standin: StandIn) -> Iterator[LiveApp]:
    from facturo.testing import free_port
    from facturo.web.app import create_app

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    ctx = make_context(
        plugins=("vies",), plugin_settings=vies_settings(standin), overrides={"base_url": url}
    )
    make_catalog(ctx)
    live = serve_in_thread(create_app(ctx), port)
    yield LiveApp(ctx, url)
    stop_server(live)


def staff_member(ctx: Context, role: str = "billing") -> Any:
    """A staff user with ``role``."""
    from facturo.accounts.customers import create_staff

    with ctx.db.transaction() as session:
        staff, _ = create_staff(
            session, f"{role}@facturo.test", "Berta", role, password="a-long-staff-password-2026"
        )
    return staff
