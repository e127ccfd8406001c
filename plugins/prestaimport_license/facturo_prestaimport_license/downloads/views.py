"""Pages of the downloads: the customer's downloads page, the signed file link, and the staff
releases page where new versions are published."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from facturo.plugin import (
    Context,
    error_page,
    flash,
    open_page,
    render,
    request_language,
    roles_required,
)

from .service import (
    DownloadRefused,
    ReleaseError,
    StoredFile,
    may_download,
    open_link,
    publish_release,
    releases,
    set_release_emails,
    signed_link,
    store_file,
    wants_release_emails,
)

#: Installers can be large; the staff upload accepts up to this many bytes.
MAX_UPLOAD = 512 * 1024 * 1024


def _ctx(request: Request) -> Context:
    ctx: Context = request.app.state.ctx
    return ctx


def _translate(request: Request, message: str) -> str:
    return str(_ctx(request).translations(request_language(request)).gettext(message))


def _say(request: Request, message: str, kind: str) -> None:
    flash(request, _translate(request, message), kind)


def downloads_page(request: Request) -> Response:
    """The releases with a fresh signed link per file while the customer's licence is active."""
    ctx = _ctx(request)
    customer = request.state.customer
    with ctx.db.read_session() as session:
        allowed = may_download(session, ctx, customer.id)
        found = releases(session)
        links = {
            item.id: signed_link(ctx, item.id, customer.id)
            for _release, items in found
            for item in items
            if allowed
        }
        wants = wants_release_emails(session, customer.id)
    return render(
        request,
        "prestaimport_license/downloads.html",
        {"releases": found, "links": links, "allowed": allowed, "wants_emails": wants},
    )


async def release_emails(request: Request) -> Response:
    """Turn the "new version available" email on or off."""
    ctx = _ctx(request)
    wanted = (await request.form()).get("wanted") == "yes"
    with ctx.db.transaction() as session:
        set_release_emails(session, ctx, request.state.customer.id, wanted)
    _say(
        request,
        "We will email you when a new version is out."
        if wanted
        else "We will not email you about new versions.",
        "ok",
    )
    return RedirectResponse("/client/licences/downloads", status_code=303)


@open_page
def download(request: Request) -> Response:
    """Serve a file through its signed link (no login needed: download managers send none)."""
    ctx = _ctx(request)
    params = request.query_params
    try:
        customer_id, expires = int(params.get("c", "")), int(params.get("e", ""))
    except ValueError:
        return error_page(request, 404)
    with ctx.db.read_session() as session:
        try:
            item, path = open_link(
                session,
                ctx,
                int(request.path_params["file_id"]),
                customer_id,
                expires,
                params.get("s", ""),
            )
        except (DownloadRefused, OverflowError, OSError, ValueError) as exc:
            return error_page(request, 403, str(exc) if isinstance(exc, DownloadRefused) else "")
    return FileResponse(path, filename=item.filename, media_type="application/octet-stream")


@roles_required("billing")
def releases_page(request: Request) -> Response:
    """Published releases and the form to publish one."""
    ctx = _ctx(request)
    with ctx.db.read_session() as session:
        found = releases(session)
    return render(
        request, "prestaimport_license/admin_releases.html", {"releases": found, "errors": {}}
    )


@roles_required("billing")
async def publish(request: Request) -> Response:
    """Publish a release from the staff form: the file is stored, customers are told."""
    ctx = _ctx(request)
    form = await request.form()
    upload = form.get("file")
    values: dict[str, Any] = {
        k: str(form.get(k) or "") for k in ("version", "notes_es", "notes_en")
    }
    try:
        stored: list[StoredFile] = []
        if isinstance(upload, UploadFile) and upload.filename:
            stored.append(store_file(ctx, upload.file, upload.filename))
        with ctx.db.transaction() as session:
            release = publish_release(
                session,
                ctx,
                values["version"],
                values["notes_es"],
                values["notes_en"],
                stored,
                f"staff:{request.state.staff.id}",
            )
            version = release.version
    except ReleaseError as exc:
        with ctx.db.read_session() as session:
            found = releases(session)
        errors = {exc.field or "version": _translate(request, str(exc))}
        return render(
            request,
            "prestaimport_license/admin_releases.html",
            {"releases": found, "errors": errors, **values},
            400,
        )
    _say(request, "Version published; customers with an active licence are being told.", "ok")
    return RedirectResponse(f"/admin/licences/releases#v-{version}", status_code=303)


publish.facturo_max_body = MAX_UPLOAD  # type: ignore[attr-defined]


def client_routes() -> list[BaseRoute]:
    """Under /client."""
    return [
        Route("/licences/downloads", downloads_page),
        Route("/licences/downloads/emails", release_emails, methods=["POST"]),
    ]


def admin_routes() -> list[BaseRoute]:
    """Under /admin."""
    return [
        Route("/licences/releases", releases_page),
        Route("/licences/releases", publish, methods=["POST"]),
    ]


def public_routes() -> list[BaseRoute]:
    """Under /public."""
    return [Route("/licence-downloads/{file_id:int}", download)]
