"""The licence page quotes a supplier add-on co-termed with the licence: the amount with tax
until the licence's renewal, and buying it bills exactly that (issue 21, point 3)."""

from __future__ import annotations

import html
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import select

from facturo.plugin import Document, Product, period_end_instant
from facturo.testing import Clock
from facturo_prestaimport_license.models import Addon, Licence, Supplier
from facturo_prestaimport_license.testing import Live, pay

from .test_license_client_area import CSRF, client_for, ordered_licence


def test_licence_page_quotes_the_addon_until_the_renewal_and_bills_it(
    live: Live, clock: Clock
) -> None:
    customer_id, _ = ordered_licence(live)  # paid on 2 Mar 2026: due again on 2 Mar 2027
    clock.set(datetime(2026, 12, 1, 10, tzinfo=UTC))
    with live.ctx.db.read_session() as session:
        licence = session.scalars(select(Licence)).one()
        product_b = session.scalar(select(Product).where(Product.code == "addon-b"))
        assert product_b is not None
    with client_for(live, customer_id) as client:
        page = html.unescape(client.get("/client/licences").text).replace("\xa0", " ")
        # 91 of 365 days left: 29.00 × 91 / 365 = 7.23, + 21 % IVA 1.52 = 8.75.
        assert "Proveedor addon-b — 8,75 € hasta el 01/03/2027" in page
        assert "se cobra solo por los días que faltan hasta la renovación" in page
        response = client.post(
            f"/client/licences/{licence.id}/addons",
            data={"csrf_token": CSRF, "product_id": str(product_b.id)},
        )
        assert response.status_code == 303
        document_id = int(response.headers["location"].rsplit("/", 1)[1])
    with live.ctx.db.read_session() as session:
        document = session.get(Document, document_id)
        assert document is not None
        assert (document.subtotal, document.total) == (Decimal("7.23"), Decimal("8.75"))
    # Paid, supplier B expires with the licence (and supplier A), at the renewal.
    pay(live.ctx, document_id, "t-b")
    renewal = period_end_instant(date(2027, 3, 1), live.ctx.settings.zone)
    with live.ctx.db.read_session() as session:
        rows = session.execute(
            select(Supplier.code, Addon.active, Addon.expires_at).join(
                Supplier, Supplier.id == Addon.supplier_id
            )
        )
        assert {row.code: (row.active, row.expires_at) for row in rows} == {
            "addon-a": (True, renewal),
            "addon-b": (True, renewal),
        }
