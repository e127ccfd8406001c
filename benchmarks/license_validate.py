"""Benchmark of POST /api/v1/licenses/validate (plugin prestaimport_license) against its floor.

Prepares a database (the demo catalog and customer plus N licences with three supplier add-ons
each; SQLite in a temporary folder unless --database-url names a PostgreSQL database, which is
dropped and created afresh) and serves the app with ``facturo serve --workers N`` itself. The
floor is a bare Starlette JSON endpoint on the same path, started by the same function
(:func:`facturo.web.server.run_server`) with the same options. wrk loads both from another
process with the same Lua script (JSON bodies rotating over the N keys), alternating floor and
validation for several rounds so that load from other programs falls on both alike.

    .venv/bin/python benchmarks/license_validate.py [--workers 2] [--rounds 3] [--duration 10]
        [--connections 16] [--database-url URL] [--profile DIR]

Both rate limits stay on (with ceilings the benchmark does not reach: every request comes from
127.0.0.1) and the validation log is written in batches (``log_batch_size``, default 2000, so at most half a second of rows). The
script checks that the floor is plausible for the machine (else the measurement is broken: a
stalling server, or a machine too busy to measure), that every answered validation left a log
row, and prints the ratio to the floor and whether the target is met.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from bench_db import recreate_postgres

HERE = Path(__file__).resolve().parent
LICENCES = 500
CONFIG_FILE = "facturo.toml"
PATH = "/api/v1/licenses/validate"
TARGET_RATIO = 1 / 3
TARGET_P99_MS = 10.0
#: Below this the bare endpoint is not measuring Starlette (h11 with 2 workers gives ~360).
PLAUSIBLE_FLOOR = 8_000.0


def bare_factory() -> Any:
    """A bare Starlette app answering a small JSON object on the validation path."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def endpoint(request: Request) -> JSONResponse:
        body = await request.body()
        return JSONResponse({"ok": True, "size": len(body)})

    return Starlette(routes=[Route(PATH, endpoint, methods=["POST"])])


# --- preparation -----------------------------------------------------------------------------


def prepare(folder: Path, args: argparse.Namespace) -> list[dict[str, Any]]:
    """Write facturo.toml, migrate and seed the database; return one request body per licence."""
    import tomli_w
    from sqlalchemy import select

    from facturo.bootstrap import create_context, upgrade_database
    from facturo.config import settings_from_mapping
    from facturo.demo import demo_settings_mapping, seed
    from facturo.models import Customer
    from facturo_prestaimport_license.keys import format_key, key_from_bits
    from facturo_prestaimport_license.models import Addon
    from facturo_prestaimport_license.service import create_licence, ensure_supplier
    from facturo_prestaimport_license.settings import demo_settings

    raw = demo_settings_mapping(folder, "http://127.0.0.1:8000")
    if args.database_url:
        recreate_postgres(args.database_url)
        raw["database_url"] = args.database_url
    table = dict(demo_settings()["settings"])
    table.update(
        rate_limit_ip=args.ip_limit, rate_limit_key=args.key_limit, log_batch_size=args.log_batch
    )
    raw["plugins"] = {"enabled": ["prestaimport_license"]}
    raw["plugin"] = {"prestaimport_license": table}
    (folder / CONFIG_FILE).write_bytes(tomli_w.dumps(raw).encode("utf-8"))
    ctx = create_context(settings_from_mapping(raw))
    upgrade_database(ctx)
    seed(ctx)
    now = ctx.now()
    bodies = []
    with ctx.db.transaction() as session:
        customer = session.scalars(select(Customer)).first()
        assert customer is not None
        suppliers = [ensure_supplier(session, code, code.title()) for code in ("a", "b", "c")]
        for number in range(args.licences):
            key = key_from_bits(10**30 + number)
            licence = create_licence(session, ctx, customer.id, None, key=key)
            for index, supplier in enumerate(suppliers):
                session.add(
                    Addon(
                        licence_id=licence.id,
                        supplier_id=supplier.id,
                        active=index != 2,
                        starts_at=now - timedelta(days=30),
                        expires_at=now + timedelta(days=300 if index == 0 else -3),
                        updated_at=now,
                    )
                )
            bodies.append(
                {
                    "key": format_key(key),
                    "shop": {"platform": "prestashop", "url": f"https://shop-{number}.example"},
                    "install_id": f"install-{number}",
                    "nonce": f"nonce-{number}",
                    "require_addons": ["a"],
                }
            )
    ctx.db.dispose()
    return bodies


