"""The ReportLab flowables behind :mod:`facturo.builtin.pdf_blocks` (ReportLab's public API only)."""

from __future__ import annotations

from functools import cached_property

from reportlab.lib.colors import HexColor
from reportlab.lib.utils import ImageReader, simpleSplit
from reportlab.pdfbase.pdfmetrics import getAscentDescent
from reportlab.platypus import Flowable

from facturo.billing.qr import QrBitmap, qr_bitmap
from facturo.builtin.pdf_blocks import QrBlock, parse_block

#: Line height as a multiple of the font size: the documents' ``line-height: 1.3``.
LINE_HEIGHT = 1.3


def block_flowable(data: str) -> Flowable:
    """The flowable a ``<pdf:facturo data="…">`` element stands for."""
    return QrFlowable(parse_block(data))


class QrFlowable(Flowable):  # type: ignore[misc]  # ReportLab is untyped
    """Draws a :class:`QrBlock`: captions as text (searchable, as sharp as the rest), the code
    as a greyscale image of ``pixels_per_module`` pixels a module, scaled without smoothing."""

    def __init__(self, block: QrBlock) -> None:
        super().__init__()
        self.block = block
        self.font = "Helvetica-Bold" if block.bold else "Helvetica"
        self.leading = block.font_size * LINE_HEIGHT
        ascent, descent = getAscentDescent(self.font, block.font_size)
        self._ascent, self._descent = float(ascent), -float(descent)
        self._below: list[str] = []

    @cached_property
    def bitmap(self) -> QrBitmap:
        """The code, made once however often the layout asks for the block's size."""
        block = self.block
        return qr_bitmap(block.text, scale=block.pixels_per_module, border=block.border)

    @cached_property
    def side(self) -> float:
        """The image's side in points, quiet zone included."""
        block = self.block
        if not block.code_side_pt:
            return block.side_pt
        bitmap = self.bitmap
        return block.code_side_pt * (bitmap.modules + 2 * bitmap.border) / bitmap.modules

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        block = self.block
        self.width = available_width
        self._below = simpleSplit(block.below, self.font, block.font_size, available_width)
        self.height = (
            (block.font_size + block.gap_pt if block.above else 0.0)
            + self.side
            + (
                self._descent + len(self._below) * self.leading + self._descent
                if self._below
                else 0
            )
            + (block.gap_pt if self._below else 0.0)
        )
        return self.width, self.height

    def draw(self) -> None:
        # Laid out as xhtml2pdf laid out the same captions and <img> in a <div>: the caption
        # above in a line as tall as its type, the code standing on a baseline (the descent
        # below it), then the lines below, each ``leading`` tall with its baseline half the
        # extra leading and the ascent down, and a descent under the last.
        block, canvas = self.block, self.canv
        middle = self.width / 2
        top = self.height
        canvas.saveState()
        canvas.setFont(self.font, block.font_size)
        canvas.setFillColor(HexColor(block.color))
        if block.above:
            canvas.drawCentredString(middle, top - self._ascent, block.above)
            top -= block.font_size + block.gap_pt
        top -= self.side
        canvas.drawImage(
            ImageReader(self.bitmap.image), middle - self.side / 2, top, self.side, self.side
        )
        top -= block.gap_pt + self._descent
        baseline = (self.leading - block.font_size) / 2 + self._ascent
        for line in self._below:
            canvas.drawCentredString(middle, top - baseline, line)
            top -= self.leading
        canvas.restoreState()
