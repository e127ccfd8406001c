"""What a customer is told when an order is refused for a reason they can act on."""

from __future__ import annotations

from collections.abc import Callable

from facturo.billing.orders import DuplicateAddonError, OrderError, UnpaidParentError


def order_refusal(exc: OrderError, gettext: Callable[[str], str], language: str) -> str | None:
    """The translated message for a duplicate add-on or an unpaid licence; None for any other
    refusal (the caller keeps its generic message)."""
    if isinstance(exc, DuplicateAddonError):
        name = exc.names.get(language, exc.code)
        if exc.existing_id is None:
            return gettext(
                "You chose %(name)s more than once. A licence has one add-on per supplier: "
                "choose one billing cycle for it."
            ) % {"name": name}
        return gettext(
            "This licence already has %(name)s (ordered, active or suspended). A licence has "
            "one add-on per supplier; nothing was ordered."
        ) % {"name": name}
    if isinstance(exc, UnpaidParentError):
        return gettext(
            "This licence is not paid yet, so no add-on can be ordered for it. Pay its bill "
            "%(reference)s first, or cancel that bill and order the licence again with the "
            "add-ons you want."
        ) % {"reference": exc.reference or "—"}
    return None
