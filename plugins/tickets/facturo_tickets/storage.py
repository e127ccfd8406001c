"""Attachment files on disk, under the attachments folder (outside the web root)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from facturo.plugin import Context

from .intake import sanitize_filename
from .models import TicketAttachment, TicketMessage
from .settings import config


@dataclass(frozen=True)
class NewFile:
    """A checked file to store: name as given, sniffed content type, bytes."""

    filename: str
    content_type: str
    content: bytes


def store_files(
    session: Session, ctx: Context, message: TicketMessage, files: list[NewFile]
) -> list[TicketAttachment]:
    """Write ``files`` under ``<attachments_dir>/<ticket id>/`` with random names and add their
    rows to ``message``. The stored name never comes from the sender."""
    root = config(ctx).attachments_dir
    rows: list[TicketAttachment] = []
    for item in files:
        relative = Path(str(message.ticket_id)) / secrets.token_hex(16)
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(item.content)
        row = TicketAttachment(
            message_id=message.id,
            filename=sanitize_filename(item.filename) or "attachment",
            content_type=item.content_type,
            size=len(item.content),
            stored_path=str(relative),
        )
        session.add(row)
        rows.append(row)
    session.flush()
    return rows


def read_file(ctx: Context, attachment: TicketAttachment) -> bytes:
    """The bytes of ``attachment``; refuses paths that leave the attachments folder."""
    root = config(ctx).attachments_dir.resolve()
    path = (root / attachment.stored_path).resolve()
    if root not in path.parents:
        raise FileNotFoundError(attachment.stored_path)
    return path.read_bytes()
