from __future__ import annotations

from dataclasses import dataclass

import pytest

from facturo_tickets.attachments import (
    MAX_FILE_BYTES,
    AttachmentPolicy,
    RejectReason,
    check_attachments,
    extension_of,
    sniff_type,
)

PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(24)
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(16)
GIF = b"GIF89a\x01\x00\x01\x00" + bytes(8)
ZIP = b"PK\x03\x04\x14\x00\x00\x00" + bytes(22)
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + bytes(56)


@dataclass(frozen=True)
class FormUpload:
    """What the web form hands over: a name and the bytes read from the upload."""

    filename: str
    content: bytes


@pytest.mark.parametrize(
    ("filename", "content", "content_type"),
    [
        ("factura.pdf", PDF, "application/pdf"),
        ("CAPTURA.PNG", PNG, "image/png"),
        ("foto.jpg", JPEG, "image/jpeg"),
        ("foto.jpeg", JPEG, "image/jpeg"),
        ("anim.gif", GIF, "image/gif"),
        ("logs.zip", ZIP, "application/zip"),
        ("notas.txt", "¿Qué pasó? Año 2024, señor.\n".encode(), "text/plain"),
        ("error.log", b"2024-09-03 10:00:01 ERROR \x1b[31mfailed\x1b[0m\r\n", "text/plain"),
        ("clientes.csv", "nif;nombre\nB12345678;Peña SL\n".encode("cp1252"), "text/csv"),
        ("windows.log", "línea\r\n".encode("utf-16"), "text/plain"),
    ],
)
def test_allowed_types_are_accepted_with_their_real_content_type(
    filename: str, content: bytes, content_type: str
) -> None:
    check = check_attachments([FormUpload(filename, content)])
    assert check.rejected == ()
    assert [(a.upload.filename, a.content_type) for a in check.accepted] == [
        (filename, content_type)
    ]


@pytest.mark.parametrize(
    ("filename", "content", "reason"),
    [
        ("setup.exe", EXE, RejectReason.TYPE_NOT_ALLOWED),
        ("factura.pdf.exe", EXE, RejectReason.TYPE_NOT_ALLOWED),
        ("documento.docx", ZIP, RejectReason.TYPE_NOT_ALLOWED),
        ("sin_extension", PDF, RejectReason.TYPE_NOT_ALLOWED),
        (".pdf", PDF, RejectReason.TYPE_NOT_ALLOWED),
        ("factura.pdf", EXE, RejectReason.CONTENT_MISMATCH),
        ("foto.png", JPEG, RejectReason.CONTENT_MISMATCH),
        ("notas.txt", EXE, RejectReason.CONTENT_MISMATCH),
        ("notas.txt", PNG, RejectReason.CONTENT_MISMATCH),
        ("datos.csv", b"a,b\x00\x00\x01", RejectReason.CONTENT_MISMATCH),
        ("vacio.pdf", b"", RejectReason.EMPTY),
    ],
)
def test_refused_files_say_why(filename: str, content: bytes, reason: RejectReason) -> None:
    check = check_attachments([FormUpload(filename, content)])
    assert check.accepted == ()
    assert [(r.upload.filename, r.reason) for r in check.rejected] == [(filename, reason)]
    assert check.rejected[0].detail


def test_size_limit_is_inclusive() -> None:
    at_limit = PDF + bytes(MAX_FILE_BYTES - len(PDF))
    over_limit = at_limit + b"\n"
    assert MAX_FILE_BYTES == 5 * 1024 * 1024
    check = check_attachments([FormUpload("a.pdf", at_limit), FormUpload("b.pdf", over_limit)])
    assert [a.upload.filename for a in check.accepted] == ["a.pdf"]
    assert [(r.upload.filename, r.reason) for r in check.rejected] == [
        ("b.pdf", RejectReason.TOO_LARGE)
    ]


def test_at_most_five_files_and_refused_ones_do_not_count() -> None:
    uploads = [FormUpload("virus.exe", EXE)] + [
        FormUpload(f"captura{i}.png", PNG) for i in range(1, 8)
    ]
    check = check_attachments(uploads)
    assert [a.upload.filename for a in check.accepted] == [f"captura{i}.png" for i in range(1, 6)]
    assert [(r.upload.filename, r.reason) for r in check.rejected] == [
        ("virus.exe", RejectReason.TYPE_NOT_ALLOWED),
        ("captura6.png", RejectReason.TOO_MANY_FILES),
        ("captura7.png", RejectReason.TOO_MANY_FILES),
    ]


def test_a_custom_policy() -> None:
    policy = AttachmentPolicy(max_files=1, max_file_bytes=100)
    check = check_attachments(
        [FormUpload("a.pdf", PDF), FormUpload("b.pdf", PDF), FormUpload("c.pdf", PDF * 10)], policy
    )
    assert [a.upload.filename for a in check.accepted] == ["a.pdf"]
    assert [r.reason for r in check.rejected] == [
        RejectReason.TOO_MANY_FILES,
        RejectReason.TOO_LARGE,
    ]


def test_sniff_type_and_extension_of() -> None:
    assert sniff_type("Factura.PDF", PDF) == "application/pdf"
    assert sniff_type("factura.pdf", PNG) is None
    assert sniff_type("programa.exe", EXE) is None
    assert extension_of("dir/informe.final.CSV") == "csv"
    assert extension_of(".bashrc") == ""
    assert extension_of("README") == ""
