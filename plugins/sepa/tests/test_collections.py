"""Pre-notifications, pain.008 collections (schema-valid, no double collection), settlement."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from facturo.models import OutboxMessage
from facturo.plugin import Document, Payment
from facturo.testing import in_threads
from facturo_sepa.collections import CollectionError, build_collection, mark_sent, settle
from facturo_sepa.models import Collection, CollectionItem, Mandate

from .conftest import (
    CSRF,
    Shop,
    build,
    business_customer,
    collection_date,
    prenotified,
    proforma,
    sign,
    staff_client,
)


def xsd(version: str) -> Path:
    import sepaxml

    return Path(sepaxml.__file__).parent / "schemas" / f"{version}.xsd"


def validate(xml: str, version: str = "pain.008.001.02") -> None:
    """Validate with xmlschema against the XSD (independently of sepaxml's own check)."""
    import xmlschema

    xmlschema.XMLSchema(str(xsd(version))).validate(xml)


def test_the_prenotification_email_states_amount_date_mandate_and_creditor(shop: Shop) -> None:
    mandate_id = sign(shop.ctx, shop.customer)
    doc_id = proforma(shop.ctx, shop.customer)
    assert prenotified(shop.ctx) == 1
    assert prenotified(shop.ctx) == 0  # once per proforma
    with shop.ctx.db.read_session() as session:
        mandate = session.get(Mandate, mandate_id)
        document = session.get(Document, doc_id)
        assert mandate is not None and document is not None
        message = session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.template == "sepa_prenotification")
            .order_by(OutboxMessage.id)
        ).one()
    lead = shop.ctx.today() + timedelta(days=14)  # the default lead time
    assert collection_date(shop.ctx) == max(lead, document.due_date)
    assert document.reference in message.subject and "Aviso de adeudo SEPA" in message.subject
    assert "121,00" in message.text_body  # 100.00 + 21 % IVA, in Spanish
    assert mandate.reference in message.text_body
    assert "ES77000B85626240" in message.text_body
    assert "tu cuenta ES91 •••• 1332" in message.text_body


def test_no_prenotification_without_an_active_mandate(shop: Shop) -> None:
    proforma(shop.ctx, shop.customer)
    assert prenotified(shop.ctx) == 0


def test_a_collection_file_validates_against_the_pain008_schema(shop: Shop) -> None:
    sign(shop.ctx, shop.customer)
    first = proforma(shop.ctx, shop.customer, "100.00")
    second = proforma(shop.ctx, shop.customer, "50.00")
    prenotified(shop.ctx)
    collection_id = build(shop.ctx)
    with shop.ctx.db.read_session() as session:
        collection = session.get(Collection, collection_id)
        assert collection is not None
        xml = collection.xml
        items = {i.document_id: i for i in collection.items}
        assert collection.total == Decimal("181.50") and collection.count == 2
        mandate_ref = items[first].mandate.reference
    validate(xml)
    assert "<LclInstrm><Cd>CORE</Cd></LclInstrm>" in xml
    assert '<InstdAmt Ccy="EUR">121.00</InstdAmt>' in xml
    assert '<InstdAmt Ccy="EUR">60.50</InstdAmt>' in xml
    assert items[first].end_to_end_id in xml and items[second].end_to_end_id in xml
    assert mandate_ref in xml and "ES77000B85626240" in xml


def test_the_2019_version_validates_too(make_context, clock) -> None:  # type: ignore[no-untyped-def]
    from facturo.testing import default_plugin_settings

    tables = default_plugin_settings(("transfer", "sepa"))
    tables["sepa"]["pain_version"] = "pain.008.001.08"
    ctx = make_context(plugins=("transfer", "sepa"), plugin_settings=tables)
    customer = business_customer(ctx)
    sign(ctx, customer, scheme="B2B")
    proforma(ctx, customer)
    prenotified(ctx)
    collection_id = build(ctx, scheme="B2B")
    with ctx.db.read_session() as session:
        collection = session.get(Collection, collection_id)
        assert collection is not None
        validate(collection.xml, "pain.008.001.08")
        assert "<Cd>B2B</Cd>" in collection.xml


def test_a_proforma_is_never_in_two_live_collections(shop: Shop) -> None:
    sign(shop.ctx, shop.customer)
    proforma(shop.ctx, shop.customer)
    prenotified(shop.ctx)
    build(shop.ctx)
    with pytest.raises(CollectionError):
        build(shop.ctx)
    # and the database refuses it even when code tries
    with shop.ctx.db.read_session() as session:
        item = session.scalars(select(CollectionItem)).one()
        values = (item.collection_id, item.document_id, item.mandate_id, item.amount)
    with pytest.raises(IntegrityError), shop.ctx.db.transaction() as session:
        session.add(
            CollectionItem(
                collection_id=values[0],
                document_id=values[1],
                open_document_id=values[1],
                mandate_id=values[2],
                end_to_end_id="FACSDD-X",
                amount=values[3],
                currency="EUR",
                status="pending",
                return_reason="",
            )
        )


