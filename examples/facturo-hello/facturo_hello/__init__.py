"""A minimal Facturo plugin.

It shows the things most plugins do: add a menu link and a page to the client area (a
template of its own, in the client layout, in the visitor's language), keep a table of its own
(with an Alembic branch labelled ``hello``), and react to an event (``on_invoice_paid``) by
writing a row. Its ``templates/`` and ``migrations/`` folders are found by convention (no
hook); its ``pyproject.toml`` ships them in the wheel.
"""

from __future__ import annotations

from sqlalchemy import ForeignKey, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from facturo.plugin import Base, Context, Document, MenuItem, hookimpl, render


class PaidNote(Base):
    """One row per paid invoice, written by ``on_invoice_paid``."""

    __tablename__ = "hello_paid_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), unique=True)
    number: Mapped[str] = mapped_column(String(40))


@hookimpl
def client_menu_items(customer: object) -> list[MenuItem]:
    return [MenuItem(label={"es": "Hola", "en": "Hello"}, url="/client/hello", order=900)]


def hello_page(request: Request) -> Response:
    return render(request, "hello/page.html", {"name": request.state.customer.name})


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
