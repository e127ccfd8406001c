"""The facturo command: every error is one line on stderr and a non-zero exit."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from facturo.cli import main


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_every_command_has_help(runner: CliRunner) -> None:
    for args in (
        ["--help"],
        ["init", "--help"],
        ["serve", "--help"],
        ["worker", "--help"],
        ["db", "upgrade", "--help"],
        ["plugins", "--help"],
        ["staff", "create", "--help"],
        ["demo", "--help"],
        ["billing", "run", "--help"],
    ):
        result = runner.invoke(main, args)
        assert result.exit_code == 0, args
        assert "Usage:" in result.output


def test_init_writes_config_creates_database_and_admin(runner: CliRunner, tmp_path: Path) -> None:
    config = tmp_path / "facturo.toml"
    result = runner.invoke(
        main,
        [
            "init",
            "--path",
            str(config),
            "--database-url",
            f"sqlite:///{tmp_path / 'f.db'}",
            "--admin-email",
            "boss@example.com",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "generated password (shown once):" in result.output
    text = config.read_text()
    assert "secret_key" in text and "# SQLAlchemy URL" in text
    again = runner.invoke(main, ["init", "--path", str(config), "--admin-email", "x@example.com"])
    assert again.exit_code == 1
    assert "already exists" in again.output
    create = runner.invoke(
        main, ["--config", str(config), "staff", "create", "boss@example.com", "--role", "billing"]
    )
    assert create.exit_code == 1
    assert create.output.strip().splitlines() == [
        "error: a staff user with email boss@example.com already exists"
    ]


def test_config_error_exits_2_with_one_line(runner: CliRunner, tmp_path: Path) -> None:
    config = tmp_path / "facturo.toml"
    config.write_text('secret_key = "short"\n')
    result = runner.invoke(main, ["--config", str(config), "db", "upgrade"])
    assert result.exit_code == 2
    assert (
        result.output.strip() == "error: setting 'secret_key': must be at least 32 characters long"
    )


def test_unknown_plugin_exits_2_and_lists_installed(runner: CliRunner, tmp_path: Path) -> None:
    config = tmp_path / "facturo.toml"
    config.write_text(
        f'secret_key = "{"k" * 40}"\ndatabase_url = "sqlite:///{tmp_path}/x.db"\n[plugins]\nenabled = ["nope"]\n'
    )
    result = runner.invoke(main, ["--config", str(config), "db", "upgrade"])
    assert result.exit_code == 2
    assert "plugin 'nope' is enabled but not installed; installed plugins:" in result.output
    assert "Traceback" not in result.output


def test_plugins_lists_the_six_bundled(runner: CliRunner, tmp_path: Path) -> None:
    config = tmp_path / "facturo.toml"
    config.write_text(f'secret_key = "{"k" * 40}"\n[plugins]\nenabled = ["transfer"]\n')
    result = runner.invoke(main, ["--config", str(config), "plugins"])
    assert result.exit_code == 0, result.output
    lines = {line.split()[0]: line.split()[1] for line in result.output.splitlines()}
    for name in ("transfer", "ruralvia", "paypal", "prestaimport_license", "tickets", "verifactu"):
        assert name in lines
    assert lines["transfer"] == "enabled"
    assert lines["paypal"] == "disabled"


def test_bad_billing_date_is_one_line(runner: CliRunner, tmp_path: Path) -> None:
    config = tmp_path / "facturo.toml"
    config.write_text(f'secret_key = "{"k" * 40}"\ndatabase_url = "sqlite:///{tmp_path}/x.db"\n')
    result = runner.invoke(
        main, ["--config", str(config), "billing", "run", "--date", "31/12/2026"]
    )
    assert result.exit_code == 1
    assert result.output.strip() == "error: --date must be YYYY-MM-DD, not '31/12/2026'"


def test_demo_seeds_once_and_reuses_its_data(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    first = runner.invoke(main, ["demo", "--no-serve"])
    assert first.exit_code == 0, first.output
    assert "demo customer: demo@example.com" in first.output
    second = runner.invoke(main, ["demo", "--no-serve"])
    assert second.exit_code == 0, second.output
    assert (tmp_path / "var" / "demo" / "facturo.db").exists()
    from sqlalchemy import func, select

    from facturo.demo import prepare_demo
    from facturo.demo_history import SHOPS
    from facturo.models import Customer, Product

    ctx, _ = prepare_demo(tmp_path / "var" / "demo")
    with ctx.db.read_session() as session:
        # The demo customer and the made-up shops of the demo's year of trade.
        assert session.scalar(select(func.count()).select_from(Customer)) == 1 + len(SHOPS)
        assert (
            session.scalar(
                select(func.count()).select_from(Product).where(Product.parent_id.is_not(None))
            )
            >= 3
        )
