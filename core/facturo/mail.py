"""Email: render the bilingual templates, build MIME messages, deliver the outbox.

Templates live at ``email/<lang>/<name>.subject.txt``, ``.txt`` and ``.html``. Delivery claims
due rows (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so several workers share the queue), hands
each message to the ``send_email`` hook outside any transaction, and on failure schedules a retry
with exponential backoff; after ``MAX_ATTEMPTS`` the message stays visible as ``failed``.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from markupsafe import escape
from sqlalchemy import or_, select, update

from facturo.i18n import LANGUAGES
from facturo.models import Document, OutboxMessage

if TYPE_CHECKING:
    from facturo.context import Context

MAX_ATTEMPTS = 8
BASE_DELAY_SECONDS = 60
MAX_DELAY_SECONDS = 6 * 3600
LEASE_SECONDS = 300


def render_email(
    ctx: Context, template: str, language: str, context: Mapping[str, Any]
) -> tuple[str, str, str]:
    """Return (subject, text, html) of email ``template`` in ``language`` (es or en)."""
    lang = language if language in LANGUAGES else "es"
    env = ctx.templates
    values = {**context, **_base_values(ctx, lang)}
    subject = env.get_template(f"email/{lang}/{template}.subject.txt").render(values).strip()
    text = env.get_template(f"email/{lang}/{template}.txt").render(values)
    html = env.get_template(f"email/{lang}/{template}.html").render(values)
    return " ".join(subject.split()), text, html


def _base_values(ctx: Context, lang: str) -> dict[str, Any]:
    translations = ctx.translations(lang)
    return {
        "lang": lang,
        "seller": ctx.settings.seller,
        "zone": ctx.settings.zone,
        "base_url": ctx.settings.base_url,
        "gettext": translations.gettext,
        "ngettext": translations.ngettext,
        "_": translations.gettext,
    }


class EmailStamp:
    """Render one email template for many rows fast, with output identical to render_email.

    Each distinct ``fixed`` context (everything that is not a plain text field) is rendered once
    with unique placeholders in the ``varying`` text fields; each row then gets the template's
    output with the placeholders replaced by its own values (HTML-escaped in the HTML part).
    Placeholders contain only letters, so escaping and whitespace folding leave them intact.
    """

    def __init__(self, ctx: Context, template: str) -> None:
        self.ctx = ctx
        self.template = template
        self._cache: dict[Any, tuple[list[str], ...]] = {}

    @staticmethod
    @lru_cache(maxsize=64)
    def marker(name: str) -> str:
        """The placeholder standing for the varying field ``name``."""
        return "QXFACTUROQ" + "".join(c for c in name.upper() if c.isalpha()) + "QX"

    def render(
        self,
        language: str,
        key: Any,
        build: Callable[[], Mapping[str, Any]],
        values: Mapping[str, str],
    ) -> tuple[str, str, str]:
        """(subject, text, html) for one row; ``build`` makes the template context with the
        markers of ``values``' keys in place, and is called once per distinct ``key``."""
        cache_key = (language, key)
        pieces = self._cache.get(cache_key)
        if pieces is None:
            lang = language if language in LANGUAGES else "es"
            env = self.ctx.templates
            context = {**build(), **_base_values(self.ctx, lang)}
            rendered = (
                env.get_template(f"email/{lang}/{self.template}.subject.txt").render(context),
                env.get_template(f"email/{lang}/{self.template}.txt").render(context),
                env.get_template(f"email/{lang}/{self.template}.html").render(context),
            )
            # literal, marker letters, literal, … so each row is one join
            pieces = tuple(_MARKER.split(part) for part in rendered)
            self._cache[cache_key] = pieces
        plain = {self.marker(name)[10:-2]: value for name, value in values.items()}
        escaped = {letters: str(escape(plain[letters])) for letters in set(pieces[2][1::2])}
        subject = _fill(pieces[0], plain)
        return " ".join(subject.split()), _fill(pieces[1], plain), _fill(pieces[2], escaped)


_MARKER = re.compile(r"QXFACTUROQ([A-Z]+?)QX")


def _fill(pieces: list[str], values: Mapping[str, str]) -> str:
    if len(pieces) == 1:
        return pieces[0]
    out = list(pieces)
    out[1::2] = [values[letters] for letters in pieces[1::2]]
    return "".join(out)


