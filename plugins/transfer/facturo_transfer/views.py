"""Staff pages: upload a bank statement, review the proposed matches, confirm them."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from facturo.plugin import (
    error_page,
    flash,
    manual_payment_page,
    render,
    request_language,
    roles_required,
)
from facturo_transfer.models import StatementImport
from facturo_transfer.reconcile import confirm_lines, import_statement
from facturo_transfer.statement import StatementError

MAX_UPLOAD_BYTES = 5 * 1024 * 1024


@roles_required("billing")
def statements(request: Request) -> Response:
    """The imports so far and the upload form."""
    ctx = request.app.state.ctx
    with ctx.db.read_session() as session:
        imports = list(session.query(StatementImport).order_by(StatementImport.id.desc()).limit(50))
    return render(request, "transfer/statements.html", {"imports": imports, "error": None})


@roles_required("billing")
async def upload(request: Request) -> Response:
    """Parse and store an uploaded Norma 43 or camt.053 file; a bad file changes nothing."""
    ctx = request.app.state.ctx
    form = await request.form(max_files=1, max_fields=10)
    upload_file = form.get("statement")
    _ = ctx.translations(request_language(request)).gettext
    if upload_file is None or isinstance(upload_file, str) or not upload_file.filename:
        return _form_error(request, _("Choose a statement file to upload."))
    data = await upload_file.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        return _form_error(request, _("The file is larger than 5 MB."))
    staff = request.state.staff
    try:
        with ctx.db.transaction() as session:
            summary = import_statement(
                session, ctx, data, upload_file.filename, f"staff:{staff.id}"
            )
            statement_id = summary.statement.id
    except StatementError as exc:
        return _form_error(request, f"{_('The file was not imported')}: {exc}")
    flash(
        request,
        _("Imported %(new)d new lines; %(old)d were already imported.")
        % {"new": summary.new_lines, "old": summary.already_imported},
        "ok",
    )
    return RedirectResponse(f"/admin/transfer/statements/{statement_id}", status_code=303)


def _form_error(request: Request, message: str) -> Response:
    ctx = request.app.state.ctx
    with ctx.db.read_session() as session:
        imports = list(session.query(StatementImport).order_by(StatementImport.id.desc()).limit(50))
    return render(
        request, "transfer/statements.html", {"imports": imports, "error": message}, status_code=400
    )


@roles_required("billing")
def statement(request: Request) -> Response:
    """One import: proposed matches to confirm, and the lines without a match."""
    ctx = request.app.state.ctx
    with ctx.db.read_session() as session:
        found = session.get(StatementImport, int(request.path_params["statement_id"]))
        if found is None:
            return error_page(request, 404)
        lines = list(found.lines)
    return render(request, "transfer/statement.html", {"statement": found, "lines": lines})


@roles_required("billing")
async def confirm(request: Request) -> Response:
    """Confirm the chosen proposals in one step: each becomes a payment."""
    ctx = request.app.state.ctx
    form = await request.form()
    # ids beyond a database integer are no line (the database would raise on them)
    ids = [
        int(v) for v in form.getlist("line") if isinstance(v, str) and v.isdigit() and len(v) < 10
    ]
    staff = request.state.staff
    with ctx.db.transaction() as session:
        payments = confirm_lines(session, ctx, ids, f"staff:{staff.id}")
    _ = ctx.translations(request_language(request)).gettext
    flash(request, _("%(count)d payments recorded.") % {"count": len(payments)}, "ok")
    return RedirectResponse(
        f"/admin/transfer/statements/{request.path_params['statement_id']}", status_code=303
    )


@roles_required("billing")
def record_transfer(request: Request) -> Response:
    """The staff "record payment" form with bank transfer chosen (the core's form, at the path
    staff links and scripts have used since the start)."""
    return manual_payment_page(request, "transfer")


def admin_routes() -> list[Route]:
    """The plugin's staff pages, under /admin."""
    return [
        Route("/payments/transfer", record_transfer, methods=["GET", "POST"]),
        Route("/transfer/statements", statements, methods=["GET"]),
        Route("/transfer/statements", upload, methods=["POST"]),
        Route("/transfer/statements/{statement_id:int}", statement, methods=["GET"]),
        Route("/transfer/statements/{statement_id:int}/confirm", confirm, methods=["POST"]),
    ]
