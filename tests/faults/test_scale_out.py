"""The scale-out recipe, run: two web processes (``facturo serve --no-worker``) and two
``facturo worker`` processes on PostgreSQL with rate limits in Redis, driven concurrently over
HTTP (orders, transfer payments through the API, overpayments that become credit, orders that
spend it, refunds of the same invoice on both web processes at once). Afterwards: gap-free
numbers, credit and refunds conserved to the cent, every email delivered exactly once."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
import tomli_w
from sqlalchemy import func, select

from facturo.accounts.api_tokens import create_token
from facturo.accounts.customers import create_staff
from facturo.context import Context
from facturo.models import Customer, Document, OutboxEvent, OutboxMessage, Payment, Refund
from facturo.testing import (
    Clock,
    SmtpServer,
    base_settings_mapping,
    default_plugin_settings,
    free_port,
    logged_in_cookies,
    make_catalog,
    make_customer,
)

pytestmark = pytest.mark.postgres_only
FACTURO = str(Path(sys.executable).with_name("facturo"))
CSRF = "test-csrf-token"
REDIS_URL = "redis://127.0.0.1:6379/0"
CUSTOMERS = 4
DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def unit_args(unit: str, instance: str) -> list[str]:
    """What the systemd unit ``deploy/<unit>`` runs facturo with (after ``--config``), for
    ``instance``: the test runs the recipe's own commands."""
    line = next(
        line for line in (DEPLOY / unit).read_text().splitlines() if line.startswith("ExecStart=")
    )
    words = line.removeprefix("ExecStart=").replace("%i", instance).split()
    return words[words.index("--config") + 2 :]


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[Callable[..., subprocess.Popen[bytes]]]:
    """Start ``facturo`` processes; every one is stopped (and reaped) at the end."""
    started: list[subprocess.Popen[bytes]] = []

    def start(config: Path, *args: str) -> subprocess.Popen[bytes]:
        log = (tmp_path / f"process{len(started)}.log").open("wb")
        env = {k: v for k, v in os.environ.items() if not k.startswith("FACTURO_")}
        process = subprocess.Popen(
            [FACTURO, "--config", str(config), *args], env=env, stdout=log, stderr=log
        )
        started.append(process)
        return process

    yield start
    for process in started:
        process.terminate()
    for process in started:
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def wait_healthy(urls: list[str], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    pending = set(urls)
    while pending and time.monotonic() < deadline:
        for url in list(pending):
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    pending.discard(url)
            except httpx.HTTPError:
                pass
        time.sleep(0.1)
    assert not pending, f"web processes did not start: {pending}"


def scalar(ctx: Context, query: Any) -> Any:
    with ctx.db.read_session() as session:
        return session.scalar(query)


def wait_drained(ctx: Context, timeout: float = 30) -> None:
    """Until the two workers have delivered every event and email."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        left = scalar(
            ctx,
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status != "sent"),
        ) + scalar(
            ctx, select(func.count()).select_from(OutboxEvent).where(OutboxEvent.status != "done")
        )
        if not left:
            return
        time.sleep(0.2)
    with ctx.db.read_session() as session:
        stuck = [
            (m.template, m.status, m.attempts, m.last_error[:200])
            for m in session.scalars(select(OutboxMessage).where(OutboxMessage.status != "sent"))
        ] + [
            (e.name, e.status, e.attempts, e.last_error[:200])
            for e in session.scalars(select(OutboxEvent).where(OutboxEvent.status != "done"))
        ]
    raise AssertionError(f"the workers did not drain the outbox: {stuck[:5]}")


def consecutive(numbers: list[str]) -> bool:
    """``X-000001``, ``X-000002``… with no gap and no repeat, per series prefix."""
    by_prefix: dict[str, list[int]] = {}
    for number in numbers:
        prefix, digits = re.fullmatch(r"(.*?)(\d+)", number).groups()  # type: ignore[union-attr]
        by_prefix.setdefault(prefix, []).append(int(digits))
    return all(sorted(seq) == list(range(1, len(seq) + 1)) for seq in by_prefix.values())


def test_two_web_processes_and_two_workers_on_postgresql_with_redis(
    make_context: Callable[..., Context],
    database_url: str,
    smtp_server: SmtpServer,
    processes: Callable[..., subprocess.Popen[bytes]],
    tmp_path: Path,
    clock: Clock,
) -> None:
    # The web processes run on the real clock: login sessions made here must not look expired.
    clock.set(datetime.now(UTC))
    prefix = f"facturo-test-{uuid.uuid4().hex[:8]}"
    store = redis.Redis.from_url(REDIS_URL)
    assert store.ping(), "Redis must run at 127.0.0.1:6379 (see .ci/run)"

    ctx = make_context(plugins=("transfer",))  # bank transfers: the method the API records
    licence, _ = make_catalog(ctx)
    customers = [make_customer(ctx, email=f"c{n}@example.com") for n in range(CUSTOMERS)]
    with ctx.db.transaction() as session:
        staff, _ = create_staff(
            session, "billing@example.com", "Billing", "billing", "a-long-staff-password-2026"
        )
        _, api_secret = create_token(session, staff, "scale-out", "read-write", "test")
    ports = [free_port(), free_port()]
    raw = base_settings_mapping(tmp_path, database_url, ("transfer",))
    raw["plugin"] = default_plugin_settings(("transfer",))
    raw.update(
        base_url=f"http://127.0.0.1:{ports[0]}",
        rate_limit_storage=REDIS_URL,
        rate_limit_key_prefix=prefix,
        smtp={
            "host": smtp_server.host,
            "port": smtp_server.port,
            "security": "none",
            "from_address": "billing@facturo.test",
        },
        delivery={"lease_seconds": 10},
    )
    config = tmp_path / "facturo.toml"
    config.write_text(tomli_w.dumps(raw), encoding="utf-8")
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    for port in ports:
        processes(config, *unit_args("facturo-web@.service", str(port)))
    for n in range(2):  # the unit's own command, passing more often than in production
        processes(config, *unit_args("facturo-worker@.service", str(n)), "--interval", "0.3")
    wait_healthy(urls)

    def client(n: int, **kwargs: Any) -> httpx.Client:
        return httpx.Client(base_url=urls[n % 2], timeout=30, follow_redirects=False, **kwargs)

    def as_customer(n: int) -> httpx.Client:
        return client(n, cookies=logged_in_cookies(ctx, customer=customers[n % CUSTOMERS]))

    def as_staff(n: int) -> httpx.Client:
        return client(n, cookies=logged_in_cookies(ctx, staff=staff))

    api_headers = {"Authorization": f"Bearer {api_secret}"}

    def order(n: int) -> int:
        with as_customer(n) as http:
            answer = http.post(
                "/client/order",
                data={"product": licence.id, "cycle": "annual", "csrf_token": CSRF},
            )
        assert answer.status_code == 303, answer.text[:300]
        return int(answer.headers["location"].rsplit("/", 1)[1])

    def pay(n: int, document_id: int, amount: Decimal, reference: str) -> int:
        with client(n, headers=api_headers) as http:
            answer = http.post(
                "/api/v1/payments",
                json={
                    "document_id": document_id,
                    "amount": str(amount),
                    "paid_on": "2026-01-02",
                    "bank_reference": reference,
                },
            )
        assert answer.status_code in (200, 201), answer.text
        return answer.status_code

    def refund(n: int, document_id: int) -> int:
        with as_staff(n) as http:
            answer = http.post(
                f"/admin/documents/{document_id}/refund",
                data={
                    "reason": "duplicate order",
                    "amount": str(
                        scalar(ctx, select(Document.total).where(Document.id == document_id))
                    ),
                    "confirm": "yes",
                    "csrf_token": CSRF,
                },
            )
        return answer.status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        # Every customer orders twice at once, once on each web process.
        first_round = list(pool.map(order, range(2 * CUSTOMERS)))
        totals = {
            doc_id: scalar(ctx, select(Document.total).where(Document.id == doc_id))
            for doc_id in first_round
        }
        # Each proforma is paid twice at once (one per process, same bank reference);
        # the first customer's overpay by 10.00: credit.
        jobs = []
        for n, doc_id in enumerate(first_round):
            extra = Decimal("10.00") if n % CUSTOMERS == 0 else Decimal("0.00")
            for copy in range(2):
                jobs.append((n + copy, doc_id, totals[doc_id] + extra, f"BANK-{doc_id}"))
        statuses = list(pool.map(lambda job: pay(*job), jobs))
        assert sorted(Counter(statuses).values()) == [len(first_round)] * 2  # 201s and 200s
        # The first customer orders twice more at once: its 20.00 of credit is spent once.
        spend = list(pool.map(order, [0, CUSTOMERS]))
        # Both staff members refund the same invoice at once, on different processes.
        victim = first_round[1]
        refunds = list(pool.map(lambda n: refund(n, victim), [0, 1, 2, 3]))
        assert refunds == [303] * 4

    # The shared rate limit: 5 logins a minute per address and email, across both processes.
    login = [
        client(n, cookies=logged_in_cookies(ctx, csrf=CSRF)).post(
            "/client/login",
            data={"email": "nobody@example.com", "password": "wrong", "csrf_token": CSRF},
        )
        for n in range(7)
    ]
    assert [r.status_code == 429 for r in login] == [False] * 5 + [True] * 2
    assert any(key.startswith(prefix.encode()) for key in store.scan_iter(f"{prefix}*"))

    wait_drained(ctx)
    with ctx.db.read_session() as session:
        documents = list(session.scalars(select(Document)))
        invoices = [d for d in documents if d.kind == "invoice"]
        notes = [d for d in documents if d.kind == "credit_note"]
        payments = list(session.scalars(select(Payment)))
        refund_rows = list(session.scalars(select(Refund)))
        balances = {c.id: c.credit_balance for c in session.scalars(select(Customer))}
    # Numbers: gap-free series, no repeats.
    assert len(invoices) == 2 * CUSTOMERS
    assert consecutive([str(d.number) for d in invoices])
    assert consecutive([str(d.number) for d in notes])
    assert consecutive(
        [d.reference for d in documents if d.kind != "credit_note"]
        + [d.reference for d in invoices if False]
    )
    # Payments: each bank reference once; paid = applied + credited, to the cent.
    assert len(payments) == len(first_round)
    assert sum((p.amount for p in payments), Decimal(0)) == sum(
        (d.amount_paid for d in documents), Decimal(0)
    ) + sum((p.credited for p in payments), Decimal(0))
    # Credit: what overpayments created is either spent on a document or still held.
    first = customers[0].id
    created = sum((p.credited for p in payments if p.customer_id == first), Decimal(0))
    spent = sum(
        (d.credit_applied for d in documents if d.customer_id == first and d.status != "cancelled"),
        Decimal(0),
    )
    assert created == Decimal("20.00")
    assert spent + balances[first] == created
    spending = [d for d in documents if d.id in spend]
    assert sorted(d.credit_applied for d in spending) == [Decimal("0.00"), Decimal("20.00")]
    # Refunds: one credit note for the invoice refunded four times at once.
    assert len(notes) == 1 and len(refund_rows) == 1
    refunded = next(d for d in documents if d.id == victim)
    assert refunded.refunded_total == refunded.total == -notes[0].total
    assert refund_rows[0].amount == refunded.total and refund_rows[0].status == "manual"
    # Email: every outbox row sent, each received exactly once.
    with ctx.db.read_session() as session:
        sent_ids = list(session.scalars(select(OutboxMessage.message_id)))
    received = Counter(str(m["Message-ID"]) for m in smtp_server.sink.wait_for(len(sent_ids)))
    assert sorted(received) == sorted(sent_ids)
    assert set(received.values()) == {1}
