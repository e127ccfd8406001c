"""Starting the web server: uvicorn on uvloop and httptools, in one or more processes.

``facturo serve`` and the benchmarks start the server through :func:`run_server` alone, so
what is measured is what runs. The app is given as an import string naming a factory
(``module:function``), which every web process calls for itself: that is what lets uvicorn
start more than one process.

The stack was chosen by measurement (benchmarks/README.md, "Web server"): uvicorn with the
pure-Python h11 parser stalls about 44 ms per request when it runs two processes; uvloop with
httptools served a bare Starlette endpoint fastest of the candidates (granian included). Both
are named explicitly so that a missing one fails at start instead of falling back to h11.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

#: The Facturo app for a web process (see :func:`app_from_environment`).
FACTURO_APP = "facturo.web.server:app_from_environment"
LOOP = "uvloop"
HTTP = "httptools"
#: Seconds a web process may take to answer the supervisor's ping before it is killed and
#: replaced. uvicorn's 5 s killed processes that were only starved of CPU (starting up on a busy
#: machine) and then killed their replacements the same way.
HEALTHCHECK_SECONDS = 30


@dataclass(frozen=True)
class ServerOptions:
    """Where and how to serve: address, number of web processes, logging."""

    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    access_log: bool = True
    log_level: str = "info"


def uvicorn_arguments(app: str, options: ServerOptions, app_dir: str = "") -> dict[str, Any]:
    """The keyword arguments of ``uvicorn.run`` for the factory ``app`` under ``options``."""
    if options.workers < 1:
        raise ValueError("workers must be at least 1")
    return {
        "app": app,
        "factory": True,
        "host": options.host,
        "port": options.port,
        "workers": options.workers,
        "timeout_worker_healthcheck": HEALTHCHECK_SECONDS,
        "loop": LOOP,
        "http": HTTP,
        "lifespan": "on",
        # Forwarding headers are read by the app itself, from `trusted_proxies` only.
        "proxy_headers": False,
        "access_log": options.access_log,
        "log_level": options.log_level,
        "app_dir": app_dir,
    }


def run_server(
    app: str,
    options: ServerOptions,
    *,
    app_dir: str = "",
    background: Callable[[threading.Event], None] | None = None,
) -> None:
    """Serve the app factory ``app`` (``"module:function"``) until stopped (SIGINT/SIGTERM).

    ``options.workers`` processes each build their own app by calling the factory. When
    ``background`` is given it runs in a thread of this process (the supervisor when there are
    several web processes) with an event that is set when the server has stopped; this function
    returns once that thread has ended (or 10 s have passed).
    """
    import uvicorn

    stop = threading.Event()
    thread = None
    if background is not None:
        thread = threading.Thread(
            target=background, args=(stop,), daemon=True, name="facturo-background"
        )
        thread.start()
    try:
        uvicorn.run(**uvicorn_arguments(app, options, app_dir))
    finally:
        stop.set()
        if thread is not None:
            thread.join(timeout=10)


def app_from_environment() -> Any:
    """The Facturo app of one web process: settings from ``$FACTURO_CONFIG`` (or
    ./facturo.toml) and ``FACTURO_*`` variables, without an embedded worker (the serving
    command runs that once, in its own process)."""
    from facturo.bootstrap import create_context
    from facturo.config import load_settings
    from facturo.web.app import create_app

    app = create_app(create_context(load_settings()), embedded_worker=False)
    freeze_startup_heap()
    return app


def freeze_startup_heap() -> None:
    """Collect the garbage of start-up, then move every object still alive (modules, the ORM's
    metadata, plugins, routes, templates: ~160,000 in a web process) out of the garbage
    collector's generations (``gc.freeze``) for the life of the process. The collector's full
    passes, triggered as objects survive requests (the validation log's queued rows, kept
    keys), then walk what requests made instead of the whole start-up heap again: measured on
    a licence validation, 35–50 k instructions less per request (of ~1,120 k). Frozen objects
    are still freed when their last reference goes, but a cycle among them never is: this is
    for web processes, built once, not for every app built (the tests build hundreds)."""
    gc.collect()
    gc.freeze()
