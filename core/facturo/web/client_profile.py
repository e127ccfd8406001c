"""Validation of the customer's contact and billing data (registration and account edit)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from facturo.billing.taxes import validate_tax_id
from facturo.i18n import LANGUAGES
from facturo.web.client_common import is_country

PROFILE_FIELDS = (
    "name",
    "company",
    "tax_id",
    "address",
    "postal_code",
    "city",
    "region",
    "country",
    "phone",
    "language",
)
LIMITS = {
    "name": 200,
    "company": 200,
    "tax_id": 32,
    "address": 300,
    "postal_code": 20,
    "city": 100,
    "region": 100,
    "phone": 40,
}
REQUIRED = ("name", "address", "postal_code", "city", "country")


def clean_profile(
    raw: Mapping[str, str], _: Callable[[str], str]
) -> tuple[dict[str, str], dict[str, str]]:
    """The profile fields of ``raw`` cleaned, and field → message for each problem.

    The tax id is checked for the chosen country (and required when a company is given);
    the country is an ISO code; the language es or en.
    """
    values = {name: raw.get(name, "").strip() for name in PROFILE_FIELDS}
    values["country"] = values["country"].upper()
    errors: dict[str, str] = {}
    for name in REQUIRED:
        if not values[name]:
            errors[name] = _("This field is required.")
    for name, limit in LIMITS.items():
        if len(values[name]) > limit:
            errors[name] = _("Use at most %(n)s characters.") % {"n": limit}
    if values["country"] and not is_country(values["country"]):
        errors["country"] = _("Choose a country from the list.")
    if values["language"] not in LANGUAGES:
        errors["language"] = _("Choose a language from the list.")
    if values["company"] and not values["tax_id"] and "company" not in errors:
        errors["tax_id"] = _("A company needs its tax id.")
    if values["tax_id"] and "country" not in errors and "tax_id" not in errors:
        try:
            values["tax_id"] = validate_tax_id(values["country"], values["tax_id"])
        except ValueError:
            errors["tax_id"] = _("This tax id is not valid for the country chosen.")
    return values, errors
