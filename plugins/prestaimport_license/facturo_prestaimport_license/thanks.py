"""The licence key where the customer looks right after paying: the thank-you page's panel
and the "your licence" email sent once when a paid licence is first provisioned."""

from __future__ import annotations

from html import escape

from sqlalchemy import select
from sqlalchemy.orm import Session

from facturo.plugin import Context, Customer, Document, Panel, Service, enqueue_email

from .models import Licence
from .service import current_key, licence_name
from .settings import PLUGIN


def licence_panels(
    ctx: Context, session: Session, document: Document, language: str
) -> list[Panel]:
    """One panel per licence the paid ``document`` bills, with its key (none when it bills
    no licence of ours or the licence is not provisioned yet)."""
    service_ids = [line.service_id for line in document.lines if line.service_id is not None]
    if not service_ids:
        return []
    services = session.scalars(select(Service).where(Service.id.in_(service_ids))).all()
    mains = [s.id for s in services if s.product.provisioner == PLUGIN and s.parent_id is None]
    if not mains:
        return []
    licences = session.scalars(
        select(Licence).where(Licence.service_id.in_(mains)).order_by(Licence.id)
    ).all()
    _ = ctx.translations(language).gettext
    parts = []
    for licence in licences:
        key = current_key(session, ctx, licence)
        if key is None:
            continue
        parts.append(
            f"<p>{escape(licence_name(session, licence, language))}</p>"
            f'<p><code class="key" id="licence-key-{licence.id}">{escape(key)}</code></p>'
        )
    if not parts:
        return []
    hint = escape(_("Enter this key in PrestaImport GUI. We have also sent it to you by email."))
    link = escape(_("See your licences"))
    html = "".join(parts) + f'<p>{hint}</p><p><a href="/client/licences">{link}</a></p>'
    return [Panel(title={"es": "Tu licencia", "en": "Your licence"}, html=html, order=10)]


def send_licence_email(session: Session, ctx: Context, licence: Licence) -> None:
    """Queue the "your licence" email with the key, once per licence."""
    customer = session.get(Customer, licence.customer_id)
    key = current_key(session, ctx, licence)
    if customer is None or key is None:
        return
    enqueue_email(
        session,
        ctx,
        "licence_ready",
        customer.email,
        customer.language,
        {
            "customer": customer,
            "key": key,
            "name": licence_name(session, licence, customer.language),
            "licences_url": ctx.url("/client/licences"),
        },
        dedupe_key=f"licence:ready:{licence.id}",
        customer_id=customer.id,
    )
