"""Attachment policy for tickets, shared by the web form and the email intake.

A file is accepted only when its extension is on the allow-list AND its first bytes look like
that type, so a renamed executable does not pass as "invoice.pdf". The declared content type
is ignored: it comes from the sender. Accepted files carry the content type to serve them with.
"""

from __future__ import annotations

import codecs
import enum
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar

MAX_FILES = 5
MAX_FILE_BYTES = 5 * 1024 * 1024
_SNIFF_BYTES = 8192


class Upload(Protocol):
    """Anything with a file name and its bytes (an intake Attachment, a form upload)."""

    @property
    def filename(self) -> str: ...

    @property
    def content(self) -> bytes: ...


U = TypeVar("U", bound=Upload)


class RejectReason(enum.StrEnum):
    """Why a file was refused; stable codes for translated messages."""

    EMPTY = "empty"
    TOO_LARGE = "too_large"
    TYPE_NOT_ALLOWED = "type_not_allowed"
    CONTENT_MISMATCH = "content_mismatch"
    TOO_MANY_FILES = "too_many_files"


def _is_pdf(head: bytes) -> bool:
    # Readers accept a few junk bytes before the header; so do we, within the first KiB.
    return b"%PDF-" in head[:1024]


def _is_png(head: bytes) -> bool:
    return head.startswith(b"\x89PNG\r\n\x1a\n")


def _is_jpeg(head: bytes) -> bool:
    return head.startswith(b"\xff\xd8\xff")


def _is_gif(head: bytes) -> bool:
    return head.startswith((b"GIF87a", b"GIF89a"))


def _is_zip(head: bytes) -> bool:
    return head.startswith((b"PK\x03\x04", b"PK\x05\x06"))


_BINARY_SIGNATURES = (
    b"%PDF-",
    b"\x89PNG",
    b"\xff\xd8\xff",
    b"GIF8",
    b"PK\x03\x04",
    b"MZ",
    b"\x7fELF",
)


def _is_text(head: bytes) -> bool:
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return True  # Windows tools write UTF-16 logs
    if head.startswith(_BINARY_SIGNATURES) or b"\x00" in head:
        return False
    allowed_controls = {9, 10, 12, 13, 27}
    controls = sum(1 for byte in head if byte < 32 and byte not in allowed_controls)
    return controls <= len(head) // 100


@dataclass(frozen=True, slots=True)
class FileType:
    """An allowed file type: the content type to serve it with and its magic-byte check."""

    content_type: str
    sniff: Callable[[bytes], bool]


DEFAULT_TYPES: Mapping[str, FileType] = {
    "pdf": FileType("application/pdf", _is_pdf),
    "png": FileType("image/png", _is_png),
    "jpg": FileType("image/jpeg", _is_jpeg),
    "jpeg": FileType("image/jpeg", _is_jpeg),
    "gif": FileType("image/gif", _is_gif),
    "txt": FileType("text/plain", _is_text),
    "log": FileType("text/plain", _is_text),
    "csv": FileType("text/csv", _is_text),
    "zip": FileType("application/zip", _is_zip),
}


@dataclass(frozen=True, slots=True)
class AttachmentPolicy:
    """The limits: allowed types by lower-case extension, number of files, bytes per file."""

    types: Mapping[str, FileType] = field(default_factory=lambda: dict(DEFAULT_TYPES))
    max_files: int = MAX_FILES
    max_file_bytes: int = MAX_FILE_BYTES


@dataclass(frozen=True, slots=True)
class Accepted(Generic[U]):
    """A file that passed, with the content type to store and serve it with."""

    upload: U
    content_type: str


@dataclass(frozen=True, slots=True)
class Rejected(Generic[U]):
    """A file that was refused, and why; ``detail`` is an English sentence for logs."""

    upload: U
    reason: RejectReason
    detail: str


@dataclass(frozen=True, slots=True)
class AttachmentCheck(Generic[U]):
    """The outcome of :func:`check_attachments`, both lists in the order given."""

    accepted: tuple[Accepted[U], ...]
    rejected: tuple[Rejected[U], ...]


def extension_of(filename: str) -> str:
    """Return the lower-case last extension of ``filename`` without the dot, or ""."""
    name = filename.replace("\\", "/").rsplit("/", 1)[-1]
    stem, dot, extension = name.rpartition(".")
    return extension.strip().lower() if dot and stem else ""


def sniff_type(filename: str, content: bytes, policy: AttachmentPolicy | None = None) -> str | None:
    """Return the content type of an allowed file whose bytes match its extension, else None."""
    file_type = (policy or AttachmentPolicy()).types.get(extension_of(filename))
    if file_type is None or not file_type.sniff(content[:_SNIFF_BYTES]):
        return None
    return file_type.content_type


def check_attachments(
    uploads: Sequence[U], policy: AttachmentPolicy | None = None
) -> AttachmentCheck[U]:
    """Split ``uploads`` into accepted and rejected files under ``policy`` (the defaults: pdf,
    png, jpeg, gif, txt, log, csv, zip; at most 5 files of at most 5 MiB each).

    Each file is checked by extension and by its first bytes. Refused files do not use up the
    file limit: the first ``max_files`` acceptable files are kept, later ones are rejected.
    """
    policy = policy or AttachmentPolicy()
    accepted: list[Accepted[U]] = []
    rejected: list[Rejected[U]] = []
    for upload in uploads:
        refusal = _refusal(upload, policy)
        if refusal is None and len(accepted) >= policy.max_files:
            refusal = (
                RejectReason.TOO_MANY_FILES,
                f"at most {policy.max_files} files may be attached",
            )
        if refusal is not None:
            rejected.append(Rejected(upload, *refusal))
            continue
        file_type = policy.types[extension_of(upload.filename)]
        accepted.append(Accepted(upload, file_type.content_type))
    return AttachmentCheck(tuple(accepted), tuple(rejected))


def _refusal(upload: Upload, policy: AttachmentPolicy) -> tuple[RejectReason, str] | None:
    content = upload.content
    extension = extension_of(upload.filename)
    if not content:
        return RejectReason.EMPTY, "the file is empty"
    if len(content) > policy.max_file_bytes:
        return (
            RejectReason.TOO_LARGE,
            f"{len(content)} bytes is over the limit of {policy.max_file_bytes} bytes",
        )
    file_type = policy.types.get(extension)
    if file_type is None:
        allowed = ", ".join(sorted(policy.types))
        shown = f".{extension} files are" if extension else "files without an extension are"
        return RejectReason.TYPE_NOT_ALLOWED, f"{shown} not allowed (allowed: {allowed})"
    if not file_type.sniff(content[:_SNIFF_BYTES]):
        return (
            RejectReason.CONTENT_MISMATCH,
            f"the content is not a {file_type.content_type} file as .{extension} says",
        )
    return None