def lua_script(bodies: list[dict[str, Any]]) -> str:
    """A wrk script posting ``bodies`` in turn."""
    quoted = ",\n".join("[[" + json.dumps(b) + "]]" for b in bodies)
    return f"""
local bodies = {{
{quoted}
}}
local i = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  i = i + 1
  return wrk.format(nil, "{PATH}", nil, bodies[(i % #bodies) + 1])
end
"""


# --- serving ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def facturo_command(folder: Path, port: int, workers: int) -> list[str]:
    """``facturo serve`` exactly as an operator runs it (access log off, see the README)."""
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
        "license_validate:bare_factory",
        str(port),
        str(workers),
    ] + [str(HERE)]


def start(command: list[str], port: int, output: Path) -> subprocess.Popen[bytes]:
    """Start a server (its output appended to ``output``) and wait until it accepts
    connections."""
    with output.open("ab") as sink:
        process = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(output.read_text(errors="replace"))
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return process
        except OSError:
            time.sleep(0.2)
    stop(process)
    raise RuntimeError(f"{command[0]} did not start")


def stop(process: subprocess.Popen[bytes], timeout: float = 120.0) -> None:
    """Stop a server (SIGTERM) and wait until it and its web processes have exited, so that
    their last log rows are written; kill what is left after ``timeout`` seconds, and say so."""
    family = [process.pid, *descendants(process.pid)]
    process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(Path(f"/proc/{pid}").exists() for pid in family):
        process.poll()  # reap the supervisor
        time.sleep(0.1)
    left = [pid for pid in family if Path(f"/proc/{pid}").exists()]
    for pid in left:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    process.wait()
    if left:
        print(f"warning: the server did not stop within {timeout:.0f} s; killed {left}")


def descendants(pid: int) -> list[int]:
    found, pending = [], child_pids(pid)
    while pending:
        current = pending.pop()
        found.append(current)
        pending.extend(child_pids(current))
    return found


