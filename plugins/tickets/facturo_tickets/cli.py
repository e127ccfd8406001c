"""``facturo tickets …`` commands: email intake from standard input, auto-close by hand."""

from __future__ import annotations

import sys

import click

from facturo.plugin import ConfigError, Context, create_context, load_settings

MAX_MESSAGE_BYTES = 40 * 1024 * 1024


def _context(click_ctx: click.Context) -> Context:
    obj = click_ctx.find_root().obj or {}
    if isinstance(obj.get("facturo_context"), Context):
        return obj["facturo_context"]  # type: ignore[no-any-return]
    try:
        return create_context(load_settings(obj.get("config")))
    except ConfigError as exc:
        raise _ConfigFailure(str(exc)) from exc


class _Failure(click.ClickException):
    """One line on stderr and exit code 1."""

    exit_code = 1

    def show(self, file: object = None) -> None:
        click.echo(f"error: {self.message}", err=True)


class _ConfigFailure(_Failure):
    """A configuration problem: exit code 2."""

    exit_code = 2


@click.group("tickets")
def tickets() -> None:
    """Support tickets: email intake and housekeeping."""


@tickets.command("import-email")
@click.pass_context
def import_email_command(click_ctx: click.Context) -> None:
    """Read one RFC 822 message from standard input and file it (join, open, auto-reply or
    drop). Prints what was done; exit 1 on an unusable message."""
    from .mailin import import_email

    stream = getattr(sys.stdin, "buffer", None)
    raw = stream.read(MAX_MESSAGE_BYTES + 1) if stream is not None else b""
    if not raw.strip():
        raise _Failure("no message on standard input")
    if len(raw) > MAX_MESSAGE_BYTES:
        raise _Failure(f"the message is larger than {MAX_MESSAGE_BYTES} bytes")
    ctx = _context(click_ctx)
    try:
        result = import_email(ctx, raw)
    except Exception as exc:
        first = (str(exc).splitlines() or [type(exc).__name__])[0]
        raise _Failure(f"could not import the message: {first}") from exc
    click.echo(result.line())


@tickets.command("auto-close")
@click.pass_context
def auto_close_command(click_ctx: click.Context) -> None:
    """Run the auto-close job once (warnings, then closing)."""
    from .autoclose import run_autoclose

    report = run_autoclose(_context(click_ctx))
    click.echo(f"warned {report.warned}, closed {report.closed}")
