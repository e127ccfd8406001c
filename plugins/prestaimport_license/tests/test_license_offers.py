"""Renewal from inside the desktop tool (#21.6): a lease for an add-on near expiry carries a
signed renewal offer that the client module verifies offline; the payment link is single use,
expires and is refused for another proforma; paying through it renews the add-on and the next
validation returns the extended expiry. Runs on SQLite and, with FACTURO_TEST_DATABASE_URL,
on PostgreSQL."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from datetime import timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy import func, select

from facturo.billing.billing_run import billing_run
from facturo.plugin import Context, Document, DocumentLine, Service
from facturo.testing import Clock, make_catalog, make_customer, serve_in_thread, stop_server
from facturo_prestaimport_license.client import (
    Shop,
    normalize_key,
    public_keys_from_jwks,
    renewal_offers,
    verify_lease,
)
from facturo_prestaimport_license.models import Addon, Licence, OfferLink
from facturo_prestaimport_license.service import current_key
from facturo_prestaimport_license.testing import SHOP, T0, Live, body, order, pay, payload

PLUGIN = "prestaimport_license"
NEAR = T0 + timedelta(days=365 - 10)  # ten days before the add-on's expiry (window: 14)


@pytest.fixture
def olive(make_context: Callable[..., Context], clock: Clock) -> Iterator[Live]:
    """The licence and transfer plugins served over HTTP, with a paid licence and add-on."""
    from facturo.web.app import create_app

    clock.set(T0)
    ctx = make_context(plugins=(PLUGIN, "transfer"))
    app = create_app(ctx)
    server = serve_in_thread(app)
    with httpx.Client(base_url=server.url, timeout=10) as client:
        yield Live(ctx, client, app)
    stop_server(server)


def _licensed(live: Live) -> tuple[str, int]:
    """Order and pay a licence with add-on A; return its key and the add-on's service id."""
    ctx = live.ctx
    make_catalog(ctx, provisioner=PLUGIN)
    customer = make_customer(ctx)
    _service_id, document_id = order(ctx, customer)
    pay(ctx, document_id, "first")
    with ctx.db.read_session() as session:
        licence = session.scalars(select(Licence)).one()
        key = current_key(session, ctx, licence)
        addon = session.scalars(select(Addon)).one()
        assert key is not None and addon.service_id is not None
        return key, addon.service_id


def _addon_expiry(payload_: dict[str, Any]) -> str:
    return str(payload_["addons"][0]["expires_at"])


def _renewals_of(ctx: Context, service_id: int) -> list[str]:
    with ctx.db.read_session() as session:
        return list(
            session.scalars(
                select(Document.reference)
                .join(DocumentLine, DocumentLine.document_id == Document.id)
                .where(DocumentLine.service_id == service_id, DocumentLine.action == "renew")
            )
        )


def _keys(live: Live) -> Any:
    return public_keys_from_jwks(live.http.get("/api/v1/licenses/keys").json())


def test_offer_verifies_offline_and_paying_through_the_link_renews(
    olive: Live, clock: Clock
) -> None:
    live, ctx = olive, olive.ctx
    key, addon_service = _licensed(live)
    far = payload(live.validate(body(key)))
    assert "offers" not in far  # a year from expiry: no offer, no offer query
    old_expiry = _addon_expiry(far)

    clock.set(NEAR)
    response = live.validate(body(key))
    data = payload(response)
    [offer] = data["offers"]
    [reference] = _renewals_of(ctx, addon_service)
    with ctx.db.read_session() as session:
        document = session.scalars(select(Document).where(Document.reference == reference)).one()
        total, currency = document.total, document.currency
    assert offer["proforma"] == reference and offer["amount"] == f"{total:.2f}"
    assert offer["addon"] == data["addons"][0]["code"]
    assert offer["epc_qr"].startswith("BCD\n002\n") and f"EUR{total:.2f}" in offer["epc_qr"]
    assert offer["pay_url"].endswith(
        f"/public/licences/renew/{reference}/" + offer["pay_url"].rsplit("/", 1)[1]
    )

    # The desktop tool, offline: the offer is exposed once the lease verifies.
    envelope = response.json()
    decision = verify_lease(
        envelope, _keys(live), Shop(**SHOP), NEAR + timedelta(hours=1), key=normalize_key(key)
    )
    assert decision.accepted and decision.valid
    [seen] = decision.offers
    assert seen.amount == total and seen.currency == currency and seen.proforma == reference
    assert seen.epc_qr == offer["epc_qr"] and seen.link_usable(NEAR)
    assert not seen.link_usable(NEAR + timedelta(days=4))

    # A tampered offer (cheaper amount) breaks the signature: no lease, no offer.
    changed = json.loads(base64.urlsafe_b64decode(envelope["payload"] + "=="))
    changed["offers"][0]["amount"] = "1.00"
    forged = dict(envelope)
    forged["payload"] = base64.urlsafe_b64encode(json.dumps(changed).encode()).decode().rstrip("=")
    tampered = verify_lease(forged, _keys(live), Shop(**SHOP), NEAR, key=normalize_key(key))
    assert not tampered.accepted and tampered.code == "SIGNATURE_INVALID"
    assert renewal_offers(tampered) == () and tampered.offers == ()

    # Asked again, and after a billing run: the same proforma and link, never a second bill.
    again = payload(live.validate(body(key)))
    assert again["offers"][0]["pay_url"] == offer["pay_url"]
    billing_run(ctx)
    assert _renewals_of(ctx, addon_service) == [reference]
    assert payload(live.validate(body(key)))["offers"][0]["proforma"] == reference

    # The link opens once, without login.
    path = urlsplit(offer["pay_url"]).path
    page = live.http.get(path, headers={"Accept-Language": "es"})
    assert page.status_code == 200, page.text
    assert reference in page.text and "Renueva tu complemento" in page.text
    assert "Transferencia bancaria" in page.text
    assert live.http.get(path).status_code == 410

    # Paying the proforma renews the add-on; the next validation shows the new expiry.
    pay(ctx, document.id, "renewal-through-link")
    renewed = payload(live.validate(body(key)))
    assert _addon_expiry(renewed) > old_expiry
    assert _addon_expiry(renewed).startswith("2028-")
    assert "offers" not in renewed
    with ctx.db.read_session() as session:
        service = session.get(Service, addon_service)
        assert service is not None and service.next_due_date is not None
        assert service.next_due_date.year == 2028


