"""The staff dashboard (money owed, payments, failed emails, worker health) and the audit log."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from facturo import audit
from facturo.billing.evidence import open_conflicts
from facturo.billing.movements import takings_since
from facturo.context import Context
from facturo.delivery.mail import requeue_failed, retry_failed
from facturo.models import AuditEvent, Document, JobRun, OutboxMessage, Payment
from facturo.web import dashboard_charts
from facturo.web.admin_common import PAGE_SIZE, ctx_of, get_or_404, page_number
from facturo.web.rendering import flash, gettext_for, render, request_language
from facturo.web.sections import roles_required

WORKER_STALE = timedelta(minutes=15)
#: Roles shown the money charts (revenue, MRR, payments, receivables).
MONEY_ROLES = ("admin", "billing")


def dashboard_figures(ctx: Context, session: Session) -> dict[str, Any]:
    """Outstanding/overdue totals, payments this month (net of refunds, with the gross
    received and the refunds given back beside), failed emails, job runs."""
    today = ctx.today()
    owed = Document.total - Document.amount_paid - Document.credit_applied
    unpaid = select(func.coalesce(func.sum(owed), 0)).where(
        Document.kind == "proforma", Document.status == "unpaid"
    )
    month_start = datetime.combine(
        today.replace(day=1), datetime.min.time(), tzinfo=ctx.settings.zone
    )
    takings = takings_since(session, month_start)
    runs = {run.name: run for run in session.scalars(select(JobRun))}
    heartbeat = runs.get("worker")
    last_beat = heartbeat.last_finished_at or heartbeat.last_started_at if heartbeat else None
    return {
        "outstanding": Decimal(session.scalar(unpaid) or 0),
        "overdue": Decimal(session.scalar(unpaid.where(Document.due_date < today)) or 0),
        "payments_month": takings.net,
        "payments_month_gross": takings.gross,
        "refunds_month": takings.refunds,
        "review_count": session.scalar(
            select(func.count()).select_from(Payment).where(Payment.status == "needs_review")
        )
        or 0,
        "failed_emails": list(
            session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.status == "failed")
                .order_by(OutboxMessage.id.desc())
                .limit(20)
            )
        ),
        "evidence_conflicts": open_conflicts(session),
        "runs": sorted(runs.values(), key=lambda r: r.name),
        "billing_run": runs.get("billing_run"),
        "worker_last": last_beat,
        "worker_stale": last_beat is None or ctx.now() - last_beat > WORKER_STALE,
    }


def dashboard(request: Request) -> Response:
    """The dashboard: the core's figures, the money charts for admin and billing staff (see
    :mod:`facturo.web.dashboard_charts`) and the panels plugins contribute (open tickets by
    priority, licences…) through ``admin_dashboard_panels``."""
    ctx = ctx_of(request)
    staff = request.state.staff
    with ctx.db.read_session() as session:
        figures = dashboard_figures(ctx, session)
        figures["currency"] = ctx.settings.currency
        figures["analytics"] = (
            dashboard_charts.build(ctx, session, request_language(request))
            if staff.role in MONEY_ROLES
            else None
        )
        panels = [
            panel
            for contributed in ctx.hook.admin_dashboard_panels(
                ctx=ctx,
                session=session,
                staff=staff,
                language=request_language(request),
            )
            for panel in contributed
        ]
    figures["panels"] = sorted(panels, key=lambda panel: panel.order)
    return render(request, "admin/dashboard.html", figures)


@roles_required("billing")
def retry_email(request: Request) -> Response:
    """Put a failed email back in the queue."""
    _ = gettext_for(request)
    ctx = ctx_of(request)
    with ctx.db.read_session() as session:
        message = get_or_404(session, OutboxMessage, request.path_params["id"])
    if retry_failed(ctx, message.id):
        with ctx.db.transaction() as session:
            audit.record(
                session,
                f"staff:{request.state.staff.id}",
                "email.retry",
                message,
                before={"status": "failed"},
                after={"status": "pending"},
            )
        flash(request, _("The email is queued again."), "ok")
    return RedirectResponse("/admin/", status_code=303)


@roles_required("billing")
def retry_all_emails(request: Request) -> Response:
    """Put every failed email back in the queue (after an outage longer than the retries)."""
    _ = gettext_for(request)
    ctx = ctx_of(request)
    with ctx.db.transaction() as session:
        queued = requeue_failed(session, ctx)
        audit.record(
            session,
            f"staff:{request.state.staff.id}",
            "email.retry_all",
            ("OutboxMessage", "failed"),
            after={"queued": queued},
        )
    flash(request, _("%(count)s failed emails are queued again.") % {"count": queued}, "ok")
    return RedirectResponse("/admin/", status_code=303)


@roles_required("billing")
def audit_log(request: Request) -> Response:
    """The audit log, newest first, filterable by actor, action and entity."""
    ctx = ctx_of(request)
    params = request.query_params
    page = page_number(request)
    query = select(AuditEvent).order_by(AuditEvent.id.desc())
    for key, column in (
        ("actor", AuditEvent.actor),
        ("action", AuditEvent.action),
        ("entity_type", AuditEvent.entity_type),
        ("entity_id", AuditEvent.entity_id),
    ):
        if params.get(key):
            query = query.where(column == params[key])
    with ctx.db.read_session() as session:
        events = list(session.scalars(query.limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)))
    return render(
        request, "admin/audit.html", {"events": events, "page": page, "filters": dict(params)}
    )


def routes() -> list[Route]:
    return [
        Route("/", dashboard),
        Route("/emails/retry-failed", retry_all_emails, methods=["POST"]),
        Route("/emails/{id}/retry", retry_email, methods=["POST"]),
        Route("/audit", audit_log),
    ]
