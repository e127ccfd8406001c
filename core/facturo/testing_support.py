"""Servers and helpers for Facturo tests: a real SMTP sink, the app under uvicorn in a
thread, real-thread concurrency and the browser suite's Chromium (re-exported by
:mod:`facturo.testing`)."""

from __future__ import annotations

import asyncio
import functools
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.util import LRUCache


class SmtpSink:
    """Messages received by the test SMTP server (aiosmtpd)."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.envelopes.append(envelope)
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        return "250 OK"

    def wait_for(self, count: int, timeout: float = 10.0) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.messages


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class SmtpServer:
    host: str
    port: int
    sink: SmtpSink
    controller: Any

    def settings(self) -> dict[str, Any]:
        """Overrides for ``make_context`` that point the mailer at this server."""
        return {"smtp.host": self.host, "smtp.port": self.port, "smtp.security": "none"}

    def stop(self) -> None:
        self.controller.stop()

    def start(self) -> None:
        """Bring a stopped server back on the same port. A Controller's loop is closed once
        stopped, so a new one is made around the same sink."""
        self.controller = smtp_controller(self.sink, self.host, self.port)
        self.controller.start()


# aiosmtpd waits 5 s for its own server to answer; a loaded CI machine can take longer.
SMTP_READY_SECONDS = 30.0


def smtp_controller(sink: Any, host: str, port: int) -> Any:
    """An aiosmtpd Controller for ``sink`` on ``host:port`` that tolerates a slow start."""
    from aiosmtpd.controller import Controller

    return Controller(sink, hostname=host, port=port, ready_timeout=SMTP_READY_SECONDS)


# --- the app under uvicorn -----------------------------------------------------------------


@dataclass
class LiveServer:
    url: str
    server: Any
    thread: threading.Thread


def serve_in_thread(app: Any, port: int | None = None, **options: Any) -> LiveServer:
    """Run ``app`` under uvicorn on ``port`` (default: a free one) in a thread; stop it with
    ``stop_server``. ``options`` go to ``uvicorn.Config`` (e.g. ``ssl_certfile`` for HTTPS,
    ``ssl_ca_certs`` and ``ssl_cert_reqs`` for client certificates)."""
    import uvicorn

    port = port or free_port()
    options.setdefault("proxy_headers", False)  # the app reads forwarding headers itself
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", lifespan="on", **options
    )
    server = _prompt_server_class()(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.002)
    if not server.started:
        raise RuntimeError("uvicorn did not start")
    scheme = "https" if options.get("ssl_certfile") else "http"
    return LiveServer(f"{scheme}://127.0.0.1:{port}", server, thread)


def stop_server(live: LiveServer) -> None:
    live.server.should_exit = True
    live.thread.join(timeout=10)


@functools.cache
def _prompt_server_class() -> type[Any]:
    import uvicorn

    class PromptServer(uvicorn.Server):
        """uvicorn as a test needs it: it notices ``should_exit`` within 10 ms instead of
        100 ms, and stops without uvicorn's fixed 100 ms grace before closing connections
        (the suite starts and stops hundreds of servers)."""

        async def main_loop(self) -> None:
            counter = 0
            while not await self.on_tick(counter):
                counter = (counter + 1) % 864000
                await asyncio.sleep(0.01)

        async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
            for server in self.servers:
                server.close()
            for connection in list(self.server_state.connections):
                connection.shutdown()
            deadline = time.monotonic() + 5
            while (
                self.server_state.connections or self.server_state.tasks
            ) and time.monotonic() < deadline:
                await asyncio.sleep(0.005)
            for server in self.servers:
                await server.wait_closed()
            await self.lifespan.shutdown()

    return PromptServer


def in_threads(work: list[Callable[[], Any]], timeout: float = 120) -> list[Any]:
    """Run every callable in its own thread, released together by a barrier; return their
    results in order and re-raise the first error (for real-concurrency tests)."""
    barrier = threading.Barrier(len(work))
    results: list[Any] = [None] * len(work)
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            barrier.wait()
            results[index] = work[index]()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(work))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    if errors:
        raise errors[0]
    return results


# --- the browser suite ---------------------------------------------------------------------

#: Debian's Chromium (Playwright never downloads a browser). Its old headless mode,
#: ``chromium-headless-shell``, when installed: the same Blink without the full browser
#: around it (the axe and client browser tests took a sixth less CPU, all processes
#: counted). Otherwise ``chromium --headless=new``.
HEADLESS_SHELL_PATH = "/usr/bin/chromium-headless-shell"
CHROMIUM_PATH = HEADLESS_SHELL_PATH if Path(HEADLESS_SHELL_PATH).exists() else "/usr/bin/chromium"
CHROMIUM_ARGS = (
    *(() if CHROMIUM_PATH == HEADLESS_SHELL_PATH else ("--headless=new",)),
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)
SCREENSHOTS_DIR = Path("test-artifacts") / "screenshots"
DOCUMENTS_DIR = Path("test-artifacts") / "documents"


def launch_chromium(playwright: Any) -> Any:
    """Launch Debian's Chromium headless through a Playwright (sync) instance."""
    return playwright.chromium.launch(executable_path=CHROMIUM_PATH, args=list(CHROMIUM_ARGS))


