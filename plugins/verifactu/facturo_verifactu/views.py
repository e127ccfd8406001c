"""Staff page: the chain's state, pending and failed submissions; cancel a record issued in error."""

from __future__ import annotations

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from facturo.plugin import audit_record, error_page, flash, render, request_language, roles_required

from .chain import ChainError, append_cancellation, verify_chain
from .models import ChainHead, ChainRecord
from .settings import config

FAILED = ("rejected", "accepted_with_errors", "retry")


@roles_required("billing")
def overview(request: Request) -> Response:
    """Chain state for the configured issuer, pending and failed records, recent records."""
    ctx = request.app.state.ctx
    cfg = config(ctx)
    with ctx.db.read_session() as session:
        report = verify_chain(session, cfg.issuer_nif)
        head = session.scalar(select(ChainHead).where(ChainHead.issuer_nif == cfg.issuer_nif))
        base = select(ChainRecord).where(ChainRecord.issuer_nif == cfg.issuer_nif)
        pending = list(
            session.scalars(
                base.where(ChainRecord.status == "pending")
                .order_by(ChainRecord.sequence)
                .limit(200)
            )
        )
        failed = list(
            session.scalars(
                base.where(ChainRecord.status.in_(FAILED)).order_by(ChainRecord.sequence).limit(200)
            )
        )
        recent = list(session.scalars(base.order_by(ChainRecord.sequence.desc()).limit(50)))
        cancelled = set(
            session.scalars(
                select(ChainRecord.number).where(
                    ChainRecord.issuer_nif == cfg.issuer_nif, ChainRecord.kind == "anulacion"
                )
            )
        )
    return render(
        request,
        "verifactu/overview.html",
        {
            "config": cfg,
            "report": report,
            "head": head,
            "pending": pending,
            "failed": failed,
            "recent": recent,
            "cancelled": cancelled,
        },
    )


@roles_required("admin")
async def cancel(request: Request) -> Response:
    """Append an anulación for an alta issued in error (the reason is required)."""
    ctx = request.app.state.ctx
    form = await request.form()
    reason = str(form.get("reason") or "")
    record_id = int(request.path_params["record_id"])
    _ = ctx.translations(request_language(request)).gettext
    staff = request.state.staff
    try:
        with ctx.db.transaction() as session:
            row = append_cancellation(ctx, session, record_id, reason)
            audit_record(
                session,
                f"staff:{staff.id}",
                "verifactu.cancel",
                row,
                after={"number": row.number, "reason": row.reason},
            )
            number = row.number
    except ChainError as exc:
        if "only a registration" in str(exc):
            return error_page(request, 404)
        flash(request, f"{_('Not cancelled')}: {exc}", "error")
        return RedirectResponse("/admin/verifactu", status_code=303)
    flash(request, _("Cancellation record added for %(number)s.") % {"number": number}, "ok")
    return RedirectResponse("/admin/verifactu", status_code=303)


def admin_routes() -> list[Route]:
    """The staff routes (mounted under /admin)."""
    return [
        Route("/verifactu", overview, methods=["GET"]),
        Route("/verifactu/records/{record_id:int}/cancel", cancel, methods=["POST"]),
    ]
