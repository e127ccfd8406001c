"""Blocks of a document PDF that ReportLab draws directly: a QR code with its captions, and
label/value lines with a note beside such a code (payment details).

xhtml2pdf lays out every element through its CSS cascade and paragraph machinery, some
thousands of Python calls each; a QR code took an ``<img>`` (a PNG encoded, base64-coded,
decoded again), two ``<br>`` and two runs of text. Here it is one ReportLab flowable that
draws the captions and the code's bitmap; payment details (seven label/value lines, a note, the
QR) took some twenty elements and a flex row, and are one flowable with two ReportLab
paragraphs. Plugins ask for a block through :func:`pdf_block_html`,
which writes an empty ``<pdf:facturo data="…">`` element carrying the block's description
(JSON, base64): the HTML still says everything the PDF shows, and the element becomes the
flowable when xhtml2pdf meets it (:mod:`facturo.builtin.pdf_engine` registers the tag,
:mod:`facturo.builtin.pdf_flowables` draws it). This module imports neither xhtml2pdf nor
ReportLab, so plugins may build blocks at no import cost.
"""

from __future__ import annotations

import base64
import json
from dataclasses import asdict, dataclass
from typing import Any

#: The element the blocks are written as (xhtml2pdf's ``pdf:`` namespace for its own tags).
BLOCK_TAG = "pdf:facturo"


@dataclass(frozen=True)
class QrBlock:
    """A QR code with a caption above and one below (either may be empty), centred in the
    width it is given. Its size is ``side_pt`` points square with its quiet zone, or, when
    ``code_side_pt`` is given instead, the code alone is that wide (the quiet zone adds its
    share). The caption below wraps to the width; each caption line is ``font_size`` points,
    bold or not, in ``color``."""

    text: str
    side_pt: float = 0.0
    code_side_pt: float = 0.0
    border: int = 4
    pixels_per_module: int = 2
    above: str = ""
    below: str = ""
    font_size: float = 9.0
    bold: bool = False
    color: str = "#1f2933"
    #: Space between the code and a caption, in points.
    gap_pt: float = 0.0


@dataclass(frozen=True)
class DetailsBlock:
    """Lines of ``label: value`` (the label in ``label_color``), then ``note`` in smaller type
    and the label colour, with ``qr`` (if any) beside them on the right, ``qr_share`` of the
    width, its top level with the first line."""

    rows: tuple[tuple[str, str], ...]
    note: str = ""
    qr: QrBlock | None = None
    qr_share: float = 0.24
    font_size: float = 9.0
    note_size: float = 7.5
    color: str = "#1f2933"
    label_color: str = "#627d98"


@dataclass(frozen=True)
class LinesBlock:
    """A document's lines table: the column ``headings`` (the first column left-aligned, the
    others right) and per line its description, the period under it (or ""), quantity, unit
    price, tax rate and amount, in columns ``widths`` shares of the width. The heading row is
    repeated on every page the table runs onto. Core's own: plugins have no use for it."""

    headings: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    widths: tuple[float, ...] = (0.52, 0.07, 0.16, 0.09, 0.16)


Block = QrBlock | DetailsBlock | LinesBlock


def pdf_block_html(block: Block) -> str:
    """``block`` as the element xhtml2pdf turns into its flowable."""
    fields = {"kind": type(block).__name__, **asdict(block)}
    data = base64.urlsafe_b64encode(json.dumps(fields).encode("utf-8")).decode("ascii")
    return f'<{BLOCK_TAG} data="{data}"></{BLOCK_TAG}>'


def parse_block(data: str) -> Block:
    """The block an element written by :func:`pdf_block_html` describes (its ``data``)."""
    fields: dict[str, Any] = json.loads(base64.urlsafe_b64decode(data.encode("ascii")))
    kind = fields.pop("kind")
    if kind == "QrBlock":
        return QrBlock(**fields)
    if kind == "DetailsBlock":
        qr = fields.pop("qr")
        rows = tuple((label, value) for label, value in fields.pop("rows"))
        return DetailsBlock(rows, qr=QrBlock(**qr) if qr else None, **fields)
    if kind == "LinesBlock":
        return LinesBlock(
            tuple(fields["headings"]),
            tuple(tuple(row) for row in fields["rows"]),
            tuple(fields["widths"]),
        )
    raise ValueError(f"unknown PDF block {kind!r}")
