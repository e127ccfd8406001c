"""A minimal Facturo plugin.

It shows the four things most plugins do: add a menu link and a page to the client area,
keep a table of its own (with an Alembic branch labelled ``hello``), and react to an event
(``on_invoice_paid``) by writing a row.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from sqlalchemy import ForeignKey, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from facturo.plugin import Base, Context, Document, MenuItem, hookimpl


class PaidNote(Base):
    """One row per paid invoice, written by ``on_invoice_paid``."""

    __tablename__ = "hello_paid_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), unique=True)
    number: Mapped[str] = mapped_column(String(40))


@hookimpl
def db_migrations() -> list[Path]:
    return [Path(__file__).parent / "migrations"]


@hookimpl
def client_menu_items(customer: object) -> list[MenuItem]:
    return [MenuItem(label={"es": "Hola", "en": "Hello"}, url="/client/hello", order=900)]


def hello_page(request: Request) -> HTMLResponse:
    customer = request.state.customer
    return HTMLResponse(f"<p>Hello, {escape(customer.name)}!</p>")


@hookimpl
def web_routes(section: str) -> list[Route]:
    if section == "client":
        return [Route("/hello", hello_page)]
    return []


@hookimpl
def on_invoice_paid(ctx: Context, session: Session, document: Document) -> None:
    exists = session.scalar(select(PaidNote).where(PaidNote.document_id == document.id))
    if exists is None and document.number:
        session.add(PaidNote(document_id=document.id, number=document.number))
