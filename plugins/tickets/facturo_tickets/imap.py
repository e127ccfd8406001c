"""The optional IMAP poll: fetch unseen messages of each department's mailbox and import
them (off unless ``imap_enabled``)."""

from __future__ import annotations

import imaplib
import logging

from facturo.plugin import Context

from .mailin import IntakeResult, import_email
from .settings import ImapAccount, config

log = logging.getLogger(__name__)


def poll_account(ctx: Context, account: ImapAccount) -> list[IntakeResult]:
    """Import every unseen message of ``account``'s folder, then mark it seen. Importing is
    idempotent on the Message-ID, so a crash between the two steps re-imports nothing."""
    client: imaplib.IMAP4 = (
        imaplib.IMAP4_SSL(account.host, account.port)
        if account.ssl
        else imaplib.IMAP4(account.host, account.port)
    )
    results: list[IntakeResult] = []
    try:
        client.login(account.user, account.password)
        client.select(account.folder)
        status, data = client.uid("SEARCH", "UNSEEN")
        if status != "OK":
            return results
        for uid in (data[0] or b"").split():
            status, parts = client.uid("FETCH", uid, "(BODY.PEEK[])")  # type: ignore[arg-type]
            raw = next((p[1] for p in parts if isinstance(p, tuple)), None)
            if status != "OK" or not isinstance(raw, bytes):
                continue
            results.append(import_email(ctx, raw, account.department))
            client.uid("STORE", uid, "+FLAGS", "(\\Seen)")  # type: ignore[arg-type]
    finally:
        try:
            client.logout()
        except Exception:
            pass
    return results


def run_imap_poll(ctx: Context) -> int:
    """Poll every configured account; returns how many messages were imported. Errors of one
    account are logged and do not stop the others."""
    cfg = config(ctx)
    if not cfg.imap_enabled:
        return 0
    count = 0
    for account in cfg.imap_accounts:
        try:
            results = poll_account(ctx, account)
        except (OSError, imaplib.IMAP4.error) as exc:
            log.warning("tickets IMAP poll of %s@%s failed: %s", account.user, account.host, exc)
            continue
        for result in results:
            log.info("tickets intake (%s): %s", account.department, result.line())
        count += len(results)
    return count
