"""The thank-you after an online payment: what the paid order provisioned (a licence key…).

Gateway plugins show it on the page the bank sends the customer back to, the core on the
document's payment-state page. Plugins fill it through the ``client_document_panels`` hook;
while the order's provisioning is still queued the page says so and refreshes itself.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from facturo.context import Context
from facturo.contributions import Panel
from facturo.models import Document, OutboxEvent, Product, Service

#: Seconds between reloads while provisioning is queued.
REFRESH_SECONDS = 3


@dataclass(frozen=True)
class ThankYou:
    """The panels a paid document's thank-you shows, and whether more is on its way."""

    panels: tuple[Panel, ...]
    preparing: bool


def provisioning_pending(session: Session, document: Document) -> bool:
    """True while a provisioning action queued for one of the document's lines is not done
    (only services whose product names a provisioner: the others have nothing to wait for)."""
    provisioned = set(
        session.scalars(
            select(Service.id)
            .join(Product, Product.id == Service.product_id)
            .where(
                Service.id.in_([line.service_id for line in document.lines]),
                Product.provisioner.is_not(None),
                Product.provisioner != "",
            )
        )
    )
    keys = [
        f"provision:{line.service_id}:{line.action}:line{line.id}"
        for line in document.lines
        if line.service_id in provisioned and line.action
    ]
    if not keys:
        return False
    query = select(OutboxEvent.id).where(
        OutboxEvent.dedupe_key.in_(keys), OutboxEvent.status.not_in(("done", "failed"))
    )
    return session.scalar(query.limit(1)) is not None


def thank_you(ctx: Context, session: Session, document: Document, language: str) -> ThankYou:
    """What the thank-you for the paid ``document`` shows in ``language`` (nothing while it is
    unpaid): the plugins' panels, in their order, and whether provisioning is still queued."""
    if document.status != "paid":
        return ThankYou((), False)
    panels: list[Panel] = []
    for contributed in ctx.hook.client_document_panels(
        ctx=ctx, session=session, document=document, language=language
    ):
        panels.extend(contributed or [])
    panels.sort(key=lambda panel: panel.order)
    return ThankYou(tuple(panels), provisioning_pending(session, document))
