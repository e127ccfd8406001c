"""The ReportLab flowables behind :mod:`facturo.builtin.pdf_blocks` (ReportLab's public API
only). Their metrics follow what xhtml2pdf made of the markup they replace, so the page looks
the same: Helvetica, lines 1.3 times the type size, text placed as xhtml2pdf places it."""

from __future__ import annotations

from functools import cached_property

from reportlab.lib.colors import HexColor
from reportlab.lib.utils import ImageReader, simpleSplit
from reportlab.pdfbase.pdfmetrics import getAscentDescent
from reportlab.platypus import Flowable

from facturo.billing.qr import QrBitmap, qr_bitmap
from facturo.builtin.pdf_blocks import DetailsBlock, LinesBlock, QrBlock, parse_block

#: Line height as a multiple of the font size: the documents' ``line-height: 1.3``.
LINE_HEIGHT = 1.3


def block_flowable(data: str) -> Flowable:
    """The flowable a ``<pdf:facturo data="…">`` element stands for."""
    block = parse_block(data)
    if isinstance(block, DetailsBlock):
        return DetailsFlowable(block)
    if isinstance(block, LinesBlock):
        return lines_table(block)
    return QrFlowable(block)


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


class DetailsFlowable(Flowable):  # type: ignore[misc]  # ReportLab is untyped
    """Draws a :class:`DetailsBlock`: the lines and the note as one ReportLab paragraph (its
    own mini-markup: a ``<font>`` run per label and for the note, ``<br/>`` between lines), as
    xhtml2pdf set them (the note a line of the larger type's paragraph), the QR beside them."""

    def __init__(self, block: DetailsBlock) -> None:
        from html import escape

        from reportlab.lib.styles import ParagraphStyle
        from reportlab.platypus import Paragraph

        super().__init__()
        self.block = block
        lines = [
            f'<font color="{block.label_color}">{escape(label)}:</font> {escape(value)}'
            for label, value in block.rows
        ]
        if block.note:
            lines.append(
                f'<font color="{block.label_color}" size="{block.note_size}">'
                f"{escape(block.note)}</font>"
            )
        style = ParagraphStyle(
            "details",
            fontName="Helvetica",
            fontSize=block.font_size,
            leading=block.font_size * LINE_HEIGHT,
            textColor=HexColor(block.color),
        )
        self.text = Paragraph("<br/>".join(lines), style)
        # ReportLab sets a paragraph's first baseline a type size below its top, xhtml2pdf
        # the font's ascent: the paragraph is drawn that much higher.
        self._raise = block.font_size - getAscentDescent("Helvetica", block.font_size)[0]
        self.qr = QrFlowable(block.qr) if block.qr else None
        self._text_width = 0.0

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        self.width = available_width
        qr_width = available_width * self.block.qr_share if self.qr else 0.0
        self._text_width = available_width - qr_width
        text_height = self.text.wrap(self._text_width, available_height)[1] - self._raise
        qr_height = self.qr.wrap(qr_width, available_height)[1] if self.qr else 0.0
        self.height = max(text_height, qr_height)
        return self.width, self.height

    def draw(self) -> None:
        self.text.drawOn(self.canv, 0, self.height - self.text.height + self._raise)
        if self.qr is not None:
            self.qr.drawOn(self.canv, self._text_width, self.height - self.qr.height)


#: The documents' colours and sizes (``invoice/document.css``): text, muted text, the column
#: headings' colour and the rules under the headings and under each line.
TEXT, MUTED, HEADING = "#1f2933", "#627d98", "#486581"
HEADING_RULE, LINE_RULE = "#102a43", "#d9e2ec"
TEXT_SIZE, HEADING_SIZE, SMALL_SIZE = 9.0, 8.0, 7.5
#: Cell padding (``.lines th`` and ``.line td``: 4 pt all round).
PADDING = 4.0


def _raise(size: float) -> float:
    """How much higher a ReportLab paragraph of ``size`` type is drawn to sit where xhtml2pdf
    set it: ReportLab puts the first baseline a type size below the top, xhtml2pdf the
    font's ascent."""
    return size - float(getAscentDescent("Helvetica", size)[0])


def lines_table(block: LinesBlock) -> Flowable:
    """A :class:`LinesBlock` as a ReportLab table of paragraphs, styled as the documents'
    ``.lines`` table: bold muted headings over a dark rule, a light rule under each line,
    the period in small muted type under the description. It splits between lines across
    pages, repeating the headings."""
    from html import escape

    from reportlab.lib.enums import TA_RIGHT
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.platypus import Paragraph, Table, TableStyle

    def style(name: str, size: float, color: str, **more: object) -> ParagraphStyle:
        more.setdefault("fontName", "Helvetica")
        return ParagraphStyle(
            name,
            fontSize=size,
            leading=size * LINE_HEIGHT,
            textColor=HexColor(color),
            **more,
        )

    heading = style("th", HEADING_SIZE, HEADING, fontName="Helvetica-Bold")
    heading_num = style(
        "th-num", HEADING_SIZE, HEADING, fontName="Helvetica-Bold", alignment=TA_RIGHT
    )
    text = style("td", TEXT_SIZE, TEXT)
    number = style("td-num", TEXT_SIZE, TEXT, alignment=TA_RIGHT)
    data: list[list[Paragraph]] = [
        [
            Paragraph(escape(title), heading if n == 0 else heading_num)
            for n, title in enumerate(block.headings)
        ]
    ]
    for description, period, *numbers in block.rows:
        # The HTML's cell keeps the description's own line breaks (white-space: pre-line).
        markup = "<br/>".join(escape(part) for part in description.split("\n"))
        if period:
            markup += f'<br/><font size="{SMALL_SIZE}" color="{MUTED}">{escape(period)}</font>'
        data.append(
            [Paragraph(markup, text), *(Paragraph(escape(value), number) for value in numbers)]
        )
    head_raise, line_raise = _raise(HEADING_SIZE), _raise(TEXT_SIZE)
    table = Table(data, colWidths=[f"{share * 100:g}%" for share in block.widths], repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), PADDING),
                ("RIGHTPADDING", (0, 0), (-1, -1), PADDING),
                ("TOPPADDING", (0, 0), (-1, 0), PADDING - head_raise),
                ("BOTTOMPADDING", (0, 0), (-1, 0), PADDING + head_raise),
                ("TOPPADDING", (0, 1), (-1, -1), PADDING - line_raise),
                ("BOTTOMPADDING", (0, 1), (-1, -1), PADDING + line_raise),
                ("LINEBELOW", (0, 0), (-1, 0), 1, HexColor(HEADING_RULE)),
                ("LINEBELOW", (0, 1), (-1, -1), 0.5, HexColor(LINE_RULE)),
            ]
        )
    )
    return table
