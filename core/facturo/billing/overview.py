"""What a customer's overview (the client dashboard) shows, read as plain values.

Two Core queries and no ORM objects: the customer with their services (and the products'
names), and their ten most relevant documents (unpaid first, then newest) with the totals of
their issued credit notes. The overview is a function of those queries' rows alone, so the
rows (:func:`read_overview_rows`) can stand as the key of a rendered page: equal rows make
equal overviews, which render the same page; a hit then builds no view objects at all.

The view objects carry the attribute names the client templates read from the ORM models
(``service.product.name(lang)``, ``document.display_number``, ``document.credit_notes``…), so
the same table macros render them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import and_, bindparam, case, select

from facturo.db.reader import RowReader
from facturo.models import Customer, Document, Product, Service

#: How many documents the overview lists.
RECENT_DOCUMENTS = 10
#: A service row: the ORM model or its view.
S = TypeVar("S", "ServiceView", Service)


@dataclass(frozen=True)
class CustomerView:
    """The customer as the page shows them (greeting, banners)."""

    id: int
    name: str
    company: str
    email_verified_at: datetime | None

    @property
    def display_name(self) -> str:
        """The company, else the person's name (as :attr:`Customer.display_name`)."""
        return self.company or self.name

    @property
    def is_verified(self) -> bool:
        """True once the email address was verified."""
        return self.email_verified_at is not None


@dataclass(frozen=True)
class ProductNames:
    """A product's name in each language."""

    name_es: str
    name_en: str

    def name(self, language: str) -> str:
        """The name in ``language`` (as :meth:`Product.name`)."""
        return self.name_en if language == "en" else self.name_es


@dataclass(frozen=True)
class ServiceView:
    """One row of the services table."""

    id: int
    parent_id: int | None
    product: ProductNames
    label: str
    status: str
    cycle: str
    next_due_date: date | None
    price: Decimal
    currency: str


@dataclass(frozen=True)
class CreditNoteView:
    """What the shown status of an invoice needs of one of its credit notes."""

    total: Decimal
    is_issued: bool


@dataclass(frozen=True)
class DocumentView:
    """One row of the documents table."""

    id: int
    kind: str
    status: str
    display_number: str
    issue_date: date
    invoice_date: date | None
    total: Decimal
    currency: str
    credit_notes: tuple[CreditNoteView, ...]


@dataclass(frozen=True)
class Overview:
    """Everything the client dashboard shows that the core reads."""

    customer: CustomerView
    services: tuple[ServiceView, ...]
    documents: tuple[DocumentView, ...]


_CUSTOMERS, _SERVICES, _PRODUCTS = Customer.__table__, Service.__table__, Product.__table__
_DOCUMENTS = Document.__table__
_NOTES = _DOCUMENTS.alias("notes")

#: The customer with their services and the products' names (built once: constructing a
#: statement costs more than running it).
SERVICES_QUERY = (
    select(
        _CUSTOMERS.c.name,
        _CUSTOMERS.c.company,
        _CUSTOMERS.c.email_verified_at,
        _SERVICES.c.id,
        _SERVICES.c.parent_id,
        _PRODUCTS.c.name_es,
        _PRODUCTS.c.name_en,
        _SERVICES.c.label,
        _SERVICES.c.status,
        _SERVICES.c.cycle,
        _SERVICES.c.next_due_date,
        _SERVICES.c.price,
        _SERVICES.c.currency,
    )
    .select_from(_CUSTOMERS)
    .outerjoin(_SERVICES, _SERVICES.c.customer_id == _CUSTOMERS.c.id)
    .outerjoin(_PRODUCTS, _PRODUCTS.c.id == _SERVICES.c.product_id)
    .where(_CUSTOMERS.c.id == bindparam("customer_id"))
    .order_by(_SERVICES.c.id)
)
#: The ids of the customer's first documents, unpaid first, then newest: read from the index
#: on (customer_id, status) alone, so only the rows shown are fetched from the table (all the
#: customer's rows were fetched and sorted before: 44 -> 30 µs on SQLite for 60 documents).
_TOP_DOCUMENTS = (
    select(_DOCUMENTS.c.id, _DOCUMENTS.c.status)
    .where(_DOCUMENTS.c.customer_id == bindparam("customer_id"))
    .order_by(case((_DOCUMENTS.c.status == "unpaid", 0), else_=1), _DOCUMENTS.c.id.desc())
    .limit(RECENT_DOCUMENTS)
    .subquery("top")
)
_TOP = _TOP_DOCUMENTS.c
_SHOWN = _DOCUMENTS.alias("shown")
#: Those documents (in that order) each with its issued credit notes' totals: one row per
#: document and credit note, or one with NULLs for a document without any.
DOCUMENTS_QUERY = (
    select(
        _SHOWN.c.id,
        _SHOWN.c.kind,
        _SHOWN.c.status,
        _SHOWN.c.number,
        _SHOWN.c.reference,
        _SHOWN.c.issue_date,
        _SHOWN.c.invoice_date,
        _SHOWN.c.total,
        _SHOWN.c.currency,
        _NOTES.c.total,
    )
    .select_from(_TOP_DOCUMENTS)
    .join(_SHOWN, _SHOWN.c.id == _TOP.id)
    .outerjoin(_NOTES, and_(_NOTES.c.original_id == _TOP.id, _NOTES.c.number.is_not(None)))
    .order_by(case((_TOP.status == "unpaid", 0), else_=1), _TOP.id.desc(), _NOTES.c.id)
)


