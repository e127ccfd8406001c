"""The ``facturo`` command."""

from __future__ import annotations

import secrets
import sys
from collections.abc import Callable
from datetime import date
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click

from facturo import __version__
from facturo.config import ConfigError, load_settings

F = TypeVar("F", bound=Callable[..., Any])


class Failure(click.ClickException):
    """A one-line error and a non-zero exit (2 for configuration problems)."""

    exit_code = 1

    def show(self, file: Any = None) -> None:
        click.echo(f"error: {self.message}", err=True)


class ConfigFailure(Failure):
    """A configuration or plugin problem: exit code 2."""

    exit_code = 2


def friendly(func: F) -> F:
    """Turn known errors into one line on stderr and an exit code, never a traceback."""
    from facturo.accounts.customers import AccountError
    from facturo.billing.errors import BillingError
    from facturo.db.migrations import MigrationError
    from facturo.plugins import PluginError

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ConfigError as exc:
            raise ConfigFailure(str(exc)) from exc
        except (PluginError, MigrationError) as exc:
            raise ConfigFailure(str(exc)) from exc
        except (AccountError, BillingError) as exc:
            raise Failure(str(exc)) from exc
        except click.ClickException:
            raise
        except Exception as exc:
            from sqlalchemy.exc import OperationalError

            if isinstance(exc, OperationalError):
                raise Failure(f"database error: {str(exc.orig).splitlines()[0]}") from exc
            raise

    return wrapper  # type: ignore[return-value]


def context_from(config: str | None) -> Any:
    from facturo.bootstrap import create_context

    return create_context(load_settings(config))


def running_context_from(config: str | None) -> Any:
    """The Context for a long-running command, with logging configured (``[logging]``);
    refuses while migrations are pending."""
    from facturo.bootstrap import require_current_schema
    from facturo.logs import configure_logging

    ctx = context_from(config)
    configure_logging(ctx.settings)
    require_current_schema(ctx)
    return ctx


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="facturo")
@click.option(
    "--config",
    "-c",
    envvar="FACTURO_CONFIG",
    type=click.Path(dir_okay=False),
    help="Path of facturo.toml (default: ./facturo.toml).",
)
@click.pass_context
def main(click_ctx: click.Context, config: str | None) -> None:
    """Facturo: billing engine with a client area."""
    click_ctx.obj = {"config": config}


@main.command()
@click.option(
    "--path",
    default="facturo.toml",
    show_default=True,
    type=click.Path(dir_okay=False),
    help="Where to write the configuration.",
)
@click.option(
    "--database-url",
    default="sqlite:///var/facturo.db",
    show_default=True,
    help="SQLAlchemy URL of the database.",
)
@click.option("--admin-email", prompt="Admin email", help="Email of the first staff admin.")
@click.option(
    "--admin-password",
    default=None,
    help="Password of the first admin (asked; empty generates one).",
)
@click.option("--force", is_flag=True, help="Overwrite an existing configuration file.")
@friendly
def init(
    path: str, database_url: str, admin_email: str, admin_password: str | None, force: bool
) -> None:
    """Write a commented facturo.toml, create the database and the first staff admin."""
    from facturo.accounts.customers import create_staff
    from facturo.bootstrap import create_context, upgrade_database
    from facturo.defaults import config_template

    target = Path(path)
    if target.exists() and not force:
        raise Failure(f"{target} already exists (use --force to overwrite)")
    if admin_password is None and sys.stdin.isatty():
        admin_password = click.prompt(
            "Admin password (empty: generate one)", default="", hide_input=True, show_default=False
        )
    target.write_text(config_template(secrets.token_urlsafe(48), database_url), encoding="utf-8")
    ctx = create_context(load_settings(target))
    upgrade_database(ctx)
    with ctx.db.transaction() as session:
        staff, password = create_staff(
            session, admin_email, "Admin", "admin", admin_password or None
        )
    click.echo(f"wrote {target}; database ready at {database_url}")
    click.echo(f"staff admin: {staff.email}")
    if not admin_password:
        click.echo(f"generated password (shown once): {password}")


@main.group()
def db() -> None:
    """Database schema commands."""


