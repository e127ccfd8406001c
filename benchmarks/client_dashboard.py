"""Benchmark of the logged-in client dashboard (``GET /client/``) against a bare Jinja page.

Prepares the demo installation (every bundled plugin, the demo catalog, a year of trade and
the demo customer with their services, documents, licences and tickets; SQLite in a temporary
folder, or a PostgreSQL database that is dropped and created afresh), logs the demo customer in
(a real session row, its signed cookie) after giving them --documents documents (four fifths
paid) and serves the app with ``facturo serve --workers N``
itself. The floor is a bare Starlette app rendering a Jinja template (autoescaped, a loop over
table rows) to a page of the same size as the dashboard, started by the same function
(:func:`facturo.web.server.run_server`) with the same options. wrk loads both from another
process, alternating floor and dashboard for several rounds so that the machine's load falls on
both alike.

    .venv/bin/python benchmarks/client_dashboard.py [--workers 2] [--rounds 3] [--duration 8]
        [--connections 16] [--database-url URL]

It checks that the floor is plausible (else the measurement is broken), that every dashboard
answer was a 200 and that the dashboard is the real page of the logged-in customer, and prints
the ratio to the floor and whether the target (at least half the floor's throughput) is met.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

from license_validate import (
    CONFIG_FILE,
    Figures,
    free_port,
    recreate_postgres,
    start,
    stop,
    tree_cpu_seconds,
    wrk_run,
)

HERE = Path(__file__).resolve().parent
PATH = "/client/"
TARGET_RATIO = 0.5
#: A stalling server (h11 with 2 processes) answers ~360 req/s whatever the page; a working one
#: serves a small Jinja page at thousands per second even on a busy 2-core machine.
PLAUSIBLE_FLOOR = 500.0
SIZE_VARIABLE = "FACTURO_BENCH_PAGE_BYTES"

FLOOR_TEMPLATE = (
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{{ title }}</title>'
    '<link rel="stylesheet" href="/static/app.css"></head><body><header><nav>'
    '{% for item in menu %}<a href="{{ item.href }}">{{ item.label }}</a>{% endfor %}'
    "</nav></header><main><h1>{{ title }}</h1><table><thead><tr><th>Reference</th><th>Date</th>"
    "<th>Status</th><th>Amount</th></tr></thead><tbody>"
    '{% for row in rows %}<tr><td><a href="/client/documents/{{ row.id }}">{{ row.ref }}</a>'
    "</td><td>{{ row.date }}</td><td>{{ row.status }}</td><td>{{ row.amount }} €</td></tr>"
    "{% endfor %}</tbody></table></main><footer>{{ footer }}</footer></body></html>"
)


def floor_rows(count: int) -> list[dict[str, Any]]:
    """Table rows for the floor page."""
    return [
        {
            "id": number,
            "ref": f"F2026-{number:06d}",
            "date": "2026-11-30",
            "status": "Paid & settled" if number % 3 else "Unpaid <due>",
            "amount": f"{149 + number % 7}.00",
        }
        for number in range(count)
    ]


def floor_page(count: int) -> tuple[Any, dict[str, Any]]:
    """The floor's compiled template and its values with ``count`` rows."""
    from jinja2 import DictLoader, Environment

    environment = Environment(loader=DictLoader({"page.html": FLOOR_TEMPLATE}), autoescape=True)
    values = {
        "title": "Dashboard",
        "menu": [{"href": f"/client/{n}", "label": f"Item {n}"} for n in range(8)],
        "rows": floor_rows(count),
        "footer": "Facturo & friends",
    }
    return environment.get_template("page.html"), values


def rows_for(size: int) -> int:
    """How many rows make the floor page ``size`` bytes long (to a row)."""
    template, values = floor_page(0)
    empty = len(template.render(values).encode("utf-8"))
    template, values = floor_page(100)
    per_row = (len(template.render(values).encode("utf-8")) - empty) / 100
    return max(0, round((size - empty) / per_row))