#: What the overview is made from: the rows of :data:`SERVICES_QUERY` and
#: :data:`DOCUMENTS_QUERY`. Equal rows make equal overviews, so the rows alone can key a page.
OverviewRows = tuple[tuple[Any, ...], tuple[Any, ...]]


def read_overview_rows(reader: RowReader, customer_id: int) -> OverviewRows | None:
    """The rows :func:`overview_from` makes the overview of ``customer_id`` from (None when
    there is no such customer); cheaper than the overview where only equality matters."""
    params = {"customer_id": customer_id}
    services = reader.rows(SERVICES_QUERY, params)
    if not services:
        return None
    return tuple(services), tuple(reader.rows(DOCUMENTS_QUERY, params))


def overview_from(customer_id: int, rows: OverviewRows) -> Overview:
    """The overview of ``customer_id`` made from its :func:`read_overview_rows`: services in
    :func:`ordered_services` order, the first documents in the order of
    :func:`~facturo.billing.documents.customer_documents`."""
    service_rows, document_rows = rows
    first = service_rows[0]
    customer = CustomerView(customer_id, first[0], first[1] or "", first[2])
    services = [
        ServiceView(
            id=row[3],
            parent_id=row[4],
            product=ProductNames(row[5], row[6]),
            label=row[7],
            status=row[8],
            cycle=row[9],
            next_due_date=row[10],
            price=row[11],
            currency=row[12],
        )
        for row in service_rows
        if row[3] is not None
    ]
    return Overview(customer, tuple(ordered_services(services)), _documents(document_rows))


def read_overview(reader: RowReader, customer_id: int) -> Overview | None:
    """The overview of ``customer_id`` (None when there is no such customer). Run it and
    anything that must agree with it through one :class:`~facturo.db.reader.SessionReader`
    of a ``Database.snapshot_session``."""
    rows = read_overview_rows(reader, customer_id)
    return None if rows is None else overview_from(customer_id, rows)


def ordered_services(services: Iterable[S]) -> list[S]:
    """Main services before their add-ons, each add-on right after its parent."""
    return sorted(services, key=lambda s: (s.parent_id or s.id, s.parent_id is not None, s.id))


def _documents(rows: Iterable[tuple[Any, ...]]) -> tuple[DocumentView, ...]:
    documents: dict[int, tuple[Any, ...]] = {}
    notes: dict[int, list[CreditNoteView]] = {}
    for row in rows:
        documents.setdefault(row[0], row)
        if row[9] is not None:
            notes.setdefault(row[0], []).append(CreditNoteView(row[9], True))
    return tuple(
        DocumentView(
            id=row[0],
            kind=row[1],
            status=row[2],
            display_number=row[3] or row[4],
            issue_date=row[5],
            invoice_date=row[6],
            total=row[7],
            currency=row[8],
            credit_notes=tuple(notes.get(row[0], ())),
        )
        for row in documents.values()
    )
