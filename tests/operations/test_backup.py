"""Backups that really restore: ``facturo db backup`` of a live SQLite database, and the
documented pg_dump/pg_restore round trip on PostgreSQL."""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
import tomli_w
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from facturo.billing.documents import LineSpec, create_proforma
from facturo.context import Context
from facturo.models import Customer, Document
from facturo.operations.health import ReadinessProbe
from facturo.testing import base_settings_mapping, make_customer, postgres_test_url

FACTURO = str(Path(sys.executable).with_name("facturo"))


def bill(ctx: Context, customer_id: int, n: int) -> None:
    with ctx.db.transaction() as session:
        who = session.get(Customer, customer_id)
        assert who is not None
        create_proforma(session, ctx, who, [LineSpec(f"Line {n}", Decimal("10.00"))], notify=False)


def documents(ctx: Context) -> int:
    with ctx.db.read_session() as session:
        return int(session.scalar(select(func.count()).select_from(Document)) or 0)


def restored_context(make_context: Callable[..., Context], url: str) -> Context:
    return make_context(overrides={"database_url": url})


def test_sqlite_backup_while_writing_restores_a_consistent_database(
    make_context: Callable[..., Context], tmp_path: Path
) -> None:
    """Runs on SQLite whatever the suite's database: the command is SQLite's."""
    from facturo.bootstrap import upgrade_database

    database_url = f"sqlite:///{tmp_path / 'live.db'}"
    ctx = make_context(overrides={"database_url": database_url})
    upgrade_database(ctx)
    customer = make_customer(ctx)
    for n in range(20):
        bill(ctx, customer.id, n)
    config = tmp_path / "facturo.toml"
    config.write_text(tomli_w.dumps(base_settings_mapping(tmp_path, database_url)), "utf-8")
    stop = threading.Event()

    def keep_writing() -> None:
        n = 100
        while not stop.is_set():
            bill(ctx, customer.id, n)
            n += 1

    writer = threading.Thread(target=keep_writing)
    writer.start()
    try:
        target = tmp_path / "backups" / "facturo-backup.db"
        done = subprocess.run(
            [FACTURO, "--config", str(config), "db", "backup", str(target)],
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        stop.set()
        writer.join()
    assert done.returncode == 0, done.stderr
    assert "backed up to" in done.stdout
    again = subprocess.run(
        [FACTURO, "--config", str(config), "db", "backup", str(target)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert again.returncode == 1 and again.stderr.startswith("error: ")
    assert len(again.stderr.strip().splitlines()) == 1

    # Restore: the file is the database (stop the app, put it in place, start again).
    restored_file = tmp_path / "restored.db"
    shutil.copyfile(target, restored_file)
    restored = restored_context(make_context, f"sqlite:///{restored_file}")
    copied = documents(restored)
    assert 20 <= copied <= documents(ctx)
    with restored.db.read_session() as session:
        references = list(session.scalars(select(Document.reference).order_by(Document.id)))
    assert references == [f"PRO-2026-{n:06}" for n in range(1, copied + 1)]  # no torn write
    assert ReadinessProbe(restored).check().checks["migrations"].ok
    bill(restored, customer.id, 999)  # and it takes new work
    assert documents(restored) == copied + 1


def test_backup_command_refuses_postgresql_with_one_line(tmp_path: Path) -> None:
    raw = base_settings_mapping(tmp_path, "postgresql://postgres@127.0.0.1:5432/none")
    config = tmp_path / "facturo.toml"
    config.write_text(tomli_w.dumps(raw), "utf-8")
    done = subprocess.run(
        [FACTURO, "--config", str(config), "db", "backup", str(tmp_path / "x.db")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert done.stderr.strip() == (
        "error: db backup copies SQLite databases; back PostgreSQL up with pg_dump (see README)"
    )


@pytest.mark.postgres_only
def test_pg_dump_and_pg_restore_round_trip(
    make_context: Callable[..., Context], tmp_path: Path
) -> None:
    """The README's recipe, run for real: pg_dump -Fc, then pg_restore into a new database."""
    ctx = make_context()
    customer = make_customer(ctx)
    for n in range(5):
        bill(ctx, customer.id, n)
    source = make_url(str(postgres_test_url()))
    restored_name = f"{source.database}_restore"
    dump = tmp_path / "facturo.dump"
    connection = ["-h", source.host or "127.0.0.1", "-p", str(source.port or 5432)]
    connection += ["-U", source.username or "postgres"]
    subprocess.run(
        ["pg_dump", *connection, "-Fc", "-f", str(dump), str(source.database)],
        check=True,
        timeout=120,
    )
    admin = create_engine(
        source.set(drivername="postgresql+psycopg", database="postgres"),
        isolation_level="AUTOCOMMIT",
    )
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{restored_name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{restored_name}"'))
    try:
        subprocess.run(
            ["pg_restore", *connection, "--no-owner", "-d", restored_name, str(dump)],
            check=True,
            timeout=120,
        )
        url = source.set(database=restored_name).render_as_string(hide_password=False)
        restored = restored_context(make_context, url)
        assert documents(restored) == 5
        assert ReadinessProbe(restored).check().checks["migrations"].ok
        bill(restored, customer.id, 6)  # sequences came along: new ids do not collide
        assert documents(restored) == 6
        with restored.db.transaction() as session:  # and so did the constraints
            with pytest.raises(Exception, match="credit_not_negative"):
                session.execute(text("UPDATE customers SET credit_balance = -1"))
        restored.db.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{restored_name}" WITH (FORCE)'))
        admin.dispose()