def bare_factory() -> Any:
    """The floor: a bare Starlette app rendering the Jinja page on every request."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import HTMLResponse
    from starlette.routing import Route

    template, values = floor_page(rows_for(int(os.environ[SIZE_VARIABLE])))

    async def endpoint(request: Request) -> HTMLResponse:
        return HTMLResponse(template.render(values))

    return Starlette(routes=[Route(PATH, endpoint, methods=["GET"])])


# --- preparation -----------------------------------------------------------------------------


def prepare(folder: Path, args: argparse.Namespace) -> str:
    """Write facturo.toml, migrate and seed the demo; return the demo customer's cookie header."""
    import tomli_w
    from sqlalchemy import select

    from facturo.bootstrap import create_context, upgrade_database
    from facturo.config import settings_from_mapping
    from facturo.demo import DEMO_CUSTOMER, demo_settings_mapping, seed
    from facturo.models import Customer
    from facturo.testing import logged_in_cookies

    raw = demo_settings_mapping(folder, "http://127.0.0.1:8000")
    if args.database_url:
        recreate_postgres(args.database_url)
        raw["database_url"] = args.database_url
    (folder / CONFIG_FILE).write_bytes(tomli_w.dumps(raw).encode("utf-8"))
    ctx = create_context(settings_from_mapping(raw))
    upgrade_database(ctx)
    seed(ctx)
    from decimal import Decimal

    from facturo.billing.documents import LineSpec, create_proforma
    from facturo.testing_flows import drain, pay

    with ctx.db.transaction() as session:
        customer = session.scalars(select(Customer).where(Customer.email == DEMO_CUSTOMER[0])).one()
        ids = [
            create_proforma(
                session,
                ctx,
                customer,
                [LineSpec(f"Monthly licence {number}", Decimal("15.00"))],
                notify=False,
            ).id
            for number in range(args.documents)
        ]
    for document_id in ids[: len(ids) * 4 // 5]:  # most paid (invoices), the newest unpaid
        pay(ctx, document_id, reference=f"bench-{document_id}")
    # Deliver the emails and events now: the server's embedded worker would otherwise render
    # their PDFs while the page is measured (and its CPU would count as the page's).
    drain(ctx, rounds=50, allow_failures=True)
    cookies = logged_in_cookies(ctx, customer)
    ctx.db.dispose()
    return "; ".join(f"{name}={value}" for name, value in cookies.items())


def facturo_command(folder: Path, port: int, workers: int) -> list[str]:
    """``facturo serve`` exactly as an operator runs it (access log off)."""
    executable = Path(sys.executable).with_name("facturo")
    return [
        str(executable),
        "--config",
        str(folder / CONFIG_FILE),
        "serve",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--no-access-log",
    ]


def bare_command(port: int, workers: int) -> list[str]:
    """The bare app through the function ``facturo serve`` calls, with the same options."""
    code = (
        "import sys\n"
        "from facturo.web.server import ServerOptions, run_server\n"
        "run_server(sys.argv[1], ServerOptions(port=int(sys.argv[2]), workers=int(sys.argv[3]),"
        " access_log=False), app_dir=sys.argv[4])\n"
    )
    return [
        sys.executable,
        "-c",
        code,
        "client_dashboard:bare_factory",
        str(port),
        str(workers),
    ] + [str(HERE)]


def fetch(port: int, cookie: str) -> bytes:
    """One dashboard (or floor) page by hand; its body."""
    import httpx

    response = httpx.get(f"http://127.0.0.1:{port}{PATH}", headers={"Cookie": cookie})
    if response.status_code != 200:
        raise RuntimeError(f"GET {PATH} answered {response.status_code}")
    return response.content


def measured(
    server: Any, port: int, cookie: str, duration: int, args: argparse.Namespace
) -> Figures:
    """wrk for ``duration`` seconds, with the server's CPU per answer."""
    before = tree_cpu_seconds(server.pid)
    found = wrk_run(port, PATH, duration, args, ["-H", f"Cookie: {cookie}"])
    spent = tree_cpu_seconds(server.pid) - before
    if found.requests:
        found.cpu_us = spent / found.requests * 1e6
    return found


def measure_round(
    folder: Path, cookie: str, size: int, args: argparse.Namespace
) -> tuple[Figures, Figures, int]:
    """One floor and one dashboard measurement, and the floor page's size."""
    port = free_port()
    os.environ[SIZE_VARIABLE] = str(size)
    server = start(bare_command(port, args.workers), port, folder / "bare.log")
    try:
        floor_size = len(fetch(port, ""))
        wrk_run(port, PATH, 2, args, [])  # warm-up
        bare = measured(server, port, "", args.duration, args)
    finally:
        stop(server)
    port = free_port()
    server = start(facturo_command(folder, port, args.workers), port, folder / "serve.log")
    try:
        wrk_run(port, PATH, 2, args, ["-H", f"Cookie: {cookie}"])  # warm-up
        page = measured(server, port, cookie, args.duration, args)
    finally:
        stop(server)
    return bare, page, floor_size


def dashboard_size(folder: Path, cookie: str, args: argparse.Namespace) -> int:
    """The dashboard's size in bytes, checked to be the demo customer's real page."""
    port = free_port()
    server = start(facturo_command(folder, port, args.workers), port, folder / "serve.log")
    try:
        body = fetch(port, cookie)
    finally:
        stop(server)
    text = body.decode("utf-8")
    if "/client/logout" not in text or "/client/documents/" not in text:
        raise RuntimeError(
            "the dashboard did not come back as the logged-in customer's page:\n" + text[:3000]
        )
    return len(body)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2, help="web processes (facturo serve)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=8, help="seconds per measurement")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--documents", type=int, default=60, help="the customer's documents")
    parser.add_argument("--database-url", default="", help="PostgreSQL URL (recreated)")
    parser.add_argument("--min-floor", type=float, default=PLAUSIBLE_FLOOR)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is not installed (apt-get install wrk)", file=sys.stderr)
        return 1
    folder = Path(tempfile.mkdtemp(prefix="facturo-bench-dashboard-"))
    try:
        cookie = prepare(folder, args)
        size = dashboard_size(folder, cookie, args)
        rounds = []
        for number in range(args.rounds):
            bare, page, floor_size = measure_round(folder, cookie, size, args)
            rounds.append((bare, page))
            print(
                f"round {number + 1}: bare Jinja {bare.rps:,.0f} req/s ({floor_size:,} bytes),"
                f" dashboard {page.rps:,.0f} req/s ({size:,} bytes),"
                f" ratio {page.rps / bare.rps if bare.rps else 0:.3f}",
                flush=True,
            )
        report(rounds, args)
        problems = [
            line
            for line in (folder / "serve.log").read_text(errors="replace").splitlines()
            if "Traceback" in line or "ERROR" in line
        ]
        if problems:
            print(f"\nthe server logged {len(problems)} problem(s), first: {problems[0]}")
        return verdict(rounds, args)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def report(rounds: list[tuple[Figures, Figures]], args: argparse.Namespace) -> None:
    database = "PostgreSQL" if args.database_url else "SQLite"
    print(
        f"\nwrk -t{args.threads} -c{args.connections} -d{args.duration}s x {args.rounds} rounds;"
        f" facturo serve --workers {args.workers} (uvicorn, uvloop, httptools); {database};"
        f" demo data, logged in as the demo customer with {args.documents} documents; load average {os.getloadavg()[0]:.1f}"
    )
    print(
        f"{'round':<7}{'endpoint':<11}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}"
        f"{'CPU µs':>9}{'non-2xx':>9}  errors"
    )
    for number, (bare, page) in enumerate(rounds, 1):
        for name, found in (("bare", bare), ("dashboard", page)):
            print(
                f"{number:<7}{name:<11}{found.rps:>10,.0f}{found.p50_ms:>9.2f}{found.p99_ms:>9.2f}"
                f"{found.cpu_us:>9.0f}{found.non2xx:>9}  {found.errors}"
            )


