"""The staff dashboard's charts: SVG drawn on the server with pygal, no JavaScript, each with
its figures as a table (formatted for people, the exact amount in ``data-value``). The SVG is
embedded in the page as a ``data:`` image (see :attr:`Chart.image_src`).

The figures come from :mod:`facturo.billing.analytics`; this module only turns them into
pictures and rows in the reader's language.
"""

from __future__ import annotations

import base64
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Any

import pygal
from babel.dates import format_date
from pygal.style import Style
from sqlalchemy.orm import Session

from facturo.billing import analytics
from facturo.billing.methods import method_labels, method_name
from facturo.billing.money import format_money
from facturo.context import Context
from facturo.templating import percent_filter

#: Series colours, each at least 4.5:1 against the white background (WCAG AA for text).
PALETTE = ("#1f4e79", "#a04000", "#2e6b30", "#6a1b9a", "#b3261e", "#00695c")
STYLE = Style(
    background="#ffffff",
    plot_background="#ffffff",
    foreground="#1a1a1a",
    foreground_strong="#1a1a1a",
    foreground_subtle="#595959",
    opacity="1",
    opacity_hover="1",
    colors=PALETTE,
    font_family="system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif",
    label_font_size=13,
    major_label_font_size=13,
    value_font_size=13,
    legend_font_size=14,
    title_font_size=16,
)
# pygal appends to sys.meta_path a finder for its map plugins (pygal.maps.*, unused here)
# that has no ``find_spec``: tools that ask every finder for one (pytest's importlib mode)
# then fail. Take it out again.
sys.meta_path[:] = [f for f in sys.meta_path if type(f).__name__ != "PluginImportFixer"]
_SCRIPT = re.compile(r"<script\b[^>]*>.*?</script>|<script\b[^>]*/>", re.DOTALL)


@dataclass(frozen=True)
class Cell:
    """A table cell: the ``text`` people read and the exact ``value`` (for machines)."""

    text: str
    value: str = ""


@dataclass(frozen=True)
class Chart:
    """One chart: its ``key`` (HTML id), title, SVG (wide and narrow) and the table of its figures:
    ``columns`` are the column headers after the row header's, ``rows`` a row header and
    cells each."""

    key: str
    title: str
    svg: str
    narrow_svg: str
    row_header: str
    columns: Sequence[str]
    rows: Sequence[tuple[str, Sequence[Cell]]] = field(default_factory=list)

    @property
    def image_src(self) -> str:
        """The SVG as a ``data:`` URL for an ``<img>``: the page's Content-Security-Policy
        (``style-src 'self'``) would refuse the chart's own styles inline, an image keeps
        them, and needs no request of its own."""
        return _data_url(self.svg)

    @property
    def narrow_src(self) -> str:
        """The narrow picture (taller, one legend column) for phones, as a ``data:`` URL."""
        return _data_url(self.narrow_svg)