@db.command("upgrade")
@click.pass_context
@friendly
def db_upgrade(click_ctx: click.Context) -> None:
    """Upgrade the core and every enabled plugin to their latest revision."""
    from facturo.bootstrap import upgrade_database

    ctx = context_from(click_ctx.obj["config"])
    upgrade_database(ctx)
    click.echo("database is up to date")


@db.command("downgrade")
@click.argument("target", default="base")
@click.pass_context
@friendly
def db_downgrade(click_ctx: click.Context, target: str) -> None:
    """Downgrade to TARGET (default: base, i.e. drop everything)."""
    from facturo.db import migrations

    ctx = context_from(click_ctx.obj["config"])
    migrations.downgrade(ctx.db.engine, ctx.migration_dirs(), target)
    click.echo(f"database downgraded to {target}")


@db.command("backup")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--force", is_flag=True, help="Replace PATH when it exists.")
@click.pass_context
@friendly
def db_backup(click_ctx: click.Context, path: str, force: bool) -> None:
    """Copy the live SQLite database to PATH (online: the app may keep running)."""
    from facturo.operations.backup import BackupError, backup_sqlite

    settings = load_settings(click_ctx.obj["config"])
    try:
        size = backup_sqlite(settings.database_url, Path(path), overwrite=force)
    except BackupError as exc:
        raise Failure(str(exc)) from exc
    click.echo(f"backed up to {path} ({size} bytes)")


@main.command()
@click.pass_context
@friendly
def plugins(click_ctx: click.Context) -> None:
    """List installed plugins: enabled or not, version, the hooks each implements."""
    from facturo.plugins import hooks_of, installed_plugins, load_plugins, plugin_version

    config = click_ctx.obj["config"]
    enabled: tuple[str, ...] = ()
    try:
        enabled = load_settings(config).enabled_plugins
    except ConfigError:
        if config:
            raise
    installed = installed_plugins()
    manager = load_plugins([name for name in installed])
    for name in sorted(installed):
        state = "enabled " if name in enabled else "disabled"
        hooks = ", ".join(hooks_of(manager, name)) or "-"
        click.echo(f"{name:<22} {state} {plugin_version(name):<8} {hooks}")


@main.group("plugin")
def plugin_group() -> None:
    """Write plugins."""


@plugin_group.command("new")
@click.argument("name")
@click.option("--gateway", "kind", flag_value="gateway", help="A payment gateway (ExamplePay).")
@click.option("--provisioner", "kind", flag_value="provisioner", help="A provisioner.")
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where to create facturo-NAME (default: the current folder).",
)
def plugin_new(name: str, kind: str | None, directory: Path | None) -> None:
    """Generate the plugin project facturo-NAME from an example plugin."""
    from facturo.scaffold import ScaffoldError, new_plugin

    try:
        target = new_plugin(name, kind or "plain", directory)
    except ScaffoldError as exc:
        raise Failure(str(exc)) from exc
    click.echo(f"created {target}")


@main.group()
def staff() -> None:
    """Staff accounts."""


@staff.command("create")
@click.argument("email")
@click.option("--name", default="", help="Display name.")
@click.option(
    "--role", type=click.Choice(["admin", "billing", "support"]), default="admin", show_default=True
)
@click.option("--password", default=None, help="Password (generated and printed when omitted).")
@click.pass_context
@friendly
def staff_create(
    click_ctx: click.Context, email: str, name: str, role: str, password: str | None
) -> None:
    """Create a staff user."""
    from facturo.accounts.customers import create_staff

    ctx = context_from(click_ctx.obj["config"])
    with ctx.db.transaction() as session:
        user, secret = create_staff(session, email, name or email, role, password)
    click.echo(f"created {role} {user.email}")
    if password is None:
        click.echo(f"generated password (shown once): {secret}")


@main.group()
def billing() -> None:
    """Billing commands."""


