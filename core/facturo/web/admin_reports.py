"""VAT reports for the seller's adviser, by quarter: the 303 summary, the 349, the OSS return
and the sales register (libro registro de facturas expedidas) as CSV and XLSX."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from facturo.billing.vat_books import Quarter, lines_for
from facturo.billing.vat_exports import (
    Activity,
    quarter_label,
    register_csv,
    register_filename,
    register_xlsx,
    summary_303_csv,
    summary_349_csv,
    summary_oss_csv,
)
from facturo.billing.vat_reports import QuarterReports, quarter_reports
from facturo.context import Context
from facturo.web.admin_common import ctx_of
from facturo.web.errors import error_page
from facturo.web.rendering import gettext_for, render
from facturo.web.sections import roles_required

CSV = "text/csv; charset=utf-8"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _quarter(request: Request, today: date) -> tuple[Quarter, dict[str, str]]:
    """The quarter asked for (the current one by default) and any field errors."""
    current = Quarter.of(today)
    year = request.query_params.get("year", str(current.year))
    number = request.query_params.get("quarter", str(current.quarter))
    errors: dict[str, str] = {}
    try:
        return Quarter.parse(year, number), errors
    except ValueError as exc:
        field = "quarter" if "quarter" in str(exc) else "year"
        errors[field] = str(exc)
        return current, errors


def activity(ctx: Context) -> Activity:
    """The book's activity columns from ``[books]``."""
    books = ctx.settings.books
    return Activity(books.activity_code, books.activity_type, books.iae_epigraph)


@roles_required("billing")
def reports_page(request: Request) -> Response:
    """The quarter's reports with links to their files."""
    ctx = ctx_of(request)
    _ = gettext_for(request)
    quarter, errors = _quarter(request, ctx.today())
    values = {
        "year": request.query_params.get("year", str(quarter.year)),
        "quarter": request.query_params.get("quarter", str(quarter.quarter)),
    }
    if errors:
        messages = {key: _(text) for key, text in errors.items()}
        return render(
            request, "admin/reports.html", {"errors": messages, "values": values}, status_code=400
        )
    with ctx.db.read_session() as session:
        reports = quarter_reports(session, quarter)
    return render(
        request,
        "admin/reports.html",
        {"errors": {}, "values": values, "reports": reports, "quarter": quarter},
    )


SUMMARIES: dict[str, tuple[str, Callable[[QuarterReports], bytes]]] = {
    "303.csv": ("modelo303", lambda reports: summary_303_csv(reports.vat_303)),
    "349.csv": ("modelo349", lambda reports: summary_349_csv(reports.recap_349)),
    "oss.csv": ("oss369", lambda reports: summary_oss_csv(reports.oss)),
}
REGISTERS = {"register.csv": register_csv, "register.xlsx": register_xlsx}


def _attachment(body: bytes, filename: str) -> Response:
    media_type = XLSX if filename.endswith(".xlsx") else CSV
    fallback = filename.encode("ascii", "replace").decode("ascii").replace("?", "_")
    disposition = f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename)}"
    return Response(body, media_type=media_type, headers={"content-disposition": disposition})


@roles_required("billing")
def report_file(request: Request) -> Response:
    """One report of the quarter as a file; ``scope=year`` makes the register year-to-date
    (what the AEAT's Pre303 import expects)."""
    ctx = ctx_of(request)
    _ = gettext_for(request)
    name = request.path_params["file"]
    if name not in SUMMARIES and name not in REGISTERS:
        return error_page(request, 404)
    quarter, errors = _quarter(request, ctx.today())
    if errors:
        return error_page(request, 400, "; ".join(_(text) for text in errors.values()))
    scope = request.query_params.get("scope", "quarter")
    if scope not in ("quarter", "year"):
        return error_page(request, 400, _("The scope is quarter or year."))
    extension = name.rsplit(".", 1)[1]
    if name in REGISTERS:
        start = date(quarter.year, 1, 1) if scope == "year" else quarter.start
        with ctx.db.read_session() as session:
            lines = lines_for(session, start, quarter.end)
        seller = ctx.settings.seller
        body = REGISTERS[name](lines, activity(ctx))
        return _attachment(
            body, register_filename(quarter.year, seller.nif, seller.legal_name, extension)
        )
    stem, build = SUMMARIES[name]
    with ctx.db.read_session() as session:
        reports = quarter_reports(session, quarter)
    return _attachment(build(reports), f"{stem}-{quarter_label(quarter)}.{extension}")


def routes() -> list[Route]:
    return [
        Route("/reports", reports_page),
        Route("/reports/{file}", report_file),
    ]
