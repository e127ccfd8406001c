"""The usage charts of the staff licence pages: SVG drawn on the server with pygal (no
JavaScript), each followed by its figures as a table. The figures come from :mod:`.usage`."""

from __future__ import annotations

import base64
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pygal
from babel.dates import format_date
from pygal.style import Style
from sqlalchemy.orm import Session

from . import usage

#: Series colours with at least 4.5:1 contrast on white.
STYLE = Style(
    background="#ffffff",
    plot_background="#ffffff",
    foreground="#1a1a1a",
    foreground_strong="#1a1a1a",
    foreground_subtle="#595959",
    opacity="1",
    opacity_hover="1",
    colors=("#1f4e79", "#a04000", "#2e6b30"),
    font_family="system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif",
    label_font_size=13,
    major_label_font_size=13,
    value_font_size=13,
    legend_font_size=14,
    title_font_size=16,
)
# pygal adds a meta-path finder without ``find_spec`` (for its unused maps): take it out.
sys.meta_path[:] = [f for f in sys.meta_path if type(f).__name__ != "PluginImportFixer"]
_SCRIPT = re.compile(r"<script\b[^>]*>.*?</script>|<script\b[^>]*/>", re.DOTALL)


@dataclass(frozen=True)
class Chart:
    """One chart: HTML id, title, the SVG as a ``data:`` URL and its table (row header,
    column headers, rows of a label and whole-number cells)."""

    key: str
    title: str
    image_src: str
    row_header: str
    columns: Sequence[str]
    rows: Sequence[tuple[str, Sequence[int]]]


def _draw(
    kind: Callable[..., Any], labels: Sequence[str], series: Sequence[tuple[str, Sequence[int]]]
) -> str:
    chart = kind(
        style=STYLE,
        js=[],
        disable_xml_declaration=True,
        no_prefix=True,
        explicit_size=False,
        width=720,
        height=360,
        legend_at_bottom=True,
        show_legend=len(series) > 1,
        value_formatter=lambda value: str(int(value or 0)),
        truncate_label=-1,
        truncate_legend=-1,
        x_label_rotation=45 if kind is pygal.Bar and len(labels) > 10 else 0,
        show_minor_x_labels=len(labels) <= 31,
    )
    reverse = kind is pygal.HorizontalBar  # drawn bottom-up: keep the table's order top-down
    chart.x_labels = list(reversed(labels)) if reverse else list(labels)
    for name, values in series:
        chart.add(name, list(reversed(values)) if reverse else list(values))
    svg = _SCRIPT.sub("", chart.render(is_unicode=True))
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


def _locale(language: str) -> str:
    return "en_GB" if language == "en" else "es_ES"


def shops_chart(rows: Sequence[usage.DayShops], language: str, _: Any) -> Chart:
    """Active shops per day."""
    labels = [str(format_date(row.day, "d MMM", locale=_locale(language))) for row in rows]
    column = _("Active shops")
    return Chart(
        "chart-active-shops",
        _("Active shops by day"),
        _draw(pygal.Bar, labels, [(column, [row.shops for row in rows])]),
        _("Day"),
        [column],
        [(label, [row.shops]) for label, row in zip(labels, rows, strict=True)],
    )


def versions_chart(rows: Sequence[usage.VersionUse], _: Any) -> Chart:
    """Application versions in use: shops per version (validations in the table)."""
    labels = [row.version or _("Unknown") for row in rows]
    return Chart(
        "chart-versions",
        _("Application versions in use"),
        _draw(pygal.HorizontalBar, labels, [(_("Shops"), [row.shops for row in rows])]),
        _("Version"),
        [_("Shops"), _("Validations")],
        [(label, [row.shops, row.validations]) for label, row in zip(labels, rows, strict=True)],
    )


def suppliers_chart(rows: Sequence[usage.SupplierUse], language: str, _: Any) -> Chart:
    """Validations per supplier add-on (licences holding it in the table)."""
    labels = [row.label(language) for row in rows]
    return Chart(
        "chart-suppliers",
        _("Validations per supplier add-on"),
        _draw(pygal.HorizontalBar, labels, [(_("Validations"), [row.validations for row in rows])]),
        _("Add-on"),
        [_("Validations"), _("Licences")],
        [(label, [row.validations, row.licences]) for label, row in zip(labels, rows, strict=True)],
    )


def build(
    session: Session,
    span: usage.Window,
    language: str,
    _: Any,
    licence_id: int | None = None,
) -> list[Chart]:
    """The three usage charts for ``span`` (of one licence, or of all)."""
    return [
        shops_chart(usage.active_shops_by_day(session, span, licence_id), language, _),
        versions_chart(usage.versions_in_use(session, span, licence_id), _),
        suppliers_chart(usage.validations_per_supplier(session, span, licence_id), language, _),
    ]
