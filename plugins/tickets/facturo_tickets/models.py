"""Tables of the tickets plugin: departments, tickets, their messages and attachments, and
the canned replies staff insert into their answers."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from facturo.plugin import Base, UTCDateTime

STATUSES = ("open", "answered", "customer-reply", "on-hold", "closed")
PRIORITIES = ("low", "medium", "high", "urgent")
PRIORITY_RANK = {name: rank for rank, name in enumerate(PRIORITIES)}
AUTHORS = ("customer", "staff", "guest")
SOURCES = ("web", "email")


class Department(Base):
    """Where tickets go; ``roles`` (comma list) are the staff roles that see it."""

    __tablename__ = "tickets_departments"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str] = mapped_column(String(254), unique=True)
    default_priority: Mapped[str] = mapped_column(String(10), default="medium")
    roles: Mapped[str] = mapped_column(String(200), default="support")

    @property
    def role_list(self) -> tuple[str, ...]:
        return tuple(r.strip() for r in self.roles.split(",") if r.strip())


class Ticket(Base):
    """A support conversation with a customer (or a guest address)."""

    __tablename__ = "tickets_tickets"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[int | None] = mapped_column(Integer, unique=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    guest_email: Mapped[str | None] = mapped_column(String(254))
    department_id: Mapped[int] = mapped_column(ForeignKey("tickets_departments.id"), index=True)
    subject: Mapped[str] = mapped_column(String(250))
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    priority: Mapped[str] = mapped_column(String(10), default="medium")
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"), index=True)
    service_id: Mapped[int | None] = mapped_column(ForeignKey("services.id"))
    source: Mapped[str] = mapped_column(String(8), default="web")
    last_customer_message_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The first reply the customer saw from us (internal notes do not count).
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    close_warning_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("tickets_tickets.id"))


class TicketMessage(Base):
    """One message of a ticket's thread; internal notes are for staff only."""

    __tablename__ = "tickets_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets_tickets.id"), index=True)
    author: Mapped[str] = mapped_column(String(10))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    body: Mapped[str] = mapped_column(Text)
    internal: Mapped[bool] = mapped_column(Boolean, default=False)
    email_message_id: Mapped[str | None] = mapped_column(String(500), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class TicketAttachment(Base):
    """A file of a message, stored under the attachments folder (``stored_path`` relative)."""

    __tablename__ = "tickets_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("tickets_messages.id"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    stored_path: Mapped[str] = mapped_column(String(500))


class CannedReply(Base):
    """A prepared answer; its body may hold ``{name}``, ``{ticket}`` and ``{staff}``."""

    __tablename__ = "tickets_canned_replies"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(100), unique=True)
    body: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
