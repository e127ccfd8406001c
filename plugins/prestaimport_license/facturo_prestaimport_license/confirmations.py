"""Confirmation pages of the licence's destructive actions (key regeneration, shop moves,
suspension and revocation): each says what stops working. GET shows the page; a POST
without ``confirm=yes`` shows it too and changes nothing (see ``facturo.web.confirm``)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response

from facturo.plugin import Confirmation, Context, Customer, confirm_page, request_language

from .models import Licence, LicenceKey
from .service import binding_of, move_allowance


def _t(request: Request, message: str) -> str:
    ctx: Context = request.app.state.ctx
    return str(ctx.translations(request_language(request)).gettext(message))


def _hint(session: Session, licence: Licence) -> str:
    row = session.scalar(
        select(LicenceKey).where(LicenceKey.licence_id == licence.id, LicenceKey.state == "CURRENT")
    )
    return row.hint if row is not None else "—"


def _shop(session: Session, request: Request, licence: Licence) -> str:
    binding = binding_of(session, licence.id)
    return binding.shop_host if binding is not None else _t(request, "no shop yet")


def regenerate_confirmation(request: Request, session: Session, licence: Licence) -> Response:
    """Before replacing the customer's key: the key that stops working and where."""
    values = {"hint": _hint(session, licence), "shop": _shop(session, request, licence)}
    consequences = [
        _t(
            request,
            "The key ending in %(hint)s stops working at once: PrestaImport GUI on %(shop)s "
            "answers KEY_REPLACED and stops importing until you paste the new key into it.",
        )
        % values,
        _t(request, "The old key cannot be brought back."),
        _t(request, "The licence, its shop and its suppliers stay as they are."),
    ]
    return confirm_page(
        request,
        "client",
        Confirmation(
            title=_t(request, "Generate a new key?"),
            consequences=consequences,
            action=f"/client/licences/{licence.id}/regenerate",
            button=_t(request, "Yes, replace the key"),
            back="/client/licences",
        ),
    )


def move_confirmation(request: Request, session: Session, licence: Licence) -> Response:
    """Before releasing the shop: which shop stops validating and the moves left."""
    ctx: Context = request.app.state.ctx
    allowance = move_allowance(session, ctx, licence.id)
    values = {"shop": _shop(session, request, licence), "left": allowance.left}
    consequences = [
        _t(
            request,
            "The licence is released from %(shop)s: PrestaImport GUI there stops validating.",
        )
        % values,
        _t(request, "The next shop that validates the key is bound to the licence."),
        _t(request, "This uses one of the %(left)s moves you have left this year.") % values,
    ]
    return confirm_page(
        request,
        "client",
        Confirmation(
            title=_t(request, "Move the licence to another shop?"),
            consequences=consequences,
            action=f"/client/licences/{licence.id}/move",
            button=_t(request, "Yes, release the shop"),
            back="/client/licences",
        ),
    )


def status_confirmation(
    request: Request, session: Session, licence: Licence, status: str, reason: str
) -> Response:
    """Before staff suspend or revoke a licence: what stops, and whether it can come back."""
    customer = session.get(Customer, licence.customer_id)
    values = {
        "licence": f"lic_{licence.id}",
        "customer": customer.email if customer is not None else "—",
        "shop": _shop(session, request, licence),
    }
    if status == "REVOKED":
        title = _t(request, "Revoke licence %(licence)s?") % values
        consequences = [
            _t(
                request,
                "Licence %(licence)s of %(customer)s is revoked for good: PrestaImport GUI on "
                "%(shop)s answers REVOKED, stops importing from every supplier and deletes its "
                "offline copy.",
            )
            % values,
            _t(request, "A revoked licence cannot be reinstated."),
        ]
        button = _t(request, "Yes, revoke the licence")
    else:
        title = _t(request, "Suspend licence %(licence)s?") % values
        consequences = [
            _t(
                request,
                "Licence %(licence)s of %(customer)s is suspended: PrestaImport GUI on %(shop)s "
                "answers SUSPENDED and stops importing from every supplier until staff "
                "reinstate it.",
            )
            % values,
            _t(request, "Billing does not lift a suspension made by staff."),
        ]
        button = _t(request, "Yes, suspend the licence")
    return confirm_page(
        request,
        "admin",
        Confirmation(
            title=title,
            consequences=consequences,
            action=f"/admin/licences/{licence.id}/status",
            button=button,
            back=f"/admin/licences/{licence.id}",
            fields={"status": status, "reason": reason},
        ),
    )


def reset_confirmation(request: Request, session: Session, licence: Licence) -> Response:
    """Before staff release a licence's shop (not counted as a customer move)."""
    values = {"shop": _shop(session, request, licence)}
    consequences = [
        _t(
            request,
            "The licence is released from %(shop)s: PrestaImport GUI there stops validating.",
        )
        % values,
        _t(request, "The next shop that validates the key is bound to the licence."),
        _t(request, "It does not count as one of the customer's moves."),
    ]
    return confirm_page(
        request,
        "admin",
        Confirmation(
            title=_t(request, "Reset the shop binding?"),
            consequences=consequences,
            action=f"/admin/licences/{licence.id}/reset",
            button=_t(request, "Yes, release the shop"),
            back=f"/admin/licences/{licence.id}",
        ),
    )