def screenshot_path(name: str) -> str:
    """Where a browser test saves the screenshot ``name`` (a test artifact)."""
    SCREENSHOTS_DIR.mkdir(parents=True, exist_ok=True)
    return str(SCREENSHOTS_DIR / f"{name}.png")


def save_screenshot(page: Any, path: str, full_page: bool = True) -> None:
    """Save a Playwright page's screenshot at ``path``, trying once more after a moment when
    Chromium refuses the capture ("Unable to capture screenshot": an intermittent refusal of
    full-page captures by the headless browser, not a fault of the page)."""
    try:
        page.screenshot(path=path, full_page=full_page)
    except Exception as error:  # Playwright's Error; this module does not import Playwright
        if "Unable to capture screenshot" not in str(error):
            raise
        page.wait_for_timeout(250)
        page.screenshot(path=path, full_page=full_page)


def save_document_artifact(name: str, pdf: bytes) -> Path:
    """Keep a rendered PDF as ``test-artifacts/documents/<name>.pdf`` for people to look at."""
    DOCUMENTS_DIR.mkdir(parents=True, exist_ok=True)
    path = DOCUMENTS_DIR / f"{name}.pdf"
    path.write_bytes(pdf)
    return path


class InProcessTransport(httpx.BaseTransport):
    """A synchronous ``httpx`` transport that calls an ASGI app in-process through
    ``httpx.ASGITransport`` on its own event loop: no server, no port, no thread. The app's
    lifespan (the embedded worker) is not run."""

    def __init__(self, app: Any, raise_app_exceptions: bool = False) -> None:
        self._runner = asyncio.Runner()
        # Like a real server, an unhandled error answers 500 (raise it with True).
        self._asgi = httpx.ASGITransport(app=app, raise_app_exceptions=raise_app_exceptions)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        async def call() -> httpx.Response:
            await request.aread()
            response = await self._asgi.handle_async_request(request)
            content = await response.aread()
            return httpx.Response(response.status_code, headers=response.headers, content=content)

        return self._runner.run(call())

    def close(self) -> None:
        self._runner.close()


class AppClient(httpx.Client):
    """An ``httpx.Client`` whose requests go to ``app`` in-process (see
    :class:`InProcessTransport`): for HTTP tests that need no real server."""

    def __init__(self, app: Any, base_url: str = "http://testserver", **options: Any) -> None:
        super().__init__(transport=InProcessTransport(app), base_url=base_url, **options)


def share_default_tls_context() -> None:
    """Every httpx client of the test process shares one default TLS context (one per value
    of ``SSL_CERT_FILE`` and ``SSL_CERT_DIR``): httpx builds one per client, loading the CA
    bundle each time (20 to 150 ms), and the tests make thousands of clients, most of them
    for plain-HTTP servers."""
    import httpx._transports.default as transports

    build = getattr(transports, "create_ssl_context")  # noqa: B009 - not exported, by design
    if getattr(build, "facturo_shared", False):
        return

    @functools.cache
    def default(_cafile: str | None, _capath: str | None) -> Any:
        return build()  # reads those two variables itself

    def shared(verify: Any = True, cert: Any = None, trust_env: bool = True) -> Any:
        if verify is True and cert is None and trust_env:
            return default(os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR"))
        return build(verify=verify, cert=cert, trust_env=trust_env)

    shared.facturo_shared = True  # type: ignore[attr-defined]
    setattr(transports, "create_ssl_context", shared)  # noqa: B010


class SharedStatementCache(LRUCache[Any, Any]):
    """A cache of compiled SQL statements that every engine of one kind shares.

    SQLAlchemy keys its caches by the dialect *object*, and every test makes a new engine, so
    each test compiled the same statements again (a tenth of the suite's CPU). Here the key
    holds what the compiled SQL depends on instead: the dialect's class, the server's version
    and the parameter style. For tests, whose engines of one database differ only by URL."""

    def get(self, key: Any, default: Any = None) -> Any:
        return super().get(_of_kind(key), default)

    def __getitem__(self, key: Any) -> Any:
        return super().__getitem__(_of_kind(key))

    def __setitem__(self, key: Any, value: Any) -> None:
        super().__setitem__(_of_kind(key), value)


def _of_kind(key: tuple[Any, ...]) -> tuple[Any, ...]:
    dialect = key[0]
    kind = (type(dialect), dialect.server_version_info, dialect.paramstyle)
    return (kind, *key[1:])


_STATEMENTS = SharedStatementCache(5000)


def share_compiled_statements(*engines: Any) -> None:
    """Let ``engines`` (and the ORM's flushes) reuse statements compiled by earlier tests'
    engines. The ORM keeps its own cache per mapper, keyed the same way."""
    for engine in engines:
        engine._compiled_cache = _STATEMENTS
    from facturo.db.base import Base

    for mapper in Base.registry.mappers:  # plugins' models too, once each is imported
        if not isinstance(mapper.__dict__.get("_compiled_cache"), SharedStatementCache):
            mapper._compiled_cache = SharedStatementCache(mapper._compiled_cache_size)
