"""Words and formats for people in templates: status, kind, cycle, role and payment method
labels, money, quantities and instants per language (#20.1)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from facturo.contributions import PaymentMethod
from facturo.i18n import load_translations
from facturo.plugins import new_manager
from facturo.templating import build_environment, datetime_filter, money_filter, number_filter

MADRID = ZoneInfo("Europe/Madrid")


class FakeHook:
    def payment_methods(self, ctx: object) -> list[list[PaymentMethod]]:
        return [[PaymentMethod("paypal", {"es": "PayPal (es)", "en": "PayPal"}, online=True)]]


class FakeContext:
    hook = FakeHook()
    plugins = new_manager()  # no plugin: the environment finds no plugin folders
    settings = SimpleNamespace(zone=ZoneInfo("Europe/Madrid"))


def render(source: str, language: str, **values: object) -> str:
    env = build_environment(FakeContext())  # type: ignore[arg-type]
    gettext = load_translations(language).gettext
    return env.from_string(source).render(lang=language, _=gettext, **values)


def test_codes_become_words_in_each_language() -> None:
    page = (
        "{{ 'unpaid'|status_label }}|{{ 'needs_review'|status_label }}|{{ 'ACTIVE'|status_label }}"
        "|{{ 'credit_note'|kind_label }}|{{ 'annual'|cycle_label }}|{{ 'billing'|role_label }}"
        "|{{ 'something_new'|status_label }}|{{ none|status_label }}"
    )
    assert render(page, "en") == (
        "Unpaid|Under review|Active|Credit note|Annual|Billing|something_new|"
    )
    spanish = render(page, "es").split("|")
    assert spanish[0] == "Pendiente de pago" and spanish[3] != "Credit note"
    assert spanish[5] == "Facturación" and spanish[6] == "something_new"


def test_payment_methods_are_named_by_their_plugin_else_by_the_core() -> None:
    page = "{{ 'paypal'|gateway_label }}|{{ 'manual'|gateway_label }}|{{ 'odd'|gateway_label }}"
    assert render(page, "en") == "PayPal|Manual|odd"
    assert render(page, "es") == "PayPal (es)|Manual|odd"


def test_money_quantities_and_instants_for_people() -> None:
    assert money_filter(Decimal("1234.56"), "EUR", "es") == "1.234,56\xa0€"
    assert money_filter(Decimal("1234.56"), "EUR", "en") == "€1,234.56"
    assert money_filter("12.10", "EUR", "en") == "€12.10"  # amounts some records keep as text
    assert money_filter("", "EUR", "en") == ""
    assert number_filter(Decimal("2.500"), "es") == "2,5"
    assert number_filter(Decimal("1.000"), "en") == "1"
    instant = datetime(2026, 7, 1, 22, 30, 15, 123456, tzinfo=UTC)
    assert datetime_filter(instant, "es", MADRID) == "02/07/2026 00:30"
    assert datetime_filter(instant, "en", MADRID) == "2 Jul 2026, 00:30"
    assert datetime_filter("2026-07-01T22:30:15+00:00", "es", MADRID) == "02/07/2026 00:30"
    assert render("{{ when|date(lang, zone) }}", "en", when=instant, zone=MADRID) == "2 Jul 2026"
