"""The default mailer: SMTP when configured, else ``.eml`` files under ``var/mail/``."""

from __future__ import annotations

import logging
import smtplib
import ssl
from email.message import EmailMessage
from typing import TYPE_CHECKING

from facturo.hookspecs import hookimpl

if TYPE_CHECKING:
    from facturo.context import Context

SMTP_TIMEOUT_SECONDS = 20
log = logging.getLogger(__name__)


@hookimpl(trylast=True)
def send_email(ctx: Context, message: EmailMessage) -> bool:
    """Send over SMTP (STARTTLS, SSL or plain) or write an .eml file.

    Raises when the server did not accept the message. Once it has answered the DATA with
    2xx the message is its responsibility: a failure after that (QUIT refused, the
    connection dropped) is logged, not raised, so the message is not sent a second time.
    """
    smtp = ctx.settings.smtp
    if not smtp.configured:
        folder = ctx.settings.mail_dir
        folder.mkdir(parents=True, exist_ok=True)
        stamp = ctx.now().strftime("%Y%m%dT%H%M%S%f")
        message_id = str(message["Message-ID"] or "").strip("<>").replace("/", "_")
        (folder / f"{stamp}-{message_id[:60]}.eml").write_bytes(bytes(message))
        return True
    if smtp.security == "ssl":
        client: smtplib.SMTP = smtplib.SMTP_SSL(
            smtp.host, smtp.port, timeout=SMTP_TIMEOUT_SECONDS, context=ssl.create_default_context()
        )
    else:
        client = smtplib.SMTP(smtp.host, smtp.port, timeout=SMTP_TIMEOUT_SECONDS)
    try:
        if smtp.security == "starttls":
            client.starttls(context=ssl.create_default_context())
        if smtp.user:
            client.login(smtp.user, smtp.password)
        client.send_message(message)
    except BaseException:
        client.close()
        raise
    # Accepted. `with smtplib.SMTP(...)` would raise here on a refused QUIT; we only log.
    try:
        client.quit()
    except (smtplib.SMTPException, OSError) as exc:
        log.warning("SMTP server accepted %s, then: %s", message["Message-ID"], exc)
    finally:
        client.close()
    return True
