"""Email rendering: the bilingual templates and the MIME message built from an outbox row.

Templates live at ``email/<lang>/<name>.subject.txt``, ``.txt`` and ``.html``. Rendering happens
when a message is queued (so what is sent is what was decided in the transaction); the MIME
message is built when it is delivered.
"""

from __future__ import annotations

import os
import random
import re
import time
from collections.abc import Callable, Mapping
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from jinja2 import Template
from markupsafe import escape

from facturo.gateways.methods import method_labels
from facturo.i18n import LANGUAGES
from facturo.models import OutboxMessage

if TYPE_CHECKING:
    from facturo.context import Context


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
        "payment_methods": method_labels(ctx, lang),
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
        self._cache: dict[Any, tuple[tuple[str, str, str], tuple[list[str], ...]]] = {}
        self._templates: dict[str, tuple[tuple[Template, ...], dict[str, Any]]] = {}

    @staticmethod
    @lru_cache(maxsize=64)
    def marker(name: str) -> str:
        """The placeholder standing for the varying field ``name``."""
        return "QXFACTUROQ" + "".join(c for c in name.upper() if c.isalpha()) + "QX"

    def rendered(
        self, language: str, key: Any, build: Callable[[], Mapping[str, Any]]
    ) -> tuple[str, str, str]:
        """(subject, text, html) as the templates render them with the markers in place (the
        subject not yet folded); ``build`` makes the context, once per distinct ``key``."""
        return self._entry(language, key, build)[0]

    def render(
        self,
        language: str,
        key: Any,
        build: Callable[[], Mapping[str, Any]],
        values: Mapping[str, str],
    ) -> tuple[str, str, str]:
        """(subject, text, html) for one row; ``build`` makes the template context with the
        markers of ``values``' keys in place, and is called once per distinct ``key``."""
        pieces = self._entry(language, key, build)[1]
        plain = {self.marker(name)[10:-2]: value for name, value in values.items()}
        escaped = {letters: str(escape(plain[letters])) for letters in set(pieces[2][1::2])}
        subject = _fill(pieces[0], plain)
        return " ".join(subject.split()), _fill(pieces[1], plain), _fill(pieces[2], escaped)

    def _entry(
        self, language: str, key: Any, build: Callable[[], Mapping[str, Any]]
    ) -> tuple[tuple[str, str, str], tuple[list[str], ...]]:
        cache_key = (language, key)
        entry = self._cache.get(cache_key)
        if entry is None:
            lang = language if language in LANGUAGES else "es"
            found = self._templates.get(lang)
            if found is None:  # looked up once per stamp: the same for all its rows
                env = self.ctx.templates
                found = self._templates[lang] = (
                    tuple(
                        env.get_template(f"email/{lang}/{self.template}{suffix}")
                        for suffix in (".subject.txt", ".txt", ".html")
                    ),
                    _base_values(self.ctx, lang),
                )
            templates, base = found
            context = {**build(), **base}
            rendered = (
                templates[0].render(context),
                templates[1].render(context),
                templates[2].render(context),
            )
            # literal, marker letters, literal, … so each row is one join
            entry = (rendered, tuple(_MARKER.split(part) for part in rendered))
            self._cache[cache_key] = entry
        return entry


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
    # Both fixed when the message was queued: every attempt sends the same message, so a
    # repeat after an ambiguous SMTP failure can be recognised by the receiving side.
    message["Message-ID"] = row.message_id or row.headers.get("Message-ID") or _legacy_id(ctx, row)
    message["Date"] = format_datetime(row.created_at)
    message["X-Facturo-Loop"] = "1"
    message["Auto-Submitted"] = "auto-generated"
    for name, value in row.headers.items():
        if name not in ("Message-ID", "Date"):
            message[name] = value
    message.set_content(row.text_body)
    if row.html_body:
        message.add_alternative(row.html_body, subtype="html")
    for filename, content_type, data in attachments:
        maintype, _, subtype = content_type.partition("/")
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return message


def new_message_id(ctx: Context) -> str:
    """A fresh Message-ID in the sender's domain, for a message being queued."""
    return make_msgid(idstring="facturo", domain=_domain(ctx))


def new_message_ids(ctx: Context, count: int) -> list[str]:
    """``count`` fresh Message-IDs, each made as ``email.utils.make_msgid`` makes them
    (hundredths of a second, process id, 64 random bits, ``facturo``, the sender's domain)."""
    domain = _domain(ctx)
    pid = os.getpid()
    bits = random.getrandbits
    clock = time.time
    return [f"<{int(clock() * 100)}.{pid}.{bits(64)}.facturo@{domain}>" for _ in range(count)]


def _domain(ctx: Context) -> str:
    return ctx.settings.smtp.from_address.rpartition("@")[2] or "facturo.local"


def _legacy_id(ctx: Context, row: OutboxMessage) -> str:
    """A stable id for rows queued before Message-IDs were stored (derived from the row)."""
    return f"<outbox{row.id}.{int(row.created_at.timestamp())}.facturo@{_domain(ctx)}>"
