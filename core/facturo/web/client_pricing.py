"""The public price list: what is on sale and what it costs, before anyone registers."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from facturo.billing.taxes import treatment_for
from facturo.web.client_catalog import offers, sellable
from facturo.web.client_common import country_name, ctx_of
from facturo.web.rendering import render, request_language
from facturo.web.sections import open_page


@open_page
def pricing(request: Request) -> Response:
    """Products, their add-ons and prices with the VAT a consumer in the seller's country pays;
    the page tells visitors elsewhere that their own tax is worked out when they order."""
    ctx = ctx_of(request)
    seller = ctx.settings.seller
    treatment = treatment_for(seller.country, "", seller.postal_code, ctx.today())
    currency = ctx.settings.currency
    with ctx.db.read_session() as session:
        items = [
            {
                "product": product,
                "offers": offers(product, currency, treatment),
                "addons": [
                    {"product": addon, "offers": offers(addon, currency, treatment)}
                    for addon in sorted(product.addons, key=lambda a: (a.position, a.id))
                    if not addon.retired
                ],
            }
            for product in sellable(session)
        ]
        return render(
            request,
            "client/pricing.html",
            {
                "items": items,
                "treatment": treatment,
                "currency": currency,
                "country": country_name(seller.country, request_language(request)),
            },
        )


def routes() -> list[BaseRoute]:
    """``/client/pricing``, open to everyone."""
    return [Route("/pricing", pricing, methods=["GET"])]
