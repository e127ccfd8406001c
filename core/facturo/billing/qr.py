"""QR codes printed on documents (the VERI*FACTU tax QR, the EPC transfer QR).

Error correction is always level M, as both the Orden HAC/1177/2024 and EPC069-12 ask. ASCII
text is encoded by zxing-cpp (compiled, about 0.4 ms a code); anything else by segno with
UTF-8 bytes and no ECI, which is what EPC readers expect (zxing-cpp would pick ISO-8859-1).
segno alone takes about 6 ms a code in pure Python, a fifth of a whole invoice PDF.

:func:`qr_bitmap` gives the code as a Pillow image (the PDFs draw it as it is);
:func:`qr_image` as PNG bytes (web pages, data URIs).
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL.Image import Image


@dataclass(frozen=True)
class QrBitmap:
    """A QR code as an 8-bit greyscale Pillow image (black modules on white): ``modules`` is its
    side in modules, quiet zone excluded, ``border`` the quiet modules on each side.

    Greyscale, not 1-bit: ReportLab stores a 1-bit image as RGB, three times the bytes to
    compress on every PDF; a greyscale one as it is (DeviceGray)."""

    image: Image
    modules: int
    border: int


@dataclass(frozen=True)
class QrImage:
    """A QR code as PNG bytes; ``modules`` is its side in modules, quiet zone excluded."""

    png: bytes
    modules: int
    border: int

    @property
    def data_uri(self) -> str:
        """``data:image/png;base64,…`` for HTML and xhtml2pdf."""
        return "data:image/png;base64," + base64.b64encode(self.png).decode("ascii")


def qr_bitmap(text: str, *, scale: int = 4, border: int = 4) -> QrBitmap:
    """``text`` as a level-M QR code, ``scale`` pixels a module and ``border`` quiet modules."""
    from PIL import Image

    if text.isascii():
        pixels, modules = _zxing_modules(text)
    else:
        pixels, modules = _segno_modules(text)
    side = modules + 2 * border
    image = Image.new("L", (side, side), 255)
    image.paste(
        Image.frombuffer("L", (modules, modules), pixels, "raw", "L", 0, 1), (border, border)
    )
    if scale != 1:
        image = image.resize((side * scale, side * scale), Image.Resampling.NEAREST)
    return QrBitmap(image, modules, border)


def qr_image(text: str, *, scale: int = 4, border: int = 4) -> QrImage:
    """``text`` as a level-M QR code in a 1-bit PNG, ``scale`` pixels a module and ``border``
    quiet modules."""
    bitmap = qr_bitmap(text, scale=scale, border=border)
    out = io.BytesIO()
    bitmap.image.convert("1").save(out, format="PNG", optimize=False, compress_level=6)
    return QrImage(out.getvalue(), bitmap.modules, border)


def _zxing_modules(text: str) -> tuple[bytes, int]:
    """The code's modules, one byte each (0 dark, 255 light), row by row, and its side."""
    import zxingcpp

    code = zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.QRCode, ec_level="M")
    bitmap = code.to_image(scale=1, add_quiet_zones=False)
    return memoryview(bitmap).tobytes(), int(bitmap.shape[0])  # type: ignore[arg-type]


def _segno_modules(text: str) -> tuple[bytes, int]:
    import segno

    code = segno.make_qr(text, error="m", boost_error=False, encoding="utf-8")
    rows = [bytes(0 if dark else 255 for dark in row) for row in code.matrix]
    return b"".join(rows), len(rows)
