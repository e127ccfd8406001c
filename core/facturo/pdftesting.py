"""Reading rendered PDFs back in tests: text per page, where text and images are drawn, and the
QR codes the images hold. Needs the test extras (pypdf, pillow, zxing-cpp)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any


def pages_text(pdf: bytes) -> list[str]:
    """The extracted text of each page."""
    from pypdf import PdfReader

    assert pdf.startswith(b"%PDF")
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def page_height(pdf: bytes, page: int = 0) -> float:
    """The height of page ``page`` in points."""
    from pypdf import PdfReader

    return float(PdfReader(io.BytesIO(pdf)).pages[page].mediabox.height)


def text_top(pdf: bytes, needle: str, page: int = 0) -> float | None:
    """The height from the bottom of the page, in points, of the first text run holding
    ``needle`` on ``page``, or None when it is not there."""
    from pypdf import PdfReader

    found: list[float] = []

    def visit(text: str, cm: Any, tm: Any, font: Any, size: Any) -> None:
        if needle in text and not found:
            found.append(float(tm[5]) * float(cm[3]) + float(cm[5]))

    PdfReader(io.BytesIO(pdf)).pages[page].extract_text(visitor_text=visit)
    return found[0] if found else None


@dataclass(frozen=True)
class DrawnImage:
    """An image XObject drawn on a page: its name and the box it fills, in points."""

    name: str
    x: float
    y: float
    width: float
    height: float


def drawn_images(pdf: bytes, page: int = 0) -> list[DrawnImage]:
    """The images drawn on ``page`` in drawing order, with the box each fills (ReportLab draws
    an image as ``q <w> 0 0 <h> <x> <y> cm /Name Do Q``, after any enclosing transform)."""
    from pypdf import PdfReader
    from pypdf.generic import ContentStream

    reader = PdfReader(io.BytesIO(pdf))
    target = reader.pages[page]
    content = ContentStream(target.get_contents(), reader)
    stack: list[list[float]] = []
    matrix = [1.0, 0.0, 0.0, 1.0, 0.0, 0.0]
    images: list[DrawnImage] = []
    for operands, operator in content.operations:
        if operator == b"q":
            stack.append(matrix)
        elif operator == b"Q":
            matrix = stack.pop() if stack else [1.0, 0.0, 0.0, 1.0, 0.0, 0.0]
        elif operator == b"cm":
            matrix = _multiply([float(v) for v in operands], matrix)
        elif operator == b"Do":
            a, _, _, d, e, f = matrix
            images.append(DrawnImage(str(operands[0]), e, f, a, d))
    return images


def _multiply(first: list[float], second: list[float]) -> list[float]:
    a, b, c, d, e, f = first
    a2, b2, c2, d2, e2, f2 = second
    return [
        a * a2 + b * c2,
        a * b2 + b * d2,
        c * a2 + d * c2,
        c * b2 + d * d2,
        e * a2 + f * c2 + e2,
        e * b2 + f * d2 + f2,
    ]


def qr_texts(pdf: bytes, page: int = 0) -> list[str]:
    """What the QR codes in the images of ``page`` say, image by image."""
    import zxingcpp
    from PIL import Image
    from pypdf import PdfReader

    texts: list[str] = []
    for image in PdfReader(io.BytesIO(pdf)).pages[page].images:
        picture = Image.open(io.BytesIO(image.data)).convert("L")
        texts.extend(result.text for result in zxingcpp.read_barcodes(picture))
    return texts


def image_sizes(pdf: bytes, page: int = 0) -> list[tuple[int, int]]:
    """The pixel size of every image stored for ``page``."""
    from PIL import Image
    from pypdf import PdfReader

    sizes = []
    for image in PdfReader(io.BytesIO(pdf)).pages[page].images:
        sizes.append(Image.open(io.BytesIO(image.data)).size)
    return sizes
