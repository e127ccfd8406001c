"""Staff usage pages: the usage charts of all licences with the possible-sharing list, and the
charts and alert of one licence (shown on its page)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response

from facturo.plugin import Context, Customer, render, request_language, roles_required

from . import usage, usage_charts
from .models import Licence
from .service import licence_name
from .settings import config

ROLES = ("support", "billing")


def _days(request: Request, default: int) -> int:
    raw = request.query_params.get("days", "")
    return int(raw) if raw.isdigit() and 1 <= int(raw) <= usage.MAX_DAYS else default


def licence_usage(session: Session, ctx: Context, licence_id: int, language: str) -> dict[str, Any]:
    """The template values of one licence's usage: ``usage_charts``, ``sharing`` (an alert or
    None), ``usage_days``."""
    cfg = config(ctx)
    span = usage.window(ctx.now(), cfg.usage_days)
    _ = ctx.translations(language).gettext
    alerts = usage.sharing_alerts(
        session, span, usage.allowed_shops(cfg.moves_per_year), licence_id=licence_id
    )
    return {
        "usage_charts": usage_charts.build(session, span, language, _, licence_id),
        "sharing": alerts[0] if alerts else None,
        "usage_days": cfg.usage_days,
    }


@roles_required(*ROLES)
def usage_page(request: Request) -> Response:
    """Usage of every licence over the window, and the licences that may be shared."""
    ctx: Context = request.app.state.ctx
    cfg = config(ctx)
    language = request_language(request)
    days = _days(request, cfg.usage_days)
    span = usage.window(ctx.now(), days)
    _ = ctx.translations(language).gettext
    with ctx.db.read_session() as session:
        alerts = usage.sharing_alerts(session, span, usage.allowed_shops(cfg.moves_per_year))
        licences = {
            lic.id: lic
            for lic in session.scalars(
                select(Licence).where(Licence.id.in_([a.licence_id for a in alerts]))
            )
        }
        rows = []
        for alert in alerts:
            licence = licences[alert.licence_id]
            customer = session.get(Customer, licence.customer_id)
            rows.append((alert, licence_name(session, licence, language), customer))
        charts = usage_charts.build(session, span, language, _)
    return render(
        request,
        "prestaimport_license/admin_usage.html",
        {"charts": charts, "alerts": rows, "days": days, "max_days": usage.MAX_DAYS},
    )