def test_only_due_and_prenotified_proformas_are_collected(shop: Shop) -> None:
    sign(shop.ctx, shop.customer)
    proforma(shop.ctx, shop.customer)
    with pytest.raises(CollectionError, match="No pre-notified"):
        build(shop.ctx, on=shop.ctx.today() + timedelta(days=60))  # not pre-notified yet
    prenotified(shop.ctx)
    with pytest.raises(CollectionError, match="No pre-notified"):
        build(shop.ctx, on=collection_date(shop.ctx) - timedelta(days=1))  # too early
    with pytest.raises(CollectionError, match="after today"):
        build(shop.ctx, on=shop.ctx.today())


def test_settling_pays_the_proformas_once(shop: Shop) -> None:
    sign(shop.ctx, shop.customer)
    doc_id = proforma(shop.ctx, shop.customer)
    prenotified(shop.ctx)
    collection_id = build(shop.ctx)
    with shop.ctx.db.transaction() as session:
        with pytest.raises(CollectionError):
            settle(session, shop.ctx, collection_id, "staff:test")  # not sent yet
    with shop.ctx.db.transaction() as session:
        assert mark_sent(session, shop.ctx, collection_id, "staff:test")
        assert not mark_sent(session, shop.ctx, collection_id, "staff:test")
    with shop.ctx.db.transaction() as session:
        assert settle(session, shop.ctx, collection_id, "staff:test") == 1
    with shop.ctx.db.transaction() as session, pytest.raises(CollectionError):
        settle(session, shop.ctx, collection_id, "staff:test")
    with shop.ctx.db.read_session() as session:
        document = session.get(Document, doc_id)
        assert document is not None and document.status == "paid" and document.number
        payments = list(session.scalars(select(Payment).where(Payment.document_id == doc_id)))
        assert [(p.gateway, p.amount) for p in payments] == [("sepa", Decimal("121.00"))]


def test_staff_build_download_and_settle_over_http(shop: Shop) -> None:
    sign(shop.ctx, shop.customer)
    proforma(shop.ctx, shop.customer)
    client = staff_client(shop.ctx)
    assert client.post("/admin/sepa/prenotify", data={"csrf_token": CSRF}).status_code == 303
    bad = client.post(
        "/admin/sepa/collections",
        data={"csrf_token": CSRF, "scheme": "CORE", "collect_on": "mañana"},
    )
    assert bad.status_code == 400 and "Enter the collection date as YYYY-MM-DD." in bad.text
    on = collection_date(shop.ctx).isoformat()
    built = client.post(
        "/admin/sepa/collections", data={"csrf_token": CSRF, "scheme": "CORE", "collect_on": on}
    )
    assert built.status_code == 303
    url = built.headers["location"]
    assert client.get(url).status_code == 200
    download = client.get(f"{url}/xml")
    assert download.status_code == 200
    assert download.headers["content-disposition"].startswith("attachment;")
    validate(download.text)
    again = client.post(
        "/admin/sepa/collections", data={"csrf_token": CSRF, "scheme": "CORE", "collect_on": on}
    )
    assert again.status_code == 400
    assert client.post(f"{url}/sent", data={"csrf_token": CSRF}).status_code == 303
    assert client.post(f"{url}/settled", data={"csrf_token": CSRF}).status_code == 303
    with shop.ctx.db.read_session() as session:
        assert session.scalars(select(Collection.status)).one() == "settled"
    assert "SEPA collections" in client.get("/admin/sepa/collections").text


@pytest.mark.postgres_only
def test_two_staff_building_at_once_collect_each_proforma_once(shop: Shop) -> None:
    sign(shop.ctx, shop.customer)
    ids = [proforma(shop.ctx, shop.customer, f"{10 + n}.00") for n in range(8)]
    prenotified(shop.ctx)
    on = collection_date(shop.ctx)

    def attempt() -> str:
        try:
            with shop.ctx.db.transaction() as session:
                return f"built {build_collection(session, shop.ctx, 'CORE', on, 'staff:x').id}"
        except CollectionError:
            return "nothing left"
        except IntegrityError:
            return "refused by the unique index"

    outcomes = in_threads([attempt] * 4)
    assert sum(o.startswith("built") for o in outcomes) >= 1
    with shop.ctx.db.read_session() as session:
        per_document = dict(
            session.execute(
                select(CollectionItem.document_id, func.count()).group_by(
                    CollectionItem.document_id
                )
            ).all()
        )
    assert per_document == {doc_id: 1 for doc_id in ids}


def test_a_file_that_breaks_the_schema_is_refused_and_nothing_is_stored(shop: Shop) -> None:
    from sqlalchemy import update

    mandate_id = sign(shop.ctx, shop.customer)
    proforma(shop.ctx, shop.customer)
    prenotified(shop.ctx)
    with shop.ctx.db.transaction() as session:  # a value the XSD refuses
        session.execute(update(Mandate).where(Mandate.id == mandate_id).values(iban="ES-BROKEN"))
    with pytest.raises(CollectionError, match="does not validate"):
        build(shop.ctx)
    with shop.ctx.db.read_session() as session:
        assert session.scalar(select(func.count()).select_from(Collection)) == 0
        assert session.scalar(select(func.count()).select_from(CollectionItem)) == 0
