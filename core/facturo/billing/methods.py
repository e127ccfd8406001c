"""The names people read for payment methods, from the plugins that offer them.

The core never names a gateway: each gateway plugin's ``payment_methods()`` gives its label in
every language, and the payment's ``details`` may add what the gateway reported about the
card (``card_brand`` and ``card_last4``), shown as "Tarjeta Visa ····4242" / "Visa card
····4242". A method no enabled plugin names (a plugin since disabled, a test gateway) is
shown by its code; refunds recorded by hand are "Manual refund".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from facturo.context import Context


def method_labels(ctx: Context) -> dict[str, Mapping[str, str]]:
    """Each enabled gateway's label per language, from the ``payment_methods`` hook."""
    labels: dict[str, Mapping[str, str]] = {}
    for contributed in ctx.hook.payment_methods(ctx=ctx):
        for method in contributed:
            labels.setdefault(method.gateway, method.label)
    return labels


def card_details(brand: str | None, masked_number: str | None) -> dict[str, str]:
    """``{"card_brand": "Visa", "card_last4": "4242"}`` from what a gateway reports: the
    brand's name (a gateway plugin turns its own codes into names) and a masked card number
    (``454881******0004``). Parts the gateway did not return are left out; a number without
    four trailing digits gives none."""
    details: dict[str, str] = {}
    brand = (brand or "").strip()
    if brand:
        details["card_brand"] = brand[:40]
    tail = (masked_number or "").strip()[-4:]
    if len(tail) == 4 and tail.isdigit():
        details["card_last4"] = tail
    return details


def method_name(
    ctx: Context,
    gateway: str,
    details: Mapping[str, Any] | None,
    language: str,
    labels: Mapping[str, Mapping[str, str]] | None = None,
) -> str:
    """The method as the reader of ``language`` is shown it: the card and its last four
    digits when the gateway reported them, else the plugin's label, else the code."""
    _ = ctx.translations(language).gettext
    details = details or {}
    brand = str(details.get("card_brand") or "")
    last4 = str(details.get("card_last4") or "")
    if brand and last4:
        return str(_("%(brand)s card ····%(last4)s") % {"brand": brand, "last4": last4})
    if last4:
        return str(_("Card ····%(last4)s") % {"last4": last4})
    if brand:
        return str(_("%(brand)s card") % {"brand": brand})
    if gateway == "manual":
        return str(_("Manual refund"))
    label = (labels if labels is not None else method_labels(ctx)).get(gateway)
    if label:
        return label.get(language) or label.get("en") or next(iter(label.values()), gateway)
    return gateway
