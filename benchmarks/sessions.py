"""What a server-side session costs a request: the same page (the client login form) served
through uvicorn with and without a session cookie, interleaved in the same run. With a cookie
the guard does one indexed read of the session joined to its customer (the last-seen time is
written at most once a minute).

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
from facturo.accounts.sessions import open_session
from facturo.bootstrap import create_context, upgrade_database
from facturo.config import settings_from_mapping
from facturo.testing import base_settings_mapping, logged_in_cookies, serve_in_thread, stop_server
from facturo.web.app import create_app


def once(client: httpx.Client, path: str) -> float:
    started = time.perf_counter()
    response = client.get(path)
    elapsed = time.perf_counter() - started
    assert response.status_code == 200, (path, response.status_code)
    return elapsed


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
        cookies = logged_in_cookies(ctx, customer)
        with (
            httpx.Client(base_url=live.url, cookies=cookies) as client,
            httpx.Client(base_url=live.url) as anonymous,
        ):
            for _ in range(20):  # warm up
                once(client, "/client/account")
                once(anonymous, "/client/login")
            floor: list[float] = []
            with_session: list[float] = []
            for _ in range(args.requests):  # interleaved: the machine's load hits both alike
                floor.append(once(anonymous, "/client/login"))
                with_session.append(once(client, "/client/login"))
    finally:
        stop_server(live)
    f, d = statistics.median(floor), statistics.median(with_session)
    print(f"database: {url.split(':')[0]}; 5,000 other sessions in the table")
    print(f"login page, no session (floor): median {f * 1000:.2f} ms")
    print(f"login page, logged in: median {d * 1000:.2f} ms ({d / f:.2f}× the floor)")


if __name__ == "__main__":
    main()
