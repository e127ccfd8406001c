"""Staff: every gateway's server-to-server notifications in one list, in every state
(received but not yet applied, processed, duplicate, rejected, error), filtered by gateway and
state. Gateway plugins link here (or serve it under their own path, filtered)."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import func, select
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from facturo.gateways.pipeline import STATES
from facturo.models import GatewayNotification
from facturo.web.admin_common import PAGE_SIZE, ctx_of, page_number
from facturo.web.rendering import render
from facturo.web.sections import roles_required

#: States shown as needing attention.
ATTENTION = ("received", "rejected", "error")
#: The English label of each state (translated in the template).
STATE_LABELS = {
    "received": "Received, not applied yet",
    "processed": "Processed",
    "duplicate": "Duplicate",
    "rejected": "Rejected",
    "error": "Failed",
}


def render_notifications(request: Request, gateway: str | None = None) -> Response:
    """The list page; ``gateway`` fixes the gateway filter (a plugin's own page)."""
    ctx = ctx_of(request)
    chosen_gateway = gateway or request.query_params.get("gateway", "")
    state = request.query_params.get("status", "")
    if state not in STATES:
        state = ""
    page = page_number(request)
    query = select(GatewayNotification).order_by(GatewayNotification.id.desc())
    if chosen_gateway:
        query = query.where(GatewayNotification.gateway == chosen_gateway)
    if state:
        query = query.where(GatewayNotification.status == state)
    with ctx.db.read_session() as session:
        rows = list(session.scalars(query.limit(PAGE_SIZE + 1).offset((page - 1) * PAGE_SIZE)))
        gateways = sorted(
            set(session.scalars(select(GatewayNotification.gateway).distinct()))
            | ({chosen_gateway} if chosen_gateway else set())
        )
        counts = dict(
            session.execute(
                select(GatewayNotification.status, func.count())
                .where(
                    GatewayNotification.gateway == chosen_gateway
                    if chosen_gateway
                    else GatewayNotification.id.is_not(None)
                )
                .group_by(GatewayNotification.status)
            ).all()
        )
    return render(
        request,
        "admin/notifications.html",
        {
            "rows": rows[:PAGE_SIZE],
            "has_next": len(rows) > PAGE_SIZE,
            "page": page,
            "gateways": gateways,
            "gateway": chosen_gateway,
            "fixed_gateway": gateway,
            "status": state,
            "states": STATES,
            "labels": STATE_LABELS,
            "attention": ATTENTION,
            "counts": {name: int(counts.get(name, 0)) for name in STATES},
        },
    )


@roles_required("billing")
def notification_list(request: Request) -> Response:
    """GET /admin/notifications?gateway=&status=&page="""
    return render_notifications(request)


def gateway_notifications_page(gateway: str) -> Callable[[Request], Response]:
    """A route handler serving the list filtered to ``gateway`` (for a plugin's own path)."""

    @roles_required("billing")
    def handler(request: Request) -> Response:
        return render_notifications(request, gateway)

    return handler


def routes() -> list[Route]:
    return [Route("/notifications", notification_list)]