@billing.command("run")
@click.option("--date", "on", default=None, help="Business date YYYY-MM-DD (default: today).")
@click.option("--dry-run", is_flag=True, help="Show what would be done; change nothing.")
@click.pass_context
@friendly
def billing_run_command(click_ctx: click.Context, on: str | None, dry_run: bool) -> None:
    """Create renewal proformas, send reminders, suspend and terminate overdue services."""
    from facturo.billing.billing_run import billing_run
    from facturo.billing.renewals import count_due_services

    try:
        day = date.fromisoformat(on) if on else None
    except ValueError as exc:
        raise Failure(f"--date must be YYYY-MM-DD, not {on!r}") from exc
    ctx = context_from(click_ctx.obj["config"])
    day = day or ctx.today()
    total = count_due_services(ctx, day)
    if total > 1000:
        with click.progressbar(length=total, label="renewals", file=sys.stderr) as bar:
            report = billing_run(ctx, day, dry_run=dry_run, progress=bar.update)
    else:
        report = billing_run(ctx, day, dry_run=dry_run)
    click.echo(report.summary())
    for line in report.renewals[:50]:
        click.echo(f"  {line}")


@main.command()
@click.option("--once", is_flag=True, help="Do one pass and exit.")
@click.option("--interval", default=5.0, show_default=True, help="Seconds between passes.")
@click.pass_context
@friendly
def worker(click_ctx: click.Context, once: bool, interval: float) -> None:
    """Deliver the outbox (emails, hooks) and run periodic jobs."""
    from facturo.delivery.worker import run_forever, run_once

    ctx = running_context_from(click_ctx.obj["config"])
    if once:
        report = run_once(ctx)
        click.echo(
            f"events {report.events_done}, emails {report.emails_sent}, jobs {', '.join(report.jobs_run) or '-'}"
        )
        return
    click.echo("worker running; Ctrl-C to stop")
    try:
        run_forever(ctx, interval)
    except KeyboardInterrupt:
        click.echo("stopped")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(min=1),
    help="Web processes, each serving requests.",
)
@click.option(
    "--no-worker", is_flag=True, help="Do not run the embedded worker (run `facturo worker`)."
)
@click.option("--access-log/--no-access-log", default=True, show_default=True)
@click.pass_context
@friendly
def serve(
    click_ctx: click.Context,
    host: str,
    port: int,
    workers: int,
    no_worker: bool,
    access_log: bool,
) -> None:
    """Serve the web app (uvicorn, uvloop, httptools) in --workers processes.

    Unless disabled (--no-worker or embedded_worker = false), one embedded worker delivers
    the outbox in a thread of this command's own process: with several web processes that is
    the supervising process, so there is exactly one and it takes no time from requests.
    """
    import os

    from facturo.web.server import FACTURO_APP, ServerOptions, run_server

    config = click_ctx.obj["config"]
    if config:  # the web processes read the same file
        os.environ["FACTURO_CONFIG"] = str(Path(config).resolve())
    ctx = running_context_from(config)
    background = None
    if ctx.settings.embedded_worker and not no_worker:
        from functools import partial

        from facturo.delivery.worker import run_forever

        background = partial(run_forever, ctx, 5.0)
    if workers > 1 and ctx.settings.rate_limit_storage.startswith("memory://"):
        click.echo(
            "note: rate limits are counted per process; set rate_limit_storage to a redis:// "
            "URL to share them between the web processes"
        )
    click.echo(f"serving on http://{host}:{port} with {workers} web process(es)")
    run_server(
        FACTURO_APP,
        ServerOptions(host=host, port=port, workers=workers, access_log=access_log),
        background=background,
    )


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--no-serve", is_flag=True, help="Prepare and seed the demo, then exit.")
@friendly
def demo(host: str, port: int, no_serve: bool) -> None:
    """Create (or reuse) var/demo/, seed it, and serve it on http://127.0.0.1:8000."""
    from facturo.demo import prepare_demo

    ctx, credentials = prepare_demo(Path("var/demo"), base_url=f"http://{host}:{port}")
    for line in credentials:
        click.echo(line)
    if no_serve:
        return
    import uvicorn

    from facturo.web.app import create_app

    click.echo(f"serving the demo on http://{host}:{port}")
    uvicorn.run(
        create_app(ctx, embedded_worker=True),
        host=host,
        port=port,
        log_level="info",
        proxy_headers=False,
    )


def _install_plugin_commands() -> None:
    """Add plugin CLI commands (``facturo tickets …``) when the configuration loads."""
    try:
        from facturo.plugins import installed_plugins, load_plugins

        manager = load_plugins(list(installed_plugins()))
        for commands in manager.hook.cli_commands(ctx=None):
            for command in commands:
                main.add_command(command)
    except Exception:  # a broken plugin is reported by the commands that load it
        return


_install_plugin_commands()
