"""VAT for electronically supplied services sold by a seller established in mainland Spain.

* Spanish customer (mainland, Balearics) → 21 % IVA.
* EU business with a VAT number valid in format → reverse charge, 0 %, with the legend.
* EU consumer → the customer's country standard rate (OSS), from a dated table.
* Outside the EU, and the Canary Islands, Ceuta and Melilla → not subject, with the legend.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

from stdnum import get_cc_module
from stdnum.eu import vat as eu_vat
from stdnum.exceptions import ValidationError

if TYPE_CHECKING:
    from facturo.contributions import VatCheck

ZERO_RATE = Decimal("0.00")

# Standard VAT rates by ISO country, each a list of (valid from, rate), newest last.
EU_STANDARD_RATES: dict[str, list[tuple[date, Decimal]]] = {
    "AT": [(date(2016, 1, 1), Decimal("20"))],
    "BE": [(date(1996, 1, 1), Decimal("21"))],
    "BG": [(date(2007, 1, 1), Decimal("20"))],
    "HR": [(date(2013, 1, 1), Decimal("25"))],
    "CY": [(date(2014, 1, 13), Decimal("19"))],
    "CZ": [(date(2013, 1, 1), Decimal("21"))],
    "DK": [(date(1992, 1, 1), Decimal("25"))],
    "EE": [(date(2024, 1, 1), Decimal("22")), (date(2025, 7, 1), Decimal("24"))],
    "FI": [(date(2013, 1, 1), Decimal("24")), (date(2024, 9, 1), Decimal("25.5"))],
    "FR": [(date(2014, 1, 1), Decimal("20"))],
    "DE": [(date(2021, 1, 1), Decimal("19"))],
    "GR": [(date(2016, 6, 1), Decimal("24"))],
    "HU": [(date(2012, 1, 1), Decimal("27"))],
    "IE": [(date(2021, 3, 1), Decimal("23"))],
    "IT": [(date(2013, 10, 1), Decimal("22"))],
    "LV": [(date(2011, 7, 1), Decimal("21"))],
    "LT": [(date(2009, 9, 1), Decimal("21"))],
    "LU": [(date(2024, 1, 1), Decimal("17"))],
    "MT": [(date(2004, 1, 1), Decimal("18"))],
    "NL": [(date(2012, 10, 1), Decimal("21"))],
    "PL": [(date(2011, 1, 1), Decimal("23"))],
    "PT": [(date(2011, 1, 1), Decimal("23"))],
    "RO": [(date(2017, 1, 1), Decimal("19")), (date(2025, 8, 1), Decimal("21"))],
    "SK": [(date(2011, 1, 1), Decimal("20")), (date(2025, 1, 1), Decimal("23"))],
    "SI": [(date(2013, 7, 1), Decimal("22"))],
    "ES": [(date(2012, 9, 1), Decimal("21"))],
    "SE": [(date(1990, 7, 1), Decimal("25"))],
}
EU_COUNTRIES = frozenset(EU_STANDARD_RATES)
# Spanish postal code prefixes outside the EU VAT territory: Las Palmas, Tenerife, Ceuta, Melilla.
SPECIAL_TERRITORY_POSTCODES = ("35", "38", "51", "52")

LEGENDS = {
    "eu_reverse_charge": (
        "Inversión del sujeto pasivo / Reverse charge — operación no sujeta a IVA en España "
        "(art. 69.Uno.1º LIVA; art. 196 Directiva 2006/112/CE)"
    ),
    "not_subject": (
        "Operación no sujeta a IVA (reglas de localización, art. 69 LIVA) / "
        "Not subject to Spanish VAT (place of supply rules)"
    ),
    "special_territory": (
        "Operación no sujeta a IVA (art. 69 LIVA); IGIC/IPSI a liquidar por el destinatario / "
        "Not subject to Spanish VAT (Canary Islands, Ceuta, Melilla)"
    ),
}


@dataclass(frozen=True)
class TaxTreatment:
    """How one customer is taxed: ``code``, the rate in percent, any legend to print, and the
    online check of the VAT number behind it (``vat_check``, None when none was made)."""

    code: str  # domestic, eu_reverse_charge, eu_oss, not_subject, special_territory
    rate: Decimal
    country: str
    legend: str = ""
    vat_check: VatCheck | None = None

    @property
    def label(self) -> str:
        return f"IVA {self.rate.normalize():f} %" if self.rate else "IVA 0 %"


def standard_rate(country: str, on: date) -> Decimal:
    """The standard VAT rate of EU ``country`` in force on ``on``; KeyError if not EU."""
    history = EU_STANDARD_RATES[country.upper()]
    rate = history[0][1]
    for valid_from, value in history:
        if valid_from <= on:
            rate = value
    return rate.quantize(Decimal("0.01"))


def is_special_territory(country: str, postal_code: str) -> bool:
    """True for Spanish addresses in the Canary Islands, Ceuta or Melilla."""
    return country.upper() == "ES" and postal_code.strip()[:2] in SPECIAL_TERRITORY_POSTCODES


def valid_eu_vat_number(country: str, number: str) -> bool:
    """True when ``number`` is an EU VAT number valid in format for ``country``."""
    compact = number.strip().upper().replace(" ", "").replace("-", "").replace(".", "")
    if not compact:
        return False
    prefix = "EL" if country.upper() == "GR" else country.upper()
    if not compact.startswith(prefix):
        compact = prefix + compact
    return bool(eu_vat.is_valid(compact))


def treatment_for(
    country: str,
    tax_id: str,
    postal_code: str,
    on: date,
    vies_valid: bool | None = None,
) -> TaxTreatment:
    """Decide the VAT treatment of a customer. ``vies_valid`` (from an online check, when
    enabled) overrides the format check: False (invalid, or not confirmed) makes an EU
    business a consumer."""
    country = country.upper()
    if country == "ES":
        if is_special_territory(country, postal_code):
            return TaxTreatment(
                "special_territory", ZERO_RATE, country, LEGENDS["special_territory"]
            )
        return TaxTreatment("domestic", standard_rate("ES", on), country)
    if country in EU_COUNTRIES:
        business = bool(tax_id) and valid_eu_vat_number(country, tax_id)
        if vies_valid is not None:
            business = business and vies_valid
        if business:
            return TaxTreatment(
                "eu_reverse_charge", ZERO_RATE, country, LEGENDS["eu_reverse_charge"]
            )
        return TaxTreatment("eu_oss", standard_rate(country, on), country)
    return TaxTreatment("not_subject", ZERO_RATE, country, LEGENDS["not_subject"])


def tax_amount(base: Decimal, rate: Decimal) -> Decimal:
    """Tax on ``base`` at ``rate`` percent, rounded half-up to cents."""
    return (base * rate / Decimal(100)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def validate_tax_id(country: str, tax_id: str) -> str:
    """Return ``tax_id`` compacted if valid for ``country``; raise ValueError with a message.

    Spain accepts NIF, NIE and CIF; other EU countries their VAT number; elsewhere the country's
    own validator when python-stdnum has one, else any non-empty text.
    """
    country = country.upper()
    value = tax_id.strip().upper().replace(" ", "").replace("-", "").replace(".", "")
    if not value:
        return ""
    try:
        if country == "ES":
            from stdnum.es import nif

            number = value[2:] if value.startswith("ES") else value
            return str(nif.validate(number))
        if country in EU_COUNTRIES:
            prefix = "EL" if country == "GR" else country
            full = value if value.startswith(prefix) else prefix + value
            return str(eu_vat.validate(full))
        module = get_cc_module(country.lower(), "vat")
        if module is not None:
            return str(module.validate(value))
    except ValidationError as exc:
        raise ValueError(f"not a valid tax id for {country}: {exc}") from exc
    return value
