"""Benchmark of POST /api/v1/licenses/validate (plugin prestaimport_license).

Prepares a demo-like SQLite database (the demo catalog and customer plus N licences with three
supplier add-ons each), serves the app under uvicorn with 2 workers, and loads it from another
process with wrk (a Lua script posting JSON bodies that rotate over the N keys). In the same run
it measures a bare Starlette JSON endpoint served the same way, for comparison.

    .venv/bin/python benchmarks/license_validate.py [--duration 15] [--connections 16] [--key-limit off]

Prints requests per second and p50/p99 latency for both. The per-IP limit is switched off
(every request comes from 127.0.0.1); the per-key limit stays on.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ENV_DIR = "FACTURO_BENCH_DIR"
LICENCES = 500
SETTINGS_FILE = "settings.json"


# --- app factories (imported by the uvicorn workers) ----------------------------------------


def app_factory() -> Any:
    """The Facturo app on the prepared database (its settings are in $FACTURO_BENCH_DIR)."""
    from facturo.bootstrap import create_context
    from facturo.config import settings_from_mapping
    from facturo.web.app import create_app

    folder = Path(os.environ[ENV_DIR])
    raw = json.loads((folder / SETTINGS_FILE).read_text(encoding="utf-8"))
    return create_app(create_context(settings_from_mapping(raw)))


def bare_factory() -> Any:
    """A bare Starlette app answering a small JSON object."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def endpoint(request: Request) -> JSONResponse:
        body = await request.body()
        return JSONResponse({"ok": True, "size": len(body)})

    return Starlette(routes=[Route("/api/v1/licenses/validate", endpoint, methods=["POST"])])


# --- preparation -----------------------------------------------------------------------------


def prepare(
    folder: Path, licences: int, log_batch: int = 200, key_limit: str = "100000/hour"
) -> list[dict[str, Any]]:
    """Migrate and seed the database; return one request body per licence."""
    from facturo.bootstrap import create_context, upgrade_database
    from facturo.config import settings_from_mapping
    from facturo.demo import demo_settings_mapping, seed
    from facturo_prestaimport_license.keys import format_key, key_from_bits
    from facturo_prestaimport_license.models import Addon
    from facturo_prestaimport_license.service import create_licence, ensure_supplier
    from facturo_prestaimport_license.settings import demo_settings

    raw = demo_settings_mapping(folder, "http://127.0.0.1:8000")
    table = dict(demo_settings()["settings"])
    table.update(rate_limit_ip="off", rate_limit_key=key_limit, log_batch_size=log_batch)
    raw["plugins"] = {"enabled": ["prestaimport_license"]}
    raw["plugin"] = {"prestaimport_license": table}
    (folder / SETTINGS_FILE).write_text(json.dumps(raw), encoding="utf-8")
    ctx = create_context(settings_from_mapping(raw))
    upgrade_database(ctx)
    seed(ctx)
    bodies = []
    from sqlalchemy import select

    from facturo.models import Customer

    now = ctx.now()
    from datetime import timedelta

    with ctx.db.transaction() as session:
        customer = session.scalars(select(Customer)).first()
        assert customer is not None
        suppliers = [ensure_supplier(session, code, code.title()) for code in ("a", "b", "c")]
        for number in range(licences):
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
  return wrk.format(nil, "/api/v1/licenses/validate", nil, bodies[(i % #bodies) + 1])
end
"""


# --- running ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve(factory: str, port: int, folder: Path) -> subprocess.Popen[bytes]:
    """Start ``factory`` under uvicorn (2 workers) in a child process and wait until it listens."""
    env = dict(os.environ, **{ENV_DIR: str(folder)})
    code = (
        "import uvicorn; uvicorn.run("
        f"'license_validate:{factory}', factory=True, workers=2, host='127.0.0.1', port={port}, "
        f"app_dir={str(HERE)!r}, log_level='warning', access_log=False)"
    )
    process = subprocess.Popen([sys.executable, "-c", code], env=env)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                time.sleep(1.0)  # let both workers finish starting
                return process
        except OSError:
            time.sleep(0.2)
    process.terminate()
    raise RuntimeError(f"{factory} did not start")


def wrk(port: int, script: Path, duration: int, connections: int) -> dict[str, str]:
    """Run wrk against the validate path and parse requests/s, p50, p99 and errors."""
    out = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{connections}",
            f"-d{duration}s",
            "--latency",
            "-s",
            str(script),
            f"http://127.0.0.1:{port}/api/v1/licenses/validate",
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    found = {
        "rps": _grab(r"Requests/sec:\s+([\d.]+)", out),
        "p50": _grab(r"\s50%\s+([\d.]+\w+)", out),
        "p99": _grab(r"\s99%\s+([\d.]+\w+)", out),
        "requests": _grab(r"(\d+) requests in", out),
        "non2xx": _grab(r"Non-2xx or 3xx responses:\s+(\d+)", out) or "0",
        "errors": _grab(r"Socket errors:(.*)", out).strip() or "none",
    }
    return found


def _grab(pattern: str, text: str) -> str:
    match = re.search(pattern, text)
    return match.group(1) if match else ""


def check_answer(port: int, body: dict[str, Any]) -> str:
    """One request by hand: the code the signed answer carries."""
    import base64

    import httpx

    response = httpx.post(f"http://127.0.0.1:{port}/api/v1/licenses/validate", json=body)
    response.raise_for_status()
    payload = json.loads(base64.urlsafe_b64decode(response.json()["payload"] + "=="))
    return str(payload["code"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=15)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--licences", type=int, default=LICENCES)
    parser.add_argument("--log-batch", type=int, default=200)
    parser.add_argument("--key-limit", default="100000/hour", help="per-key limit (off = none)")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is not installed (apt-get install wrk)", file=sys.stderr)
        return 1
    folder = Path(tempfile.mkdtemp(prefix="facturo-bench-"))
    try:
        bodies = prepare(folder, args.licences, args.log_batch, args.key_limit)
        script = folder / "validate.lua"
        script.write_text(lua_script(bodies), encoding="utf-8")
        results = {}
        for name, factory in (("bare Starlette JSON", "bare_factory"), ("validate", "app_factory")):
            port = free_port()
            server = serve(factory, port, folder)
            try:
                if factory == "app_factory":
                    wrk(port, script, 3, args.connections)  # warm-up: binds every shop
                    print(f"sample answer: {check_answer(port, bodies[0])}")
                results[name] = wrk(port, script, args.duration, args.connections)
            finally:
                server.terminate()
                server.wait(timeout=15)
        print(
            f"\nwrk -t2 -c{args.connections} -d{args.duration}s, uvicorn 2 workers, SQLite, "
            f"{args.licences} licences x 3 add-ons"
        )
        print(f"{'endpoint':<22}{'req/s':>10}{'p50':>10}{'p99':>10}{'non-2xx':>9}  socket errors")
        for name, found in results.items():
            print(
                f"{name:<22}{found['rps']:>10}{found['p50']:>10}{found['p99']:>10}"
                f"{found['non2xx']:>9}  {found['errors']}"
            )
        from sqlalchemy import create_engine, text

        engine = create_engine(f"sqlite:///{folder / 'facturo.db'}")
        with engine.connect() as connection:
            logged = connection.execute(
                text("SELECT count(*) FROM prestaimport_license_validations")
            ).scalar()
        print(f"validation log rows written: {logged}")
        return 0
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
