"""Claims, leases and fencing with real time (issue 14, point 5): a slow SMTP server shared by
two workers sends each email once, and a worker killed with SIGKILL mid-delivery leaves its
email to another worker within the lease, sent once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import nullcontext
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import tomli_w

from facturo.context import Context
from facturo.delivery import mail
from facturo.delivery.mail import deliver_due
from facturo.testing import Clock, base_settings_mapping
from tests.faults.smtp import FaultyServer, faulty_smtp
from tests.faults.test_email_faults import queue, rows

__all__ = ["faulty_smtp"]
LEASE = 2
FACTURO = str(Path(sys.executable).with_name("facturo"))


class RealClock(Clock):
    """The wall clock: leases must run out in real time here."""

    def __call__(self) -> datetime:
        return datetime.now(UTC)


@pytest.fixture
def clock() -> Clock:
    return RealClock()


def worker_ctx(make_context: Callable[..., Context], server: FaultyServer) -> Context:
    return make_context(overrides={**server.settings(), "delivery.lease_seconds": LEASE})


def run_workers(contexts: list[Context], until: Callable[[], bool], timeout: float) -> list[Any]:
    """Each context delivers in its own thread (as a worker process would) until ``until``."""
    reports: list[Any] = []
    stop = threading.Event()

    def loop(ctx: Context) -> None:
        while not stop.is_set():
            reports.append(deliver_due(ctx))
            time.sleep(0.05)

    threads = [threading.Thread(target=loop, args=(c,)) for c in contexts]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + timeout
    while not until() and time.monotonic() < deadline:
        time.sleep(0.05)
    stop.set()
    for thread in threads:
        thread.join(timeout=30)
    return reports


def test_slow_server_and_two_workers_send_each_email_once(
    make_context: Callable[..., Context], faulty_smtp: FaultyServer
) -> None:
    contexts = [worker_ctx(make_context, faulty_smtp) for _ in range(2)]
    faulty_smtp.sink.delay = 0.6  # six messages take 3.6 s: well past a 2 s lease
    queue(contexts[0], 6)
    reports = run_workers(
        contexts, lambda: {r.status for r in rows(contexts[0])} == {"sent"}, timeout=30
    )
    assert len(faulty_smtp.sink.accepted) == 6
    assert set(faulty_smtp.sink.ids().values()) == {1}
    assert sum(r.lost_claims for r in reports) == 0


def test_without_the_heartbeat_the_same_setup_sends_twice(
    make_context: Callable[..., Context], faulty_smtp: FaultyServer, monkeypatch: Any
) -> None:
    """The control experiment: it is the lease renewal that keeps the previous test honest,
    and fencing still reports the claims that were lost."""
    monkeypatch.setattr(mail, "kept_alive", lambda ctx, token: nullcontext())
    monkeypatch.setattr(mail, "extend_lease", lambda ctx, token, message_id=None: 1)
    contexts = [worker_ctx(make_context, faulty_smtp) for _ in range(2)]
    faulty_smtp.sink.delay = 0.6
    queue(contexts[0], 6)
    reports = run_workers(
        contexts, lambda: {r.status for r in rows(contexts[0])} == {"sent"}, timeout=30
    )
    assert len(faulty_smtp.sink.accepted) > 6
    assert sum(r.lost_claims for r in reports) > 0


@pytest.fixture
def worker_processes(
    tmp_path: Path,
) -> Iterator[Callable[[dict[str, Any]], subprocess.Popen[bytes]]]:
    """Start ``facturo worker`` processes with the given settings; all are killed at the end."""
    started: list[subprocess.Popen[bytes]] = []

    def start(raw: dict[str, Any]) -> subprocess.Popen[bytes]:
        config = tmp_path / f"worker{len(started)}.toml"
        config.write_text(tomli_w.dumps(raw), encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if not k.startswith("FACTURO_")}
        with (tmp_path / f"worker{len(started)}.err").open("wb") as stderr:
            process = subprocess.Popen(
                [FACTURO, "--config", str(config), "worker", "--interval", "0.2"],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=stderr,  # the child keeps its own copy of the descriptor
            )
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)


def test_a_worker_killed_mid_delivery_leaves_its_email_to_another_within_the_lease(
    make_context: Callable[..., Context],
    faulty_smtp: FaultyServer,
    database_url: str,
    tmp_path: Path,
    worker_processes: Callable[[dict[str, Any]], subprocess.Popen[bytes]],
) -> None:
    ctx = worker_ctx(make_context, faulty_smtp)
    faulty_smtp.sink.hang_first = True  # the first DATA never gets its answer
    queue(ctx, 1)
    raw = base_settings_mapping(tmp_path, database_url)
    raw["smtp"] = {
        "host": "127.0.0.1",
        "port": faulty_smtp.port,
        "security": "none",
        "from_address": "billing@facturo.test",
    }
    raw["delivery"] = {"lease_seconds": LEASE}
    first = worker_processes(raw)
    if not faulty_smtp.sink.hanging.wait(timeout=30):
        errors = (tmp_path / "worker0.err").read_text(errors="replace")[-2000:]
        raise AssertionError(f"the first worker never sent: {errors}")
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    killed_at = time.monotonic()
    worker_processes(raw)
    faulty_smtp.sink.wait_for(1, timeout=LEASE + 20)
    took = time.monotonic() - killed_at
    assert len(faulty_smtp.sink.accepted) == 1, "the email did not go out after the kill"
    assert took < LEASE + 15  # within the lease (plus a worker's start-up and a pass)
    time.sleep(LEASE + 0.5)  # and never again
    assert len(faulty_smtp.sink.accepted) == 1
    [row] = rows(ctx)
    assert row.status == "sent" and row.attempts == 1
    assert len(faulty_smtp.sink.offered) == 2
