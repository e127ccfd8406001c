"""Renewal offers carried in signed leases (#21.6).

When an add-on of a valid licence expires within ``renewal_offer_days``, the lease lists an
offer for it: the amount with tax of its renewal proforma (made or reused through the core's
:func:`renewal_proforma`, so never a second one for the same period), a one-time payment link
valid ``offer_link_days`` and the EPC QR payload of a transfer paying it.

Cost on the validation path: :func:`wants_offers` is pure and answers False unless an add-on
billed by a service (the state query reads which are) is near its expiry; only then
:func:`renewal_offers` runs one indexed query (add-ons by ``(licence_id, supplier_id)``, their
links by ``(licence_id, addon_id, expires_at)``). A link (and, the first time, the proforma) is
written only when no live link exists.

Tokens are ``<link id>.<HMAC>``: derived from the row, never stored; a link is spent by one
conditional UPDATE when its page is opened.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, select, update
from sqlalchemy.orm import Session

from facturo.plugin import Context, Customer, Document, renewal_proforma

from .client import USABLE_ADDON_STATUSES, format_time
from .evaluation import AddonAnswer, LicenseCode, ValidationAnswer
from .models import Addon, OfferLink
from .settings import LicenseConfig

OFFER_CODES = frozenset({LicenseCode.VALID, LicenseCode.ADDONS_MISSING})
ACTOR = "licence-offer"


def _near(addon: AddonAnswer, now: datetime, window: timedelta) -> bool:
    return (
        addon.expires_at is not None
        and addon.supplier_id is not None
        and addon.status in USABLE_ADDON_STATUSES
        and addon.expires_at - now <= window
    )


def wants_offers(
    answer: ValidationAnswer, now: datetime, window: timedelta, renewable: Collection[int]
) -> bool:
    """True when the answer's licence is usable and one of its add-ons whose supplier is in
    ``renewable`` (billed by a service, so there is something to renew) expires within
    ``window`` (no database access)."""
    if window <= timedelta(0) or answer.code not in OFFER_CODES:
        return False
    return any(
        _near(addon, now, window) and addon.supplier_id in renewable for addon in answer.addons
    )


# --- tokens -----------------------------------------------------------------------------------


def _mac(cfg: LicenseConfig, link_id: int, document_id: int, expires_at: datetime) -> str:
    key = hashlib.sha256(b"prestaimport offer link\x00" + cfg.pepper.encode()).digest()
    message = f"{link_id}.{document_id}.{int(expires_at.timestamp())}".encode()
    digest = hmac.new(key, message, hashlib.sha256).digest()[:18]
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def make_token(cfg: LicenseConfig, link: OfferLink) -> str:
    """The token of ``link`` as people get it in the payment URL."""
    return f"{link.id}.{_mac(cfg, link.id, link.document_id, link.expires_at)}"


def link_id_of(token: str) -> int | None:
    """The link id a token names (not yet checked), or None when it cannot be one."""
    head, dot, _ = token.partition(".")
    return int(head) if dot and head.isdigit() and len(head) < 12 else None


def token_matches(cfg: LicenseConfig, link: OfferLink, token: str) -> bool:
    """Constant-time check of ``token`` against ``link``."""
    return hmac.compare_digest(make_token(cfg, link).encode(), token.encode())


def pay_url(ctx: Context, cfg: LicenseConfig, link: OfferLink, reference: str) -> str:
    """The public payment page of ``link``."""
    return f"{ctx.settings.base_url}/public/licences/renew/{reference}/{make_token(cfg, link)}"


# --- offers in the lease ----------------------------------------------------------------------


@dataclass(frozen=True)
class _Row:
    addon_id: int
    supplier_id: int
    service_id: int | None
    link: OfferLink | None
    document: Document | None


def _live_links(
    session: Session, licence_id: int, supplier_ids: Sequence[int], keep: datetime
) -> list[_Row]:
    """The add-ons of ``supplier_ids`` with each live link (unused, valid past ``keep``, on an
    unpaid proforma), newest link first: one query."""
    query = (
        select(Addon.id, Addon.supplier_id, Addon.service_id, OfferLink, Document)
        .select_from(Addon)
        .outerjoin(
            OfferLink,
            and_(
                OfferLink.licence_id == Addon.licence_id,
                OfferLink.addon_id == Addon.id,
                OfferLink.expires_at > keep,
                OfferLink.used_at.is_(None),
            ),
        )
        .outerjoin(
            Document, and_(Document.id == OfferLink.document_id, Document.status == "unpaid")
        )
        .where(Addon.licence_id == licence_id, Addon.supplier_id.in_(supplier_ids))
        .order_by(Addon.id, OfferLink.id.desc())
    )
    return [_Row(r[0], r[1], r[2], r[3], r[4]) for r in session.execute(query)]


def renewal_offers(
    ctx: Context, cfg: LicenseConfig, licence_id: int, answer: ValidationAnswer, now: datetime
) -> list[dict[str, Any]]:
    """The offers to sign into the lease: one per add-on near expiry with a payable renewal."""
    near = {a.supplier_id: a for a in answer.addons if _near(a, now, cfg.renewal_offer)}
    if not near:
        return []
    keep = now + cfg.offer_link_ttl / 2  # a link handed out still has half its life
    with ctx.db.read_session() as session:
        rows = _live_links(session, licence_id, [sid for sid in near if sid is not None], keep)
        found: dict[int, tuple[OfferLink, Document]] = {}
        suppliers: dict[int, int] = {}
        for row in rows:
            if row.service_id is None:  # nothing to renew (and no write on every validation)
                continue
            suppliers[row.addon_id] = row.supplier_id
            if row.addon_id not in found and row.link is not None and row.document is not None:
                session.expunge(row.link)
                session.expunge(row.document)
                found[row.addon_id] = (row.link, row.document)
    missing = [addon_id for addon_id in suppliers if addon_id not in found]
    for addon_id in missing:
        made = ensure_link(ctx, cfg, addon_id, now)
        if made is not None:
            found[addon_id] = made
    offers = []
    for addon_id, (link, document) in sorted(found.items()):
        addon = near[suppliers[addon_id]]
        offers.append(_offer(ctx, cfg, addon, link, document))
    return offers


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


def _offer(
    ctx: Context, cfg: LicenseConfig, addon: AddonAnswer, link: OfferLink, document: Document
) -> dict[str, Any]:
    return {
        "addon": addon.code,
        "supplier_id": addon.supplier_id,
        "name": addon.name,
        "expires_at": format_time(addon.expires_at) if addon.expires_at else None,
        "proforma": document.reference,
        "currency": document.currency,
        "base": _money(document.subtotal),
        "tax": _money(document.tax_total),
        "amount": _money(document.total),
        "due": _money(document.total - document.amount_paid - document.credit_applied),
        "pay_url": pay_url(ctx, cfg, link, document.reference),
        "pay_url_expires_at": format_time(link.expires_at),
        "epc_qr": link.epc_payload or None,
    }


def _epc_payload(ctx: Context, document: Document, language: str) -> str:
    options = ctx.hook.invoice_payment_options(ctx=ctx, document=document, language=language)
    for group in options:
        for option in group if isinstance(group, list) else [group]:
            if getattr(option, "transfer_payload", None):
                return str(option.transfer_payload)
    return ""


def ensure_link(
    ctx: Context, cfg: LicenseConfig, addon_id: int, now: datetime
) -> tuple[OfferLink, Document] | None:
    """A live link for ``addon_id``'s renewal proforma, made (with the proforma, the first
    time) under the add-on's row lock; None when the add-on has no service to renew or its
    renewal cannot be paid now."""
    with ctx.db.transaction() as session:
        addon = session.scalar(select(Addon).where(Addon.id == addon_id).with_for_update())
        if addon is None or addon.service_id is None:
            return None
        keep = now + cfg.offer_link_ttl / 2
        for row in _live_links(session, addon.licence_id, [addon.supplier_id], keep):
            if row.link is not None and row.document is not None:
                session.expunge(row.link)
                session.expunge(row.document)
                return row.link, row.document
        document = renewal_proforma(session, ctx, addon.service_id, actor=ACTOR)
        if document is None or document.status != "unpaid":
            return None
        customer = session.get(Customer, document.customer_id)
        language = customer.language if customer is not None else "es"
        link = OfferLink(
            licence_id=addon.licence_id,
            addon_id=addon.id,
            document_id=document.id,
            created_at=now,
            expires_at=now + cfg.offer_link_ttl,
            epc_payload=_epc_payload(ctx, document, language)[:400],
        )
        session.add(link)
        session.flush()
        session.refresh(document)
        session.expunge(link)
        session.expunge(document)
        return link, document


# --- the payment page -------------------------------------------------------------------------


class LinkRefused(Exception):
    """A payment link that may not be used: unknown, forged, for another proforma, expired or
    already used (``reason`` says which)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def redeem(ctx: Context, cfg: LicenseConfig, reference: str, token: str) -> int:
    """Spend the link of ``token`` for the proforma ``reference``; return the document id.

    Raises LinkRefused. The spending is one conditional UPDATE (unused and unexpired), so two
    requests with the same link cannot both pass."""
    link_id = link_id_of(token)
    if link_id is None:
        raise LinkRefused("unknown")
    now = ctx.now()
    with ctx.db.transaction() as session:
        link = session.get(OfferLink, link_id)
        if link is None or not token_matches(cfg, link, token):
            raise LinkRefused("unknown")
        document = session.get(Document, link.document_id)
        if document is None or document.reference != reference:
            raise LinkRefused("other")
        spent = session.execute(
            update(OfferLink)
            .where(
                OfferLink.id == link.id,
                OfferLink.used_at.is_(None),
                OfferLink.expires_at > now,
            )
            .values(used_at=now)
            .execution_options(synchronize_session=False)
        )
        if spent.rowcount != 1:  # type: ignore[attr-defined]
            raise LinkRefused("expired" if link.used_at is None else "used")
        return document.id