def verdict(rounds: list[tuple[Figures, Figures]], args: argparse.Namespace) -> int:
    floors = [bare.rps for bare, _ in rounds]
    rates = [page.rps for _, page in rounds]
    ratios = [p / b for b, p in zip(floors, rates, strict=True)]
    cpu_ratios = [b.cpu_us / p.cpu_us for b, p in rounds]
    print(
        f"\nfloor (bare Jinja page): median {statistics.median(floors):,.0f}"
        f" (min {min(floors):,.0f}, max {max(floors):,.0f}) req/s"
    )
    print(
        f"dashboard:               median {statistics.median(rates):,.0f}"
        f" (min {min(rates):,.0f}, max {max(rates):,.0f}) req/s"
    )
    print(
        f"ratio to the floor:      median {statistics.median(ratios):.3f}"
        f" (min {min(ratios):.3f}, max {max(ratios):.3f}); target >= {TARGET_RATIO:.3f}"
    )
    print(
        f"server CPU per answer, floor/dashboard: median {statistics.median(cpu_ratios):.3f}"
        f" (min {min(cpu_ratios):.3f}, max {max(cpu_ratios):.3f})"
    )
    if min(floors) < args.min_floor:
        print(
            f"MEASUREMENT BROKEN: the bare Jinja page served {min(floors):,.0f} req/s, below the"
            f" {args.min_floor:,.0f} a server that does not stall reaches here; the figures"
            " above do not measure the application"
        )
        return 2
    errors = any(p.non2xx or p.errors != "none" for _, p in rounds)
    if errors:
        print("the dashboard answered errors (non-2xx or socket errors): see the table")
    met = statistics.median(ratios) >= TARGET_RATIO and not errors
    print(f"target {'met' if met else 'missed'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