def build_message(
    ctx: Context, row: OutboxMessage, attachments: list[tuple[str, str, bytes]]
) -> EmailMessage:
    """A MIME message (text + HTML alternative, attachments) for outbox ``row``."""
    message = EmailMessage()
    message["Subject"] = row.subject
    message["From"] = formataddr((ctx.settings.seller.legal_name, ctx.settings.smtp.from_address))
    message["To"] = row.to_address
    reply_to = row.reply_to or ctx.settings.smtp.reply_to
    if reply_to:
        message["Reply-To"] = reply_to
    domain = ctx.settings.smtp.from_address.rpartition("@")[2] or "facturo.local"
    message["Message-ID"] = row.headers.get("Message-ID") or make_msgid(
        idstring=f"outbox{row.id}", domain=domain
    )
    message["X-Facturo-Loop"] = "1"
    message["Auto-Submitted"] = "auto-generated"
    for name, value in row.headers.items():
        if name != "Message-ID":
            message[name] = value
    message.set_content(row.text_body)
    if row.html_body:
        message.add_alternative(row.html_body, subtype="html")
    for filename, content_type, data in attachments:
        maintype, _, subtype = content_type.partition("/")
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return message


def _attachments(ctx: Context, row: OutboxMessage) -> list[tuple[str, str, bytes]]:
    from facturo.documents import document_pdf

    files: list[tuple[str, str, bytes]] = []
    for spec in row.attachments:
        if "document_id" in spec:
            with ctx.db.transaction() as session:
                document = session.get(Document, int(spec["document_id"]))
                if document is None:
                    continue
                pdf = document_pdf(ctx, session, document)
                files.append((f"{document.display_number}.pdf", "application/pdf", pdf))
        else:
            files.append(
                (spec["filename"], spec["content_type"], base64.b64decode(spec["data_b64"]))
            )
    return files


@dataclass
class DeliveryReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0


def claim_due(ctx: Context, limit: int = 50) -> list[int]:
    """Claim up to ``limit`` due messages for this worker (a lease of LEASE_SECONDS)."""
    now = ctx.now()
    with ctx.db.transaction() as session:
        query = (
            select(OutboxMessage.id)
            .where(
                or_(OutboxMessage.status == "pending", OutboxMessage.status == "sending"),
                OutboxMessage.next_attempt_at <= now,
            )
            .order_by(OutboxMessage.id)
            .limit(limit)
        )
        if not ctx.db.is_sqlite:
            query = query.with_for_update(skip_locked=True)
        ids = list(session.execute(query).scalars())
        if ids:
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(ids))
                .values(status="sending", next_attempt_at=now + timedelta(seconds=LEASE_SECONDS))
            )
    return ids


def deliver_due(ctx: Context, limit: int = 50) -> DeliveryReport:
    """Send every due message once; schedule retries; return what happened."""
    report = DeliveryReport()
    for message_id in claim_due(ctx, limit):
        with ctx.db.read_session() as session:
            row = session.get(OutboxMessage, message_id)
            if row is None:
                continue
            session.expunge(row)
        try:
            message = build_message(ctx, row, _attachments(ctx, row))
            ctx.hook.send_email(ctx=ctx, message=message)
        except Exception as exc:  # any transport error: keep the message and retry later
            attempts = row.attempts + 1
            failed = attempts >= MAX_ATTEMPTS
            delay = min(BASE_DELAY_SECONDS * 2 ** (attempts - 1), MAX_DELAY_SECONDS)
            with ctx.db.transaction() as session:
                session.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.id == message_id)
                    .values(
                        status="failed" if failed else "pending",
                        attempts=attempts,
                        last_error=f"{type(exc).__name__}: {exc}"[:1000],
                        next_attempt_at=ctx.now() + timedelta(seconds=delay),
                    )
                )
            if failed:
                report.failed += 1
            else:
                report.retried += 1
            continue
        with ctx.db.transaction() as session:
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == message_id)
                .values(status="sent", attempts=row.attempts + 1, sent_at=ctx.now(), last_error="")
            )
        report.sent += 1
    return report


def retry_failed(ctx: Context, message_id: int) -> bool:
    """Put a failed message back in the queue (a staff action); True when it was failed."""
    with ctx.db.transaction() as session:
        result = session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id, OutboxMessage.status == "failed")
            .values(status="pending", attempts=0, next_attempt_at=ctx.now())
        )
        return bool(getattr(result, "rowcount", 0))
