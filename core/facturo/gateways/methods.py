"""The enabled payment methods, as the plugins declare them with ``payment_methods``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from facturo.contributions import PaymentMethod

if TYPE_CHECKING:
    from facturo.context import Context

__all__ = ["enabled_methods", "method_labels"]


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
