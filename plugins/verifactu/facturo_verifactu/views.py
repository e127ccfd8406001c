"""Staff pages: the chain's state, pending and failed submissions, cancel a record issued in
error or re-send one as a subsanación; reconciliation with the AEAT; the declaración
responsable."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import aliased
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from facturo.plugin import (
    audit_record,
    error_page,
    flash,
    render,
    request_language,
    roles_required,
)

from .chain import ChainError, append_cancellation, resend_alta, verify_chain
from .declaration import TITLE, as_text, declaration
from .models import ChainHead, ChainRecord, Difference, Reconciliation
from .reconcile import reconcile_month
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
        later = aliased(ChainRecord)
        superseded = (
            select(later.id)
            .where(
                later.issuer_nif == ChainRecord.issuer_nif,
                later.number == ChainRecord.number,
                later.sequence > ChainRecord.sequence,
            )
            .exists()
        )
        failed = list(
            session.scalars(
                base.where(ChainRecord.status.in_(FAILED), ~superseded)
                .order_by(ChainRecord.sequence)
                .limit(200)
            )
        )
        last_run = session.scalar(
            select(Reconciliation)
            .where(Reconciliation.issuer_nif == cfg.issuer_nif)
            .order_by(Reconciliation.ran_at.desc(), Reconciliation.id.desc())
            .limit(1)
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
            "last_run": last_run,
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


@roles_required("billing")
async def resend(request: Request) -> Response:
    """Append a subsanación of a rejected or corrected alta (flags chosen by the chain)."""
    ctx = request.app.state.ctx
    form = await request.form()
    text = str(form.get("description") or "").strip()
    record_id = int(request.path_params["record_id"])
    _ = ctx.translations(request_language(request)).gettext
    staff = request.state.staff
    try:
        with ctx.db.transaction() as session:
            row = resend_alta(ctx, session, record_id, text or None)
            audit_record(
                session,
                f"staff:{staff.id}",
                "verifactu.resend",
                row,
                after={
                    "number": row.number,
                    "revision": row.revision,
                    "previous_rejection": row.payload.get("previous_rejection"),
                },
            )
            number = row.number
    except ChainError as exc:
        if "only a registration" in str(exc):
            return error_page(request, 404)
        flash(request, f"{_('Not re-sent')}: {exc}", "error")
        return RedirectResponse("/admin/verifactu", status_code=303)
    flash(request, _("Subsanación added for %(number)s.") % {"number": number}, "ok")
    return RedirectResponse("/admin/verifactu", status_code=303)


def _month(form_year: str, form_month: str) -> tuple[int, int] | None:
    if not (form_year.isdigit() and form_month.isdigit()):
        return None
    year, month = int(form_year), int(form_month)
    if not (2024 <= year <= 2999 and 1 <= month <= 12):
        return None
    return year, month


@roles_required("billing")
def reconciliation(request: Request) -> Response:
    """The latest reconciliation runs with the differences they found."""
    ctx = request.app.state.ctx
    cfg = config(ctx)
    with ctx.db.read_session() as session:
        runs = list(
            session.scalars(
                select(Reconciliation)
                .where(Reconciliation.issuer_nif == cfg.issuer_nif)
                .order_by(Reconciliation.ran_at.desc(), Reconciliation.id.desc())
                .limit(24)
            )
        )
        differences: dict[int, list[Difference]] = {run.id: [] for run in runs}
        for item in session.scalars(
            select(Difference)
            .where(Difference.reconciliation_id.in_(list(differences)))
            .order_by(Difference.id)
        ):
            differences[item.reconciliation_id].append(item)
    today = ctx.today()
    return render(
        request,
        "verifactu/reconciliation.html",
        {
            "runs": runs,
            "differences": differences,
            "values": {"year": str(today.year), "month": str(today.month)},
            "errors": {},
        },
    )


@roles_required("billing")
async def reconcile_now(request: Request) -> Response:
    """Reconcile one month now (the job does the last months every day)."""
    ctx = request.app.state.ctx
    form = await request.form()
    _ = ctx.translations(request_language(request)).gettext
    year, month = str(form.get("year") or "").strip(), str(form.get("month") or "").strip()
    period = _month(year, month)
    if period is None:
        return render(
            request,
            "verifactu/reconciliation.html",
            {
                "runs": [],
                "differences": {},
                "values": {"year": year, "month": month},
                "errors": {"month": _("Give a year from 2024 and a month from 1 to 12.")},
            },
            status_code=400,
        )
    from starlette.concurrency import run_in_threadpool

    run = await run_in_threadpool(reconcile_month, ctx, *period)
    kind = {"ok": "ok", "differences": "error", "error": "error"}[run.status]
    flash(
        request,
        _("Reconciliation of %(period)s: %(status)s.")
        % {
            "period": f"{run.year}-{run.month:02d}",
            "status": _(run.status),
        },
        kind,
    )
    return RedirectResponse("/admin/verifactu/reconciliation", status_code=303)


def declaration_page(request: Request) -> Response:
    """The declaración responsable, readable by every member of staff."""
    ctx = request.app.state.ctx
    return render(request, "verifactu/declaration.html", {"decl": declaration(ctx), "title": TITLE})


def declaration_text(request: Request) -> Response:
    """The declaración responsable as a UTF-8 text file to keep or hand over."""
    ctx = request.app.state.ctx
    lang = request_language(request)
    decl = declaration(ctx)
    signed = decl.signed_on.strftime("%d/%m/%Y") if decl.signed_on else ""
    body = as_text(decl, ctx.translations(lang).gettext, signed)
    return Response(
        body.encode("utf-8"),
        media_type="text/plain; charset=utf-8",
        headers={"content-disposition": 'attachment; filename="declaracion-responsable.txt"'},
    )


def admin_routes() -> list[Route]:
    """The staff routes (mounted under /admin)."""
    return [
        Route("/verifactu", overview, methods=["GET"]),
        Route("/verifactu/records/{record_id:int}/cancel", cancel, methods=["POST"]),
        Route("/verifactu/records/{record_id:int}/resend", resend, methods=["POST"]),
        Route("/verifactu/reconciliation", reconciliation, methods=["GET"]),
        Route("/verifactu/reconciliation", reconcile_now, methods=["POST"]),
        Route("/verifactu/declaration", declaration_page, methods=["GET"]),
        Route("/verifactu/declaration.txt", declaration_text, methods=["GET"]),
    ]
