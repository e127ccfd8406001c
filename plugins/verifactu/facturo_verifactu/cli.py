"""``facturo verifactu …`` commands."""

from __future__ import annotations

import click

from facturo.plugin import ConfigError, Context, create_context, load_settings

from .chain import verify_chain
from .settings import config


def _context(click_ctx: click.Context) -> Context:
    obj = click_ctx.find_root().obj or {}
    if isinstance(obj.get("facturo_context"), Context):
        return obj["facturo_context"]  # type: ignore[no-any-return]
    try:
        return create_context(load_settings(obj.get("config")))
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc


@click.group("verifactu")
def verifactu() -> None:
    """VERI*FACTU records and their hash chain."""


@verifactu.command("verify-chain")
@click.pass_context
def verify_chain_command(click_ctx: click.Context) -> None:
    """Recompute the issuer's whole chain; exit 1 and name the first break if there is one."""
    ctx = _context(click_ctx)
    nif = config(ctx).issuer_nif
    with ctx.db.read_session() as session:
        report = verify_chain(session, nif)
    if not report.intact:
        click.echo(
            f"error: chain of {nif} broken at record {report.break_at}: {report.problem}", err=True
        )
        raise SystemExit(1)
    click.echo(f"chain of {nif} intact: {report.records} records, last hash {report.last_hash}")
