"""``facturo billing run`` by hand."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import func, select

from facturo.cli import main
from facturo.context import Context
from facturo.models import Document
from facturo.testing import make_customer
from tests.billing.conftest import Billing, active_service


def write_config(ctx: Context, tmp_path: Path) -> Path:
    seller = ctx.settings.seller
    path = tmp_path / "facturo.toml"
    path.write_text(
        f"""database_url = "{ctx.settings.database_url}"
secret_key = "{ctx.settings.secret_key}"
base_url = "http://testserver"
data_dir = "{tmp_path}"

[seller]
legal_name = "{seller.legal_name}"
nif = "{seller.nif}"
address = "{seller.address}"
postal_code = "{seller.postal_code}"
city = "{seller.city}"
province = "{seller.province}"
country = "ES"
email = "{seller.email}"
""",
        encoding="utf-8",
    )
    return path


def documents(ctx: Context) -> int:
    with ctx.db.read_session() as session:
        return int(session.scalar(select(func.count()).select_from(Document)) or 0)


def test_billing_run_command(billing: Billing, tmp_path: Path) -> None:
    ctx = billing.ctx
    customer = make_customer(ctx)
    active_service(ctx, customer, billing.licence, date(2026, 3, 10))
    config = str(write_config(ctx, tmp_path))
    runner = CliRunner()

    dry = runner.invoke(
        main, ["--config", config, "billing", "run", "--date", "2026-03-02", "--dry-run"]
    )
    assert dry.exit_code == 0, dry.output
    assert "would create 1 renewal documents for 1 services" in dry.output
    assert documents(ctx) == 0

    real = runner.invoke(main, ["--config", config, "billing", "run", "--date", "2026-03-02"])
    assert real.exit_code == 0, real.output
    assert "created 1 renewal documents for 1 services" in real.output
    assert documents(ctx) == 1

    again = runner.invoke(main, ["--config", config, "billing", "run", "--date", "2026-03-02"])
    assert "created 0 renewal documents" in again.output
    assert documents(ctx) == 1

    bad = runner.invoke(main, ["--config", config, "billing", "run", "--date", "02/03/2026"])
    assert bad.exit_code != 0
    assert "--date must be YYYY-MM-DD" in bad.output
    assert "Traceback" not in bad.output
