"""Canned replies: prepared answers staff insert into a reply and edit before sending."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from facturo.plugin import Context

from .models import CannedReply
from .service import TicketError

PLACEHOLDERS = ("name", "ticket", "staff")
MAX_TITLE = 100
MAX_BODY = 20_000


def canned_replies(session: Session) -> list[CannedReply]:
    """Every canned reply, by title."""
    return list(session.scalars(select(CannedReply).order_by(CannedReply.title)))


def save_canned_reply(
    session: Session, ctx: Context, title: str, body: str, reply: CannedReply | None = None
) -> CannedReply:
    """Create ``title``/``body`` (or update ``reply``); titles are unique, case-insensitively.
    Raises TicketError naming the field on bad input."""
    title, body = title.strip(), body.strip()
    if not title or len(title) > MAX_TITLE:
        raise TicketError("Give the reply a title (at most 100 characters).", "title")
    if not body or len(body) > MAX_BODY:
        raise TicketError("Write the reply (at most 20,000 characters).", "body")
    clash = session.scalar(
        select(CannedReply.id).where(func.lower(CannedReply.title) == title.lower())
    )
    if clash is not None and (reply is None or clash != reply.id):
        raise TicketError("A canned reply with this title exists.", "title")
    if reply is None:
        reply = CannedReply(title=title, body=body, updated_at=ctx.now())
        session.add(reply)
    else:
        reply.title, reply.body, reply.updated_at = title, body, ctx.now()
    session.flush()
    return reply


def fill(body: str, values: Mapping[str, str]) -> str:
    """``body`` with each ``{placeholder}`` of PLACEHOLDERS replaced; other braces stay as
    written (no format-string evaluation of staff text)."""
    for key in PLACEHOLDERS:
        body = body.replace("{" + key + "}", values.get(key, ""))
    return body