def _data_url(svg: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


def _locale(language: str) -> str:
    return "en_GB" if language == "en" else "es_ES"


def month_label(first: date, language: str) -> str:
    """A month as people write it: ``Mar 2026`` / ``mar 2026``."""
    return str(format_date(first, "LLL y", locale=_locale(language)))


def _money_cell(amount: Decimal, currency: str, language: str) -> Cell:
    return Cell(format_money(amount, currency, language), str(amount))


def _count_cell(count: int) -> Cell:
    return Cell(str(count), str(count))


def _percent_cell(value: Decimal, language: str) -> Cell:
    return Cell(percent_filter(value, language), str(value))


#: (width, height, legend columns) of the wide picture and of the narrow one (phones).
WIDE = (720, 360, 3)
NARROW = (400, 460, 1)

HORIZONTAL = (pygal.HorizontalBar, pygal.HorizontalStackedBar)

Series = Sequence[tuple[str, Sequence[float | int]]]


def _svg(chart: Any) -> str:
    """The chart as a standalone SVG document: no XML declaration, no scripts."""
    return _SCRIPT.sub("", chart.render(is_unicode=True))


def _draw(
    kind: Callable[..., Any],
    labels: Sequence[str],
    series: Series,
    units: tuple[str, str] = ("", ""),
    rotation: int = 0,
    ticks: Sequence[int] = (),
) -> tuple[str, str]:
    """The wide and the narrow SVG of one chart of ``kind`` (a pygal class); ``units`` is
    (currency, language) for money, empty for counts. Drawing is most of the dashboard's
    cost (the figures take a few milliseconds), so the same figures are drawn once."""
    frozen = tuple((name, tuple(values)) for name, values in series)
    return _drawn(kind, tuple(labels), frozen, units, rotation, tuple(ticks))


@lru_cache(maxsize=64)
def _drawn(
    kind: Callable[..., Any],
    labels: tuple[str, ...],
    series: tuple[tuple[str, tuple[float | int, ...]], ...],
    units: tuple[str, str],
    rotation: int,
    ticks: tuple[int, ...],
) -> tuple[str, str]:
    formatter = _money_of(*units) if units[0] else _whole
    options: dict[str, Any] = {"y_labels": list(ticks)} if ticks else {}
    drawn = []
    for width, height, columns in (WIDE, NARROW):
        chart = kind(
            style=STYLE,
            js=[],
            disable_xml_declaration=True,
            no_prefix=True,  # each SVG is a document of its own: no need to scope its CSS
            explicit_size=False,
            width=width,
            height=height,
            legend_at_bottom=True,
            legend_at_bottom_columns=columns,
            show_legend=len(series) > 1,
            value_formatter=formatter,
            truncate_label=-1,
            truncate_legend=-1,
            x_label_rotation=45 if kind is pygal.Bar and width < WIDE[0] else rotation,
            **options,
        )
        # Horizontal charts draw their first label at the bottom: reverse them so the
        # picture reads top-down in the table's order.
        order = slice(None, None, -1) if kind in HORIZONTAL else slice(None)
        chart.x_labels = list(labels)[order]
        for name, values in series:
            chart.add(name, list(values)[order])
        drawn.append(_svg(chart))
    return drawn[0], drawn[1]


def _money_of(currency: str, language: str) -> Callable[[Any], str]:
    def formatted(value: Any) -> str:
        if value is None:
            return ""
        return format_money(Decimal(str(value)), currency, language)

    return formatted


def _whole(value: Any) -> str:
    return str(int(value or 0))


def _count_ticks(highest: int) -> list[int]:
    """Whole-number ticks from 0 to at least ``highest``, at most about 10 of them."""
    step = max(1, -(-highest // 10))
    return list(range(0, max(highest, 1) + step, step))


def revenue_chart(
    rows: Sequence[analytics.MonthRevenue], currency: str, language: str, _: Any
) -> Chart:
    """Net revenue per month: base and total with tax as bars, credited as a third series."""
    columns = [_("Net base"), _("Net with tax"), _("Credit notes")]
    labels = [month_label(row.month, language) for row in rows]
    wide, narrow = _draw(
        pygal.Bar,
        labels,
        [
            (columns[0], [float(row.base) for row in rows]),
            (columns[1], [float(row.total) for row in rows]),
            (columns[2], [float(row.credited) for row in rows]),
        ],
        (currency, language),
        rotation=30,
    )
    return Chart(
        "chart-revenue",
        _("Revenue per month, net of refunds"),
        wide,
        narrow,
        _("Month"),
        columns,
        [
            (
                label,
                [
                    _money_cell(row.base, currency, language),
                    _money_cell(row.total, currency, language),
                    _money_cell(row.credited, currency, language),
                ],
            )
            for label, row in zip(labels, rows, strict=True)
        ],
    )


def renewals_chart(
    rows: Sequence[analytics.MonthRenewals], currency: str, language: str, _: Any
) -> Chart:
    """Renewals due in the next 90 days: the amount per month (count in the table)."""
    labels = [month_label(row.month, language) for row in rows]
    wide, narrow = _draw(
        pygal.Bar,
        labels,
        [(_("Amount to renew"), [float(row.amount) for row in rows])],
        (currency, language),
    )
    return Chart(
        "chart-renewals",
        _("Renewals due in the next 90 days"),
        wide,
        narrow,
        _("Month"),
        [_("Services"), _("Amount to renew")],
        [
            (label, [_count_cell(row.count), _money_cell(row.amount, currency, language)])
            for label, row in zip(labels, rows, strict=True)
        ],
    )


def retention_chart(rows: Sequence[analytics.AddonRetention], language: str, _: Any) -> Chart:
    """Add-on renewals of the last 12 months: renewed and lost stacked per add-on."""
    labels = [row.name(language) for row in rows]
    wide, narrow = _draw(
        pygal.HorizontalStackedBar,
        labels,
        [
            (_("Renewed"), [row.renewed for row in rows]),
            (_("Not renewed"), [row.lost for row in rows]),
        ],
        ticks=_count_ticks(max((row.due for row in rows), default=0)),
    )
    return Chart(
        "chart-retention",
        _("Renewal rate and churn per supplier add-on, last 12 months"),
        wide,
        narrow,
        _("Add-on"),
        [_("Came due"), _("Renewed"), _("Not renewed"), _("Renewal rate"), _("Churn")],
        [
            (
                label,
                [
                    _count_cell(row.due),
                    _count_cell(row.renewed),
                    _count_cell(row.lost),
                    _percent_cell(row.renewal_rate, language),
                    _percent_cell(row.churn_rate, language),
                ],
            )
            for label, row in zip(labels, rows, strict=True)
        ],
    )


def methods_chart(
    ctx: Context,
    rows: Sequence[analytics.MethodTakings],
    currency: str,
    language: str,
    _: Any,
) -> Chart:
    """Payments of the last 12 months by method, net of refunds (names from the plugins)."""
    labels = method_labels(ctx)
    names = [method_name(ctx, row.gateway, None, language, labels) for row in rows]
    wide, narrow = _draw(
        pygal.HorizontalBar,
        names,
        [(_("Net received"), [float(row.net) for row in rows])],
        (currency, language),
    )
    return Chart(
        "chart-methods",
        _("Payments by method, last 12 months, net of refunds"),
        wide,
        narrow,
        _("Method"),
        [_("Received"), _("Given back"), _("Net received")],
        [
            (
                name,
                [
                    _money_cell(row.received, currency, language),
                    _money_cell(row.refunded, currency, language),
                    _money_cell(row.net, currency, language),
                ],
            )
            for name, row in zip(names, rows, strict=True)
        ],
    )


def ageing_label(key: str, _: Any) -> str:
    """A receivables ageing bucket for people."""
    labels = {
        "not_due": _("Not due yet"),
        "0-30": _("0–30 days past due"),
        "31-60": _("31–60 days past due"),
        "61-90": _("61–90 days past due"),
        "90+": _("Over 90 days past due"),
    }
    return str(labels[key])


def ageing_chart(
    rows: Sequence[analytics.AgeingBucket], currency: str, language: str, _: Any
) -> Chart:
    """Unpaid balances by days past due."""
    names = [ageing_label(row.key, _) for row in rows]
    wide, narrow = _draw(
        pygal.HorizontalBar,
        names,
        [(_("Balance owed"), [float(row.amount) for row in rows])],
        (currency, language),
    )
    return Chart(
        "chart-ageing",
        _("Receivables ageing"),
        wide,
        narrow,
        _("Days past due"),
        [_("Documents"), _("Balance owed")],
        [
            (name, [_count_cell(row.count), _money_cell(row.amount, currency, language)])
            for name, row in zip(names, rows, strict=True)
        ],
    )


@dataclass(frozen=True)
class Analytics:
    """Everything the dashboard draws: the recurring revenue cards and the charts."""

    recurring: analytics.Recurring
    charts: list[Chart]


def build(ctx: Context, session: Session, language: str) -> Analytics:
    """The dashboard's figures for ``ctx``'s today and currency, drawn for ``language``."""
    _ = ctx.translations(language).gettext
    today, currency = ctx.today(), ctx.settings.currency
    charts = [
        revenue_chart(analytics.revenue_by_month(session, today, currency), currency, language, _),
        renewals_chart(analytics.renewals_due(session, today, currency), currency, language, _),
        retention_chart(analytics.addon_retention(session, today), language, _),
        methods_chart(
            ctx,
            analytics.payments_by_method(session, today, currency, ctx.settings.zone),
            currency,
            language,
            _,
        ),
        ageing_chart(analytics.receivables_ageing(session, today, currency), currency, language, _),
    ]
    return Analytics(analytics.recurring_revenue(session, currency), charts)
