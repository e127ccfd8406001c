"""Helpers shared by the client and staff pages: uploads with limits, attachment downloads."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import Response

from facturo.plugin import Context

from .attachments import MAX_FILE_BYTES, MAX_FILES, RejectReason, check_attachments
from .models import TicketAttachment
from .storage import NewFile, read_file

#: The largest request body a form with attachments may have (files plus the text fields).
MAX_BODY_BYTES = MAX_FILES * MAX_FILE_BYTES + 1024 * 1024


@dataclass(frozen=True)
class _Upload:
    filename: str
    content: bytes


def body_too_large(request: Request) -> bool:
    """True when the declared Content-Length is over MAX_BODY_BYTES."""
    try:
        return int(request.headers.get("content-length") or 0) > MAX_BODY_BYTES
    except ValueError:
        return True


#: Messages (English msgids, translated by the caller) for each refusal reason.
REFUSALS = {
    RejectReason.EMPTY: "The file is empty.",
    RejectReason.TOO_LARGE: "The file is larger than 5 MB.",
    RejectReason.TYPE_NOT_ALLOWED: "This type of file is not allowed.",
    RejectReason.CONTENT_MISMATCH: "The content of the file does not match its extension.",
    RejectReason.TOO_MANY_FILES: "At most 5 files may be attached.",
}


async def read_uploads(
    form: FormData, gettext: Callable[[str], str] = str, field: str = "files"
) -> tuple[list[NewFile], list[str]]:
    """The accepted files of ``field`` and one message per refused file ("name: why", in the
    language of ``gettext``). Each file is read at most MAX_FILE_BYTES + 1 bytes; its type is
    checked by extension and content."""
    uploads: list[_Upload] = []
    for value in form.getlist(field):
        if not isinstance(value, UploadFile) or not value.filename:
            continue
        data = await value.read(MAX_FILE_BYTES + 1)
        uploads.append(_Upload(value.filename, data))
    checked = check_attachments(uploads)
    files = [NewFile(a.upload.filename, a.content_type, a.upload.content) for a in checked.accepted]
    problems = [f"{r.upload.filename}: {gettext(REFUSALS[r.reason])}" for r in checked.rejected]
    return files, problems


def download(ctx: Context, attachment: TicketAttachment) -> Response:
    """Serve ``attachment`` as a download (never rendered inline by the browser)."""
    try:
        data = read_file(ctx, attachment)
    except OSError:
        return Response("Not found", status_code=404, media_type="text/plain")
    name = attachment.filename.replace('"', "").replace("\\", "")
    ascii_name = name.encode("ascii", "replace").decode("ascii").replace("?", "_")
    from urllib.parse import quote

    return Response(
        data,
        media_type=attachment.content_type or "application/octet-stream",
        headers={
            "Content-Disposition": f'attachment; filename="{ascii_name}"; '
            f"filename*=UTF-8''{quote(name)}",
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
        },
    )


def int_or_none(value: object) -> int | None:
    """``value`` as an int, or None when it is empty, not a number or beyond a database
    integer."""
    try:
        number = int(str(value)) if value not in (None, "") else None
    except ValueError:
        return None
    return number if number is not None and -(2**31) < number < 2**31 else None
