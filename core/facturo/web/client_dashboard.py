"""The client dashboard: services, unpaid documents first, plugin panels."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from facturo.billing.documents import recent_documents
from facturo.models import Customer, Service
from facturo.web.client_common import ctx_of, me
from facturo.web.rendering import render, request_language


def customer_services(session: Session, customer_id: int) -> list[Service]:
    """The customer's services with their product loaded, main services before add-ons."""
    query = (
        select(Service)
        .where(Service.customer_id == customer_id)
        .options(selectinload(Service.product))
        .order_by(Service.id)
    )
    rows = list(session.scalars(query))
    return sorted(rows, key=lambda s: (s.parent_id or s.id, s.parent_id is not None, s.id))


def dashboard(request: Request) -> Response:
    """Services with status and next due date; unpaid documents (with their pay button)
    first; the panels plugins contribute."""
    ctx = ctx_of(request)
    customer = me(request)
    lang = request_language(request)
    with ctx.db.read_session() as session:
        services = customer_services(session, customer.id)
        documents = recent_documents(session, customer.id)
        fresh = session.get(Customer, customer.id)
        panels: list[Any] = []
        for contributed in ctx.hook.client_dashboard_panels(
            ctx=ctx, session=session, customer=fresh, language=lang
        ):
            panels.extend(contributed)
        panels.sort(key=lambda panel: panel.order)
        return render(
            request,
            "client/dashboard.html",
            {"services": services, "documents": documents, "panels": panels},
        )


def routes() -> list[Route]:
    """Dashboard route of the client section."""
    return [Route("/", dashboard, methods=["GET"])]
