"""What a server-side session costs a request: the client dashboard served through uvicorn with
a session cookie (one indexed read of the session joined to its customer per request; the last-
seen time written at most once a minute), against the floor of the same app's public login
page, measured in the same run.

    .venv/bin/python benchmarks/sessions.py [--requests 400] [--database-url URL]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from facturo.accounts.customers import NewCustomer, create_customer
from facturo.accounts.sessions import find_live, open_session
from facturo.bootstrap import create_context, upgrade_database
from facturo.config import settings_from_mapping
from facturo.testing import base_settings_mapping, logged_in_cookies, serve_in_thread, stop_server
from facturo.web.app import create_app


def timed(client: httpx.Client, path: str, count: int) -> list[float]:
    times = []
    for _ in range(count):
        started = time.perf_counter()
        response = client.get(path)
        times.append(time.perf_counter() - started)
        assert response.status_code == 200, (path, response.status_code)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="facturo-bench-sessions-"))
    url = args.database_url or f"sqlite:///{folder / 'bench.db'}"
    ctx = create_context(settings_from_mapping(base_settings_mapping(folder, url)))
    upgrade_database(ctx)
    with ctx.db.transaction() as session:
        customer = create_customer(
            session,
            ctx,
            NewCustomer(
                email="bench@example.com",
                password="a long bench passphrase",
                name="B",
                country="ES",
            ),
            verified=True,
        )
        # Many other sessions in the table, as on a busy site.
        for _ in range(5000):
            open_session(session, ctx, customer, True)
    live = serve_in_thread(create_app(ctx))
    try:
        with httpx.Client(base_url=live.url, cookies=logged_in_cookies(ctx, customer)) as client:
            timed(client, "/client/", 20)  # warm up
            floor = timed(client, "/client/login", args.requests)
            dashboard = timed(client, "/client/", args.requests)
        token = open_session_token(ctx, customer)
        started = time.perf_counter()
        for _ in range(args.requests):
            with ctx.db.read_session() as session:
                assert find_live(session, ctx, "customer", token) is not None
        lookup = (time.perf_counter() - started) / args.requests
    finally:
        stop_server(live)
    f, d = statistics.median(floor), statistics.median(dashboard)
    print(f"database: {url.split(':')[0]}; 5,000 other sessions in the table")
    print(f"session lookup alone: {lookup * 1e6:.0f} µs")
    print(f"public login page (floor): median {f * 1000:.2f} ms")
    print(f"client dashboard with a session: median {d * 1000:.2f} ms ({d / f:.2f}× the floor)")


def open_session_token(ctx: object, customer: object) -> str:
    with ctx.db.transaction() as session:  # type: ignore[attr-defined]
        _row, token = open_session(session, ctx, customer, True)  # type: ignore[arg-type]
    return token


if __name__ == "__main__":
    main()