def test_link_expires_and_is_refused_for_another_proforma(olive: Live, clock: Clock) -> None:
    live, ctx = olive, olive.ctx
    key, _addon_service = _licensed(live)
    clock.set(NEAR)
    offer = payload(live.validate(body(key)))["offers"][0]
    path = urlsplit(offer["pay_url"]).path
    reference, token = path.rsplit("/", 2)[1:]
    with ctx.db.read_session() as session:
        other = session.scalars(
            select(Document.reference).where(Document.reference != reference)
        ).first()
    assert other is not None
    assert live.http.get(path.replace(reference, other)).status_code == 404
    link_id, mac = token.split(".")
    forged = f"/public/licences/renew/{reference}/{link_id}.{'A' * len(mac)}"
    assert live.http.get(forged).status_code == 404
    assert live.http.get("/public/licences/renew/x/not-a-token").status_code == 404

    clock.set(NEAR + timedelta(days=3, seconds=1))  # offer_link_days = 3
    assert live.http.get(path).status_code == 410
    with ctx.db.read_session() as session:
        assert session.scalar(select(func.count()).select_from(OfferLink)) == 1
        assert session.scalars(select(OfferLink)).one().used_at is None

    # The next lease hands out a fresh link for the same proforma.
    fresh = payload(live.validate(body(key)))["offers"][0]
    assert fresh["proforma"] == reference and fresh["pay_url"] != offer["pay_url"]
    assert live.http.get(urlsplit(fresh["pay_url"]).path).status_code == 200
    assert Decimal(fresh["amount"]) == Decimal(offer["amount"])


def test_racing_offers_and_billing_run_make_one_renewal(olive: Live, clock: Clock) -> None:
    """Four validations' offer builders and a billing run at once (real threads; a true race
    on PostgreSQL): one renewal proforma for the add-on, one live link, all offers name it."""
    from concurrent.futures import ThreadPoolExecutor
    from threading import Barrier

    from facturo_prestaimport_license.offers import ensure_link
    from facturo_prestaimport_license.settings import config

    live, ctx = olive, olive.ctx
    _key, addon_service = _licensed(live)
    clock.set(NEAR)
    with ctx.db.read_session() as session:
        addon_id = session.scalars(select(Addon.id)).one()
    barrier = Barrier(5)

    def offer() -> int | None:
        barrier.wait()
        made = ensure_link(ctx, config(ctx), addon_id, NEAR)
        return made[1].id if made is not None else None

    def run() -> None:
        barrier.wait()
        billing_run(ctx)

    with ThreadPoolExecutor(5) as pool:
        offers = [pool.submit(offer) for _ in range(4)]
        billing = pool.submit(run)
        documents = {future.result() for future in offers}
        billing.result()
    renewals = _renewals_of(ctx, addon_service)
    assert len(renewals) == 1
    with ctx.db.read_session() as session:
        renewal_id = session.scalars(
            select(Document.id).where(Document.reference == renewals[0])
        ).one()
        assert session.scalar(select(func.count()).select_from(OfferLink)) == 1
    assert documents == {renewal_id}


def test_no_offer_without_a_service_to_renew(live: Live, monkeypatch: pytest.MonkeyPatch) -> None:
    """An add-on near expiry that no service bills (staff-made) gets no offer and no write,
    and the validation does not even look for one (the state query says it has no service)."""
    from facturo_prestaimport_license import api
    from facturo_prestaimport_license.testing import seed_licence

    def looked(*args: object) -> None:
        raise AssertionError("renewal offers looked up for an add-on without a service")

    monkeypatch.setattr(api, "renewal_offers", looked)
    seeded = seed_licence(
        live.ctx, {"esprinet": {"active": True, "expires_at": T0 + timedelta(days=3)}}
    )
    data = payload(live.validate(body(seeded.key)))
    assert data["code"] == "VALID" and data["addons"][0]["status"] == "ACTIVE"
    assert "offers" not in data
    with live.ctx.db.read_session() as session:
        assert session.scalar(select(func.count()).select_from(OfferLink)) == 0
        assert session.scalar(select(func.count()).select_from(Document)) == 0
