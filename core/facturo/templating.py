"""The one Jinja2 environment: core templates, then every plugin's folders; filters for money
and dates in the reader's language."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, pass_context, select_autoescape
from jinja2.bccache import Bucket, BytecodeCache
from jinja2.runtime import Context as TemplateContext

from facturo.billing.money import format_money
from facturo.billing.refund_state import display_status
from facturo.labels import FILTERS as LABEL_FILTERS
from facturo.plugin_resources import resource_dirs

if TYPE_CHECKING:
    from facturo.context import Context

CORE_TEMPLATES = Path(__file__).resolve().parent / "templates"


class SharedBytecode(BytecodeCache):
    """Compiled templates kept for the life of the process and shared by every environment
    :func:`build_environment` makes (they all have the same options, the one thing the cache
    key leaves out). Jinja checks each template's source checksum before reusing its code,
    so an edited template is compiled again."""

    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        code = self._code.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: Bucket) -> None:
        self._code[bucket.key] = bucket.bytecode_to_string()


SHARED_BYTECODE = SharedBytecode()


def build_environment(ctx: Context | None = None) -> Environment:
    """A Jinja2 environment over the core templates and each plugin's ``templates/`` folder
    (or what its ``template_dirs()`` override gives)."""
    folders: list[Path] = [CORE_TEMPLATES]
    if ctx is not None:
        folders.extend(resource_dirs(ctx.plugins, "templates", ctx))
    env = Environment(
        loader=ChoiceLoader([FileSystemLoader(str(folder)) for folder in folders]),
        autoescape=select_autoescape(enabled_extensions=("html", "xml"), default=False),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
        bytecode_cache=SHARED_BYTECODE,
    )
    env.filters["money"] = money_filter
    env.filters["date"] = date_filter
    env.filters["datetime"] = datetime_filter
    env.filters["percent"] = percent_filter
    env.filters["shown_status"] = display_status
    env.filters["number"] = number_filter
    env.filters.update(LABEL_FILTERS)
    env.filters["gateway_label"] = gateway_label_filter(ctx)
    env.filters["job_label"] = job_label_filter(ctx)
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

    def in_zone(value: datetime | str | None, language: str = "es", tz: Any = None) -> str:
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


#: How a payment came in when no gateway plugin names it (English message ids).
GATEWAY_WORDS = {"manual": "Manual", "credit": "Account credit"}


def gateway_label_filter(ctx: Context | None) -> Any:
    """``{{ p.gateway|gateway_label }}``: the payment method's name in the page's language, as the
    gateway plugin's ``payment_methods()`` names it (read on first use; a core word, else the
    code, otherwise)."""
    from facturo.billing.methods import method_labels

    names: dict[str, Any] = {}

    @pass_context
    def gateway_label(context: TemplateContext, code: str | None) -> str:
        if not code:
            return ""
        if not names and ctx is not None:
            names.update(method_labels(ctx))
        language = str(context.get("lang") or "es")
        named = names.get(code)
        if named:
            return str(named.get(language) or next(iter(named.values()), code))
        word = GATEWAY_WORDS.get(code)
        gettext = context.get("_")
        if word and callable(gettext):
            return str(gettext(word))
        return word or code

    return gateway_label


#: The core's own job names for people (English message ids).
JOB_WORDS = {
    "billing_run": "Billing run",
    "renewal_collection": "Renewal collection",
    "worker": "Worker",
}


def job_label_filter(ctx: Context | None) -> Any:
    """``{{ run.name|job_label }}``: a periodic job's name for people, from the ``label`` of the
    job a plugin contributes (read on first use), else a core word, else the name."""
    names: dict[str, dict[str, str]] = {}
    loaded: list[bool] = []

    @pass_context
    def job_label(context: TemplateContext, name: str | None) -> str:
        if not name:
            return ""
        if not loaded and ctx is not None:
            loaded.append(True)
            for contributed in ctx.hook.periodic_jobs(ctx=ctx):
                for job in contributed or ():
                    if job.label:
                        names[job.name] = dict(job.label)
        named = names.get(name)
        if named:
            return named.get(str(context.get("lang") or "es")) or name
        gettext = context.get("_")
        word = JOB_WORDS.get(name)
        return str(gettext(word)) if word and callable(gettext) else (word or name)

    return job_label


def money_filter(amount: Decimal | str | None, currency: str = "EUR", language: str = "es") -> str:
    """``{{ doc.total|money(doc.currency, lang) }}``; an amount kept as text (``"12.10"``) is
    read as a Decimal first; empty shows nothing."""
    if amount is None or amount == "":
        return ""
    if isinstance(amount, str):
        amount = Decimal(amount)
    return format_money(amount, currency, language)


def date_filter(value: date | None, language: str = "es", tz: Any = None) -> str:
    """A business date, e.g. ``27/11/2026`` (es) or ``27 Nov 2026`` (en); an instant
    (``datetime``) is shown as its day in the time zone ``tz``."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = (value.astimezone(tz) if tz is not None else value).date()
    if language == "en":
        return str(format_date(value, format="d MMM yyyy", locale="en_GB"))
    return str(format_date(value, format="dd/MM/yyyy", locale="es_ES"))


def datetime_filter(value: datetime | str | None, language: str = "es", tz: Any = None) -> str:
    """An instant in the seller's time zone ``tz``, to the minute: ``27/11/2026 14:05`` (es) or
    ``27 Nov 2026, 14:05`` (en), the same style as ``date_filter``. A text timestamp in ISO
    8601 (as some records keep it) is read first."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if language == "en":
        return str(format_datetime(value, format="d MMM yyyy, HH:mm", tzinfo=tz, locale="en_GB"))
    return str(format_datetime(value, format="dd/MM/yyyy HH:mm", tzinfo=tz, locale="es_ES"))


def number_filter(value: Decimal | int | None, language: str = "es") -> str:
    """A quantity for people, without trailing zeros: ``1``, ``2,5`` (es), ``2.5`` (en)."""
    if value is None:
        return ""
    locale = "en_GB" if language == "en" else "es_ES"
    return str(format_decimal(value, format="#,##0.###", locale=locale))


def percent_filter(value: Decimal | None, language: str = "es") -> str:
    """A VAT rate for people, e.g. ``21 %`` or ``25,5 %`` (es), ``25.5%`` (en)."""
    if value is None:
        return ""
    locale = "en_GB" if language == "en" else "es_ES"
    number = format_decimal(value, format="#,##0.##", locale=locale)
    return f"{number}%" if language == "en" else f"{number}\u00a0%"
