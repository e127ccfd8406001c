"""Returned direct debits read from the bank statements the transfer plugin imports."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import httpx
from sqlalchemy import select

from facturo.models import OutboxMessage
from facturo.plugin import Context, Document
from facturo.testing import SmtpServer, drain
from facturo_sepa.collections import mark_sent, settle
from facturo_sepa.models import CollectionItem

from .conftest import (
    CSRF,
    PLUGINS,
    build,
    business_customer,
    prenotified,
    proforma,
    sign,
    staff_client,
)


def camt053(amount: str, end_to_end: str = "", reason: str = "", text: str = "") -> bytes:
    """A camt.053 statement with one booked debit: a returned direct debit."""
    refs = f"<Refs><EndToEndId>{end_to_end}</EndToEndId></Refs>" if end_to_end else ""
    why = f"<RtrInf><Rsn><Cd>{reason}</Cd></Rsn></RtrInf>" if reason else ""
    extra = f"<AddtlNtryInf>{text}</AddtlNtryInf>" if text else ""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt>'
        "<GrpHdr><MsgId>STMT-1</MsgId><CreDtTm>2026-03-20T08:00:00</CreDtTm></GrpHdr>"
        "<Stmt><Id>S-1</Id><Acct><Id><IBAN>ES9121000418450200051332</IBAN></Id></Acct>"
        f'<Ntry><Amt Ccy="EUR">{amount}</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts>BOOK</Sts>'
        "<BookgDt><Dt>2026-03-20</Dt></BookgDt><ValDt><Dt>2026-03-20</Dt></ValDt>"
        "<AcctSvcrRef>RET-0001</AcctSvcrRef>"
        f"<NtryDtls><TxDtls>{refs}{why}</TxDtls></NtryDtls>{extra}</Ntry>"
        "</Stmt></BkToCstmrStmt></Document>"
    ).encode()


def upload(client: httpx.Client, data: bytes) -> None:
    """Import a statement through the transfer plugin's staff page."""
    answer = client.post(
        "/admin/transfer/statements",
        data={"csrf_token": CSRF},
        files={"statement": ("extracto.xml", data, "application/xml")},
    )
    assert answer.status_code == 303, answer.text


def collected(ctx: Context) -> tuple[int, CollectionItem]:
    customer = business_customer(ctx)
    sign(ctx, customer)
    doc_id = proforma(ctx, customer)
    prenotified(ctx)
    collection_id = build(ctx)
    with ctx.db.transaction() as session:
        mark_sent(session, ctx, collection_id, "staff:test")
    with ctx.db.read_session() as session:
        item = session.scalars(select(CollectionItem)).one()
        session.expunge(item)
    return doc_id, item


def returned_emails(ctx: Context) -> list[OutboxMessage]:
    with ctx.db.read_session() as session:
        query = (
            select(OutboxMessage)
            .where(OutboxMessage.template == "sepa_returned")
            .order_by(OutboxMessage.id)
        )
        return list(session.scalars(query))


def test_a_return_before_settlement_reopens_the_proforma_and_emails(
    make_context: Callable[..., Context], smtp_server: SmtpServer
) -> None:
    ctx = make_context(plugins=PLUGINS, overrides=smtp_server.settings())
    doc_id, item = collected(ctx)
    staff = staff_client(ctx)
    upload(staff, camt053("121.00", item.end_to_end_id, "AM04"))
    with ctx.db.read_session() as session:
        again = session.get(CollectionItem, item.id)
        document = session.get(Document, doc_id)
        assert again is not None and document is not None
        assert (again.status, again.return_reason, again.open_document_id) == (
            "returned",
            "AM04",
            None,
        )
        assert document.status == "unpaid" and document.is_payable
    upload(staff, camt053("121.00", item.end_to_end_id, "AM04"))  # a re-import changes nothing
    (email,) = returned_emails(ctx)
    assert "saldo insuficiente" in email.text_body and "(AM04)" in email.text_body
    drain(ctx)
    sent = [m for m in smtp_server.sink.messages if "Adeudo SEPA devuelto" in str(m["Subject"])]
    assert len(sent) == 1
    assert str(sent[0]["To"]) == "empresa@example.com"
    # the proforma can be collected again only by hand: settling pays nothing
    with ctx.db.transaction() as session:
        assert settle(session, ctx, item.collection_id, "staff:test") == 0
    with ctx.db.read_session() as session:
        document = session.get(Document, doc_id)
        assert document is not None and document.status == "unpaid"


def test_a_return_after_settlement_reverses_the_payment_and_bills_again(
    make_context: Callable[..., Context],
) -> None:
    ctx = make_context(plugins=PLUGINS)
    doc_id, item = collected(ctx)
    with ctx.db.transaction() as session:
        settle(session, ctx, item.collection_id, "staff:test")
    # Norma 43 style: no end-to-end field, the id is in the movement's text
    upload(
        staff_client(ctx), camt053("121.00", text=f"DEVOLUCION RECIBO {item.end_to_end_id} MS02")
    )
    with ctx.db.read_session() as session:
        invoice = session.get(Document, doc_id)
        assert invoice is not None and invoice.status == "paid"
        assert invoice.refunded_total == Decimal("121.00")
        notes = list(session.scalars(select(Document).where(Document.original_id == doc_id)))
        assert [(n.kind, abs(n.total)) for n in notes] == [("credit_note", Decimal("121.00"))]
        reopened = session.scalars(
            select(Document).where(
                Document.customer_id == invoice.customer_id,
                Document.kind == "proforma",
                Document.status == "unpaid",
            )
        ).one()
        assert reopened.total == Decimal("121.00")
        assert [line.description for line in reopened.lines] == ["Licencia anual"]
    (email,) = returned_emails(ctx)
    assert reopened.reference in email.text_body


def test_a_debit_of_another_amount_or_unknown_reference_is_ignored(
    make_context: Callable[..., Context],
) -> None:
    ctx = make_context(plugins=PLUGINS)
    _doc_id, item = collected(ctx)
    staff = staff_client(ctx)
    upload(staff, camt053("99.00", item.end_to_end_id, "AM04"))
    upload(staff, camt053("121.00", "FACSDD-999-999", "AM04").replace(b"RET-0001", b"RET-2"))
    with ctx.db.read_session() as session:
        again = session.get(CollectionItem, item.id)
        assert again is not None and again.status == "pending"
    assert returned_emails(ctx) == []