def child_pids(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def tree_cpu_seconds(pid: int) -> float:
    """User plus system CPU seconds of a process and all its descendants (Linux /proc)."""
    total, pending = 0.0, [pid]
    tick = os.sysconf("SC_CLK_TCK")
    while pending:
        current = pending.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
        pending.extend(child_pids(current))
    return total


def measured(
    server: subprocess.Popen[bytes], port: int, script: Path, args: argparse.Namespace
) -> Figures:
    """wrk for --duration seconds, with the server's CPU per answer."""
    before = tree_cpu_seconds(server.pid)
    found = wrk(port, script, args.duration, args)
    spent = tree_cpu_seconds(server.pid) - before
    if found.requests:
        found.cpu_us = spent / found.requests * 1e6
    return found


# --- measuring -------------------------------------------------------------------------------


@dataclass
class Figures:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    non2xx: int
    errors: str
    cpu_us: float = float("nan")  # CPU of the server's processes per answer (user + system)


#: A floor measurement, a validation measurement, and (log rows written, answers counted).
Round = tuple[Figures, Figures, tuple[int, int]]


def wrk(port: int, script: Path, duration: int, args: argparse.Namespace) -> Figures:
    """Run wrk against the validation path with the Lua script posting the bodies."""
    return wrk_run(port, PATH, duration, args, ["-s", str(script)])


def wrk_run(
    port: int, path: str, duration: int, args: argparse.Namespace, extra: list[str]
) -> Figures:
    """Run wrk (``args.threads``, ``args.connections``, ``extra`` options) against ``path``;
    parse requests/s, p50, p99 and errors."""
    out = subprocess.run(
        [
            "wrk",
            f"-t{args.threads}",
            f"-c{args.connections}",
            f"-d{duration}s",
            "--latency",
            *extra,
            f"http://127.0.0.1:{port}{path}",
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return Figures(
        rps=float(_grab(r"Requests/sec:\s+([\d.]+)", out) or 0),
        p50_ms=_ms(_grab(r"\s50%\s+([\d.]+\w+)", out)),
        p99_ms=_ms(_grab(r"\s99%\s+([\d.]+\w+)", out)),
        requests=int(_grab(r"(\d+) requests in", out) or 0),
        non2xx=int(_grab(r"Non-2xx or 3xx responses:\s+(\d+)", out) or 0),
        errors=_grab(r"Socket errors:(.*)", out).strip() or "none",
    )


def _grab(pattern: str, text: str) -> str:
    match = re.search(pattern, text)
    return match.group(1) if match else ""


def _ms(value: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s)", value)
    if not match:
        return float("nan")
    number, unit = float(match.group(1)), match.group(2)
    return number / 1000 if unit == "us" else number * 1000 if unit == "s" else number


def check_answer(port: int, body: dict[str, Any]) -> str:
    """One request by hand: the code the signed answer carries."""
    import base64

    import httpx

    response = httpx.post(f"http://127.0.0.1:{port}{PATH}", json=body)
    response.raise_for_status()
    payload = json.loads(base64.urlsafe_b64decode(response.json()["payload"] + "=="))
    return str(payload["code"])


def log_rows(folder: Path, url: str | None) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(
        url.replace("postgresql://", "postgresql+psycopg://", 1)
        if url
        else f"sqlite:///{folder / 'facturo.db'}"
    )
    with engine.connect() as connection:
        count = connection.execute(
            text("SELECT count(*) FROM prestaimport_license_validations")
        ).scalar()
    engine.dispose()
    return int(count or 0)


def measure_round(
    folder: Path, script: Path, bodies: list[dict[str, Any]], args: argparse.Namespace, first: bool
) -> Round:
    """One floor and one validation measurement; the log rows the validation server wrote."""
    port = free_port()
    server = start(bare_command(port, args.workers), port, folder / "bare.log")
    try:
        wrk(port, script, 2, args)  # warm-up
        bare = measured(server, port, script, args)
    finally:
        stop(server)
    rows_before = log_rows(folder, args.database_url)
    port = free_port()
    server = start(facturo_command(folder, port, args.workers), port, folder / "serve.log")
    answered = 0
    spies: list[subprocess.Popen[bytes]] = []
    try:
        warm = wrk(port, script, 3, args)  # warm-up: binds every shop in the first round
        answered += warm.requests - warm.non2xx
        if first:
            print(f"sample answer: {check_answer(port, bodies[0])}")
            answered += 1
            if args.profile:
                spies = start_profilers(child_pids(server.pid), args)
        validate = measured(server, port, script, args)
        answered += validate.requests - validate.non2xx
    finally:
        for spy in spies:
            spy.wait()
        stop(server)
    logged = log_rows(folder, args.database_url) - rows_before
    return bare, validate, (logged, answered)


def start_profilers(pids: list[int], args: argparse.Namespace) -> list[subprocess.Popen[bytes]]:
    """py-spy on each web process for the measured run (speedscope files in --profile)."""
    spy = Path(sys.executable).with_name("py-spy")
    if not spy.exists():
        print("py-spy is not installed (pip install py-spy): no profile", file=sys.stderr)
        return []
    target = Path(args.profile)
    target.mkdir(parents=True, exist_ok=True)
    return [
        subprocess.Popen(
            [str(spy), "record", "-p", str(pid), "-d", str(args.duration), "-r", "250"]
            + ["-f", "speedscope", "-o", str(target / f"validate-{pid}.json")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for pid in pids
    ]


def spread(values: list[float]) -> str:
    return (
        f"median {statistics.median(values):,.0f} (min {min(values):,.0f}, max {max(values):,.0f})"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2, help="web processes (facturo serve)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=10, help="seconds per measurement")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--licences", type=int, default=LICENCES)
    parser.add_argument("--log-batch", type=int, default=2000, help="log_batch_size")
    parser.add_argument("--ip-limit", default="100000000/hour", help="per-IP limit (off = none)")
    parser.add_argument("--key-limit", default="100000/hour", help="per-key limit (off = none)")
    parser.add_argument("--database-url", default="", help="PostgreSQL URL (recreated)")
    parser.add_argument("--min-floor", type=float, default=PLAUSIBLE_FLOOR)
    parser.add_argument("--profile", default="", help="folder for py-spy profiles (1st round)")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is not installed (apt-get install wrk)", file=sys.stderr)
        return 1
    folder = Path(tempfile.mkdtemp(prefix="facturo-bench-"))
    try:
        bodies = prepare(folder, args)
        script = folder / "validate.lua"
        script.write_text(lua_script(bodies), encoding="utf-8")
        rounds = []
        for number in range(args.rounds):
            bare, validate, log = measure_round(folder, script, bodies, args, number == 0)
            rounds.append((bare, validate, log))
            print(
                f"round {number + 1}: bare {bare.rps:,.0f} req/s, validate {validate.rps:,.0f}"
                f" req/s, ratio {validate.rps / bare.rps if bare.rps else 0:.3f}",
                flush=True,
            )
        report(rounds, args)
        problems = [
            line
            for line in (folder / "serve.log").read_text(errors="replace").splitlines()
            if "Traceback" in line or "ERROR" in line or "could not" in line
        ]
        if problems:
            print(f"\nthe server logged {len(problems)} problem(s), first: {problems[0]}")
        return verdict(rounds, args)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def report(rounds: list[Round], args: argparse.Namespace) -> None:
    database = "PostgreSQL" if args.database_url else "SQLite"
    print(
        f"\nwrk -t{args.threads} -c{args.connections} -d{args.duration}s x {args.rounds} rounds;"
        f" facturo serve --workers {args.workers} (uvicorn, uvloop, httptools); {database};"
        f" {args.licences} licences x 3 add-ons; log_batch_size {args.log_batch};"
        f" load average {os.getloadavg()[0]:.1f}"
    )
    print(
        f"{'round':<7}{'endpoint':<11}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'CPU µs':>12}"
        f"{'non-2xx':>9}  errors"
    )
    for number, (bare, validate, _) in enumerate(rounds, 1):
        for name, found in (("bare", bare), ("validate", validate)):
            print(
                f"{number:<7}{name:<11}{found.rps:>10,.0f}{found.p50_ms:>9.2f}{found.p99_ms:>9.2f}"
                f"{found.cpu_us:>12.0f}{found.non2xx:>9}  {found.errors}"
            )


def verdict(rounds: list[Round], args: argparse.Namespace) -> int:
    floors = [bare.rps for bare, _, _ in rounds]
    rates = [validate.rps for _, validate, _ in rounds]
    ratios = [v / b for b, v in zip(floors, rates, strict=True)]
    p99s = [validate.p99_ms for _, validate, _ in rounds]
    cpu_ratios = [b.cpu_us / v.cpu_us for b, v, _ in rounds]
    logged = sum(log[0] for _, _, log in rounds)
    answered = sum(log[1] for _, _, log in rounds)
    # wrk counts the answers it read; requests in flight when it stops are answered (and
    # logged) but not counted, so there may be a few more rows, never fewer.
    log_complete = logged >= answered
    print(f"\nfloor (bare Starlette): {spread(floors)} req/s")
    print(f"validate:               {spread(rates)} req/s")
    print(
        f"ratio to the floor:     median {statistics.median(ratios):.3f}"
        f" (min {min(ratios):.3f}, max {max(ratios):.3f}); target >= {TARGET_RATIO:.3f}"
    )
    print(
        f"server CPU per answer, floor/validate: median {statistics.median(cpu_ratios):.3f}"
        f" (min {min(cpu_ratios):.3f}, max {max(cpu_ratios):.3f}); what the ratio would be if"
        " the server alone used the cores"
    )
    print(
        f"validate p99:           median {statistics.median(p99s):.2f} ms"
        f" (min {min(p99s):.2f}, max {max(p99s):.2f}); target < {TARGET_P99_MS:.0f} ms"
    )
    print(
        f"validation log: {logged:,} rows for {answered:,} answers counted by wrk"
        f" ({'complete' if log_complete else 'ROWS MISSING'})"
    )
    if min(floors) < args.min_floor:
        print(
            f"MEASUREMENT BROKEN: the bare endpoint served {min(floors):,.0f} req/s, below the"
            f" {args.min_floor:,.0f} a server that does not stall reaches here; the figures"
            " above do not measure the application"
        )
        return 2
    errors = any(v.non2xx or v.errors != "none" for _, v, _ in rounds)
    met = (
        statistics.median(ratios) >= TARGET_RATIO
        and statistics.median(p99s) < TARGET_P99_MS
        and log_complete
        and not errors
    )
    print(f"target {'met' if met else 'missed'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
