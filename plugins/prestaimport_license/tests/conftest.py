from __future__ import annotations

from datetime import UTC, datetime

import pytest

from facturo_prestaimport_license.client import Shop
from facturo_prestaimport_license.signing import KeyEntry, Keyring, load_private_key

# Fixed seeds so that failures are reproducible; they sign nothing outside the tests.
SEED_A = bytes(range(32))
SEED_B = bytes(range(32, 64))


@pytest.fixture
def now() -> datetime:
    return datetime(2026, 7, 1, 10, 0, tzinfo=UTC)


@pytest.fixture
def keyring() -> Keyring:
    return Keyring([KeyEntry.from_private_key("2026-01", load_private_key(SEED_A))], "2026-01")


@pytest.fixture
def next_key() -> KeyEntry:
    return KeyEntry.from_private_key("2026-07", load_private_key(SEED_B))


@pytest.fixture
def shop() -> Shop:
    return Shop(platform="prestashop", url="https://www.example-shop.com/")


@pytest.fixture
def other_shop() -> Shop:
    return Shop(platform="prestashop", url="https://other-shop.example/")


# --- the wired plugin ------------------------------------------------------------------------

from collections.abc import Callable, Iterator  # noqa: E402

from facturo.plugin import Context  # noqa: E402
from facturo.testing import Clock, serve_in_thread, stop_server  # noqa: E402
from facturo_prestaimport_license.testing import T0, Live  # noqa: E402


@pytest.fixture
def lctx(make_context: Callable[..., Context], clock: Clock) -> Context:
    """A context with the licence plugin enabled and the clock at T0."""
    clock.set(T0)
    return make_context(plugins=("prestaimport_license",))


@pytest.fixture
def live(lctx: Context) -> Iterator[Live]:
    """The app served over real HTTP, with a client."""
    import httpx

    from facturo.web.app import create_app

    app = create_app(lctx)
    server = serve_in_thread(app)
    with httpx.Client(base_url=server.url, timeout=10) as client:
        yield Live(lctx, client, app)
    stop_server(server)
