"""The one Jinja2 environment: core templates, then every plugin's folders; filters for money
and dates in the reader's language."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape

from facturo.billing.money import format_money
from facturo.billing.refund_state import display_status

if TYPE_CHECKING:
    from facturo.context import Context

CORE_TEMPLATES = Path(__file__).resolve().parent / "templates"


def build_environment(ctx: Context | None = None) -> Environment:
    """A Jinja2 environment over the core templates and each plugin's ``template_dirs()``."""
    folders: list[Path] = [CORE_TEMPLATES]
    if ctx is not None:
        for result in ctx.hook.template_dirs(ctx=ctx):
            folders.extend(Path(p) for p in result)
    env = Environment(
        loader=ChoiceLoader([FileSystemLoader(str(folder)) for folder in folders]),
        autoescape=select_autoescape(enabled_extensions=("html", "xml"), default=False),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["money"] = money_filter
    env.filters["date"] = date_filter
    env.filters["datetime"] = datetime_filter
    env.filters["percent"] = percent_filter
    env.filters["shown_status"] = display_status
    if ctx is not None:
        _business_filters(env, ctx)
    env.install_null_translations(newstyle=True)  # type: ignore[attr-defined]
    return env


def _business_filters(env: Environment, ctx: Context) -> None:
    """Filters that need the business: instants default to its time zone, payment methods
    are named by their plugins (labels read once per environment)."""
    from facturo.billing.methods import method_labels, method_name

    zone = ctx.settings.zone
    labels: dict[str, Any] = {}

    def in_zone(value: datetime | None, language: str = "es", tz: Any = None) -> str:
        return datetime_filter(value, language, tz or zone)

    def when(item: Any, language: str = "es") -> str:
        value_date = getattr(item, "value_date", None)
        if value_date is not None:
            return date_filter(value_date, language)
        at = getattr(item, "at", None) or getattr(item, "paid_at", None)
        return datetime_filter(at, language, zone)

    def method(item: Any, language: str = "es") -> str:
        if not labels:
            labels.update(method_labels(ctx))
        details = getattr(item, "details", None)
        return method_name(ctx, item.gateway, details, language, labels)

    def day(value: datetime | None, language: str = "es") -> str:
        return date_filter(value.astimezone(zone).date() if value is not None else None, language)

    env.filters["datetime"] = in_zone
    env.filters["day"] = day
    env.filters["when"] = when
    env.filters["method"] = method


def money_filter(amount: Decimal | None, currency: str = "EUR", language: str = "es") -> str:
    """``{{ doc.total|money(doc.currency, lang) }}``."""
    if amount is None:
        return ""
    return format_money(amount, currency, language)


def date_filter(value: date | None, language: str = "es") -> str:
    """A business date, e.g. ``27/11/2026`` (es) or ``27 Nov 2026`` (en)."""
    if value is None:
        return ""
    if language == "en":
        return str(format_date(value, format="d MMM yyyy", locale="en_GB"))
    return str(format_date(value, format="dd/MM/yyyy", locale="es_ES"))


def datetime_filter(value: datetime | None, language: str = "es", tz: Any = None) -> str:
    """An instant in ``tz`` (the business time zone: the environment's filter passes it), as
    the language writes dates (see :func:`date_filter`) followed by the time:
    ``27/11/2026 11:00`` (es), ``27 Nov 2026 11:00`` (en)."""
    if value is None:
        return ""
    if language == "en":
        return str(format_datetime(value, format="d MMM yyyy HH:mm", tzinfo=tz, locale="en_GB"))
    return str(format_datetime(value, format="dd/MM/yyyy HH:mm", tzinfo=tz, locale="es_ES"))


def percent_filter(value: Decimal | None, language: str = "es") -> str:
    """A VAT rate for people, e.g. ``21 %`` or ``25,5 %`` (es), ``25.5%`` (en)."""
    if value is None:
        return ""
    locale = "en_GB" if language == "en" else "es_ES"
    number = format_decimal(value, format="#,##0.##", locale=locale)
    return f"{number}%" if language == "en" else f"{number}\u00a0%"
