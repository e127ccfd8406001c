"""``facturo serve``: the web server really runs --workers processes answering HTTP."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
import tomli_w
from sqlalchemy import create_engine, text

from facturo.testing import base_settings_mapping, free_port
from facturo.web.server import ServerOptions, uvicorn_arguments


def facturo_command() -> list[str]:
    return [str(Path(sys.executable).with_name("facturo"))]


def write_config(tmp_path: Path, database_url: str) -> Path:
    config = tmp_path / "facturo.toml"
    config.write_bytes(tomli_w.dumps(base_settings_mapping(tmp_path, database_url)).encode())
    return config


def wait_until_answering(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, "facturo serve exited"
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError("facturo serve did not answer")


def answering_pids(url: str, wanted: int, timeout: float = 120.0) -> set[str]:
    """Process ids seen over fresh connections made 16 at a time, until ``wanted`` distinct
    ones answered or ``timeout`` passed (a process still starting answers nothing)."""

    def one(_: int) -> str:
        with httpx.Client(timeout=5) as client:  # a new connection each time
            response = client.get(url)
        assert response.status_code == 200
        return response.headers["x-process-id"]

    seen: set[str] = set()
    deadline = time.monotonic() + timeout
    with ThreadPoolExecutor(16) as pool:
        while len(seen) < wanted and time.monotonic() < deadline:
            seen.update(pool.map(one, range(32)))
    return seen


def child_pids(pid: int) -> set[int]:
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return {int(child) for child in children}


def worker_heartbeat(database_url: str) -> bool:
    engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.connect() as connection:
            return bool(
                connection.scalar(text("SELECT count(*) FROM job_runs WHERE name = 'worker'"))
            )
    finally:
        engine.dispose()


def test_serve_with_two_workers_runs_two_processes_answering_http_and_one_worker(
    tmp_path: Path, database_url: str
) -> None:
    config = write_config(tmp_path, database_url)
    port = free_port()
    process = subprocess.Popen(
        [
            *facturo_command(),
            "--config",
            str(config),
            "serve",
            "--workers",
            "2",
            "--port",
            str(port),
            "--no-access-log",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={k: v for k, v in os.environ.items() if not k.startswith("FACTURO_")},
    )
    url = f"http://127.0.0.1:{port}/healthz"
    try:
        wait_until_answering(url, process)
        pids = answering_pids(url, wanted=2)
        children = child_pids(process.pid)
        deadline = time.monotonic() + 30  # the embedded worker runs in the supervisor
        while not worker_heartbeat(database_url) and time.monotonic() < deadline:
            time.sleep(0.2)
        heartbeat = worker_heartbeat(database_url)
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    if len(pids) != 2:
        pytest.fail(f"answering processes {pids}; the server said:\n{output.decode()}")
    assert {int(pid) for pid in pids} <= children
    assert process.pid not in {int(pid) for pid in pids}  # the supervisor serves nothing
    assert heartbeat
    assert process.returncode == 0, output.decode()
    assert b"with 2 web process(es)" in output


def test_the_server_is_uvicorn_on_uvloop_and_httptools_with_an_app_factory() -> None:
    arguments = uvicorn_arguments("facturo.web.server:app_from_environment", ServerOptions())
    assert arguments["loop"] == "uvloop" and arguments["http"] == "httptools"
    assert arguments["factory"] is True and arguments["workers"] == 1
    with pytest.raises(ValueError):
        uvicorn_arguments("x:y", ServerOptions(workers=0))


def test_a_web_process_freezes_what_start_up_left_alive() -> None:
    import gc

    from facturo.web.server import freeze_startup_heap

    assert gc.get_freeze_count() == 0
    try:
        freeze_startup_heap()
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
