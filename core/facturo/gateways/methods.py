"""The enabled payment methods, as the plugins declare them with ``payment_methods``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from facturo.contributions import PaymentMethod
from facturo.errors import FacturoError

if TYPE_CHECKING:
    from facturo.context import Context

__all__ = ["enabled_methods", "manual_method", "manual_methods", "method_labels"]


def enabled_methods(ctx: Context) -> list[PaymentMethod]:
    """Every method the enabled plugins offer, once per gateway name, in plugin order."""
    seen: dict[str, PaymentMethod] = {}
    for contributed in reversed(ctx.hook.payment_methods(ctx=ctx)):
        for method in contributed or []:
            seen.setdefault(method.gateway, method)
    return list(seen.values())


def method_labels(ctx: Context, language: str, *, online: bool | None = None) -> list[str]:
    """The labels of the enabled methods in ``language`` (es or en); ``online`` filters."""
    return [
        method.label.get(language) or method.label.get("en") or method.gateway
        for method in enabled_methods(ctx)
        if online is None or method.online is online
    ]


def manual_methods(ctx: Context) -> list[PaymentMethod]:
    """The enabled methods staff record by hand (``online=False``: a bank transfer, cash…)."""
    return [method for method in enabled_methods(ctx) if not method.online]


def manual_method(ctx: Context, chosen: str | None) -> str:
    """The gateway name of the manual method ``chosen`` (one of :func:`manual_methods`); when
    none is chosen, the only one enabled. Raises FacturoError (field ``method``) otherwise."""
    offered = [method.gateway for method in manual_methods(ctx)]
    if not offered:
        raise FacturoError("no payment method recorded by hand is enabled", field="method")
    if not chosen and len(offered) == 1:
        return offered[0]
    if chosen not in offered:
        raise FacturoError("choose one of the payment methods offered", field="method")
    return str(chosen)
