"""Client pages of saved cards: the list (brand ····last4, expiry) and deleting one after a
confirmation. Thin: the logic is in :mod:`facturo_ruralvia.cards`."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from facturo.plugin import (
    Confirmation,
    Context,
    confirm_page,
    error_page,
    flash,
    is_confirmed,
    read_form,
    render,
    request_language,
)

from .cards import cards_of, delete_card
from .models import SavedCard

__all__ = ["CARDS_PATH", "card_routes"]

CARDS_PATH = "/client/ruralvia/cards"


def _t(request: Request, message: str) -> str:
    ctx: Context = request.app.state.ctx
    return str(ctx.translations(request_language(request)).gettext(message))


def cards_page(request: Request) -> Response:
    """GET: the customer's saved cards, each with a delete button."""
    ctx: Context = request.app.state.ctx
    with ctx.db.read_session() as session:
        cards = cards_of(session, request.state.customer.id)
    return render(request, "ruralvia/cards.html", {"cards": cards})


def delete(request: Request) -> Response:
    """POST: delete one of the customer's own cards; without ``confirm=yes`` it only shows
    what deleting means (nothing changes). Another customer's card is a 404."""
    ctx: Context = request.app.state.ctx
    customer = request.state.customer
    try:
        card_id = int(request.path_params["card_id"])
    except ValueError:
        return error_page(request, 404)
    if not is_confirmed(request, read_form(request)):
        with ctx.db.read_session() as session:
            card = session.get(SavedCard, card_id)
            if card is None or card.customer_id != customer.id:
                return error_page(request, 404)
            label = card.label or _t(request, "this card")
        return confirm_page(
            request,
            "client",
            Confirmation(
                title=_t(request, "Delete the saved card %(card)s?") % {"card": label},
                consequences=[
                    _t(request, "Your renewals will no longer be charged to this card."),
                    _t(
                        request,
                        "You will receive renewal bills to pay by hand, unless you save "
                        "another card when you pay.",
                    ),
                ],
                action=f"{CARDS_PATH}/{card_id}/delete",
                button=_t(request, "Yes, delete the card"),
                back=CARDS_PATH,
            ),
        )
    with ctx.db.transaction() as session:
        deleted = delete_card(session, ctx, customer.id, card_id)
    if not deleted:
        return error_page(request, 404)
    flash(request, _t(request, "The card was deleted."), "ok")
    return RedirectResponse(CARDS_PATH, status_code=303)


def card_routes() -> list[BaseRoute]:
    """The client routes (the core mounts them under ``/client``)."""
    return [
        Route("/ruralvia/cards", cards_page, methods=["GET"]),
        Route("/ruralvia/cards/{card_id}/delete", delete, methods=["GET", "POST"]),
    ]
