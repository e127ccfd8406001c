"""Every staff and client page, crawled in Spanish and in English, shows no word of the other
language and no raw value (ISO timestamps, unformatted amounts, internal status codes).

The crawl starts from the dashboards and a list of known routes with seeded ids (a customer
with a licence and its add-ons, a ticket, an unpaid proforma, a paid invoice with its payment
and a credit note) and follows every link of the same section. Text typed by people (names,
addresses, the ticket's subject) is removed before the words are looked for.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from html.parser import HTMLParser

import httpx
import pytest
from sqlalchemy import select

from facturo.billing.payments import record_manual_payment, record_payment
from facturo.billing.refunds import refund
from facturo.context import Context
from facturo.delivery.jobs import mark
from facturo.demo import BUNDLED, DEMO_CUSTOMER, DEMO_STAFF, seed
from facturo.labels import CYCLES, KINDS, ROLES, STATUSES
from facturo.models import Customer, Document, DocumentLine, Product, Service, StaffUser
from facturo.testing import AppClient, Clock, TestDatabase, build_test_context, logged_in_cookies
from facturo.web.app import create_app
from tests.web.conftest import new_proforma

#: Words that give away an English leftover on a Spanish page (whole words, case-sensitive).
ENGLISH = (
    "Amount", "Search", "Customer", "Customers", "Invoice", "Invoices", "Status", "Payment",
    "Payments", "Date", "Product", "Products", "Credit", "Kind", "Gateway", "Next due",
    "Started", "Finished", "Job", "Jobs", "Who", "Action", "Entity", "Reference", "Save",
    "Filter", "Description", "Price", "Quantity", "Name", "Services", "Service", "Documents",
    "Document", "Settings", "Sales", "Support", "Dashboard", "Log out", "Record", "Paid",
    "Unpaid", "Pending", "Active", "Cancelled", "Refund", "Refunds", "Licence", "Licences",
    "None", "Never", "never", "Open", "Closed", "Priority", "Department", "Subject", "Reply",
    "Received", "Notifications", "Bank", "Statement", "Statements", "Tax", "Country",
    "Delete", "Create", "New", "Download", "the", "and", "with", "your", "this",
    "from", "not", "for", "already", "matching",
)  # fmt: skip
#: Words that give away a Spanish leftover on an English page.
SPANISH = (
    "Importe", "Buscar", "Factura", "Facturas", "Cliente", "Clientes", "Estado", "Pago",
    "Pagos", "Fecha", "Producto", "Productos", "Guardar", "Filtrar", "Referencia",
    "Descripción", "Precio", "Cantidad", "Nombre", "Pagada", "Pendiente", "Activo", "Activa",
    "Anulada", "Cancelada", "Ventas", "Ajustes", "Servicios", "Documentos", "Abono", "Devolución",
    "Licencia", "Prioridad", "Departamento", "Asunto", "Responder", "Recibido", "Ninguno",
    "Nunca", "Crear", "Nuevo", "Nueva", "Descargar", "el", "la", "los", "las", "del", "con",
    "para", "tu", "una", "sin", "Cola", "baja", "alta",
)  # fmt: skip
RAW_CODES = frozenset(
    {*STATUSES, *KINDS, *CYCLES, *ROLES, "ACTIVE", "SUSPENDED", "REVOKED", "EXPIRED", "CURRENT"}
    | {"billing_run", "verifactu_send", "tickets_autoclose", "verifactu_reconcile", "worker"}
    - {"ok", "error"}
)
URL = re.compile(r"https?://\S+")
ISO_INSTANT = re.compile(r"\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")
ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
MICROSECONDS = re.compile(r"\d{2}:\d{2}:\d{2}\.\d+")
RAW_AMOUNT = re.compile(r"\b\d+\.\d{2} ?[A-Z]{3}\b|Decimal\(")
SPANISH_RAW_DECIMAL = re.compile(r"(?<![\d.,])\d+\.\d{2}(?![\d.,])")
SKIP_LINKS = re.compile(
    r"[?&]page=(?!1\b)|logout|/lang/|\.pdf|/pdf|\.csv|\.zip|/download|/export|/qr|\.png|\.svg|/static/|\.xml"
)
LIMIT = 160


class VisibleText(HTMLParser):
    """The text a person reads in the page's language ``language`` (not scripts, styles, code
    samples, typed-in values, nor what is marked ``translate="no"`` or in another ``lang``) and
    the links of a page."""

    HIDDEN = frozenset({"script", "style", "code", "pre", "textarea", "template"})
    VOID = frozenset({"br", "img", "input", "meta", "link", "hr", "source", "wbr"})

    def __init__(self, language: str) -> None:
        super().__init__(convert_charrefs=True)
        self.language = language
        self.depth = 0
        self.open: list[tuple[str, bool]] = []
        self.chunks: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "a" and values.get("href"):
            self.links.append(str(values["href"]))
        other = values.get("translate") == "no" or values.get("lang", self.language) not in (
            self.language,
            None,
        )
        if tag in self.HIDDEN or (other and tag != "html"):
            if tag not in self.VOID:
                self.depth += 1
                self.open.append((tag, True))
            return
        if tag not in self.VOID:
            self.open.append((tag, False))
        if self.depth:
            return
        for name in ("aria-label", "placeholder", "title", "alt"):
            if values.get(name):
                self.chunks.append(str(values[name]))

    def handle_endtag(self, tag: str) -> None:
        while self.open:
            name, hiding = self.open.pop()
            if hiding:
                self.depth -= 1
            if name == tag:
                break

    def handle_data(self, data: str) -> None:
        if not self.depth and data.strip():
            self.chunks.append(data.strip())


@dataclass
class Seeded:
    ctx: Context
    customer: Customer
    user_data: list[str]
    staff_routes: list[str] = field(default_factory=list)
    client_routes: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def seeded(
    test_database: TestDatabase, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Seeded]:
    """The demo seed (licence, add-ons, ticket) plus a proforma, a paid invoice with its
    payment and a credit note, with every bundled plugin enabled: built once per module, as
    the crawls only read. On PostgreSQL the test tables are shared and a test that makes its
    own context empties them: in a module using this fixture, such tests come after."""
    folder = tmp_path_factory.mktemp("leftovers")
    ctx = build_test_context(
        test_database, folder, test_database.fresh(folder), Clock(), plugins=BUNDLED
    )
    yield _seeded(ctx)
    ctx.db.dispose()


def _seeded(ctx: Context) -> Seeded:
    seed(ctx)
    with ctx.db.transaction() as session:
        customer = session.scalars(select(Customer).where(Customer.email == DEMO_CUSTOMER[0])).one()
    new_proforma(ctx, customer, "95.50")
    paid = new_proforma(ctx, customer, "1234.50")
    with ctx.db.transaction() as session:
        document = session.get(Document, paid.id)
        assert document is not None
        record_manual_payment(
            session,
            ctx,
            document,
            document.total,
            ctx.today(),
            "BANK-REF-1",
            "staff:test",
            method="transfer",
        )
    refund(ctx, paid.id, Decimal("10.00"), "Partial refund", "staff:test", through_gateway=False)
    with ctx.db.transaction() as session:
        record_payment(
            session, ctx, None, "transfer", "UNMATCHED-1", Decimal("50.00"), "EUR", ctx.now(),
            customer_id=customer.id,
        )  # fmt: skip
    mark(ctx, "billing_run", "ok", started=ctx.now())
    mark(ctx, "verifactu_send", "error", "timeout", started=ctx.now())
    mark(ctx, "worker", "ok")
    user_data = [
        customer.name,
        customer.company or "",
        customer.address,
        "No consigo importar el catálogo de Ingram",
        "Hola, al importar el catálogo de Ingram la barra de progreso se queda al 40 %.",
        "¿Podéis ayudarme?",
        "Soporte técnico",
        "Facturación",
        "Licencias",
        "Partial refund",
        "Consulting",
        "Demo Admin",
        "PrestaImport Software S.L.",
        "Reinstalar la última versión",  # canned replies staff wrote
        "Renovar la licencia",
    ]
    with ctx.db.read_session() as session:
        # What customers typed or bought is theirs, in their language: line descriptions,
        # names and addresses of the demo's other shops.
        user_data += list(session.scalars(select(DocumentLine.description).distinct()))
        user_data += list(session.scalars(select(Document.reason).distinct()))
        for other in session.scalars(select(Customer)):
            user_data += [other.name, other.company or "", other.address, other.city]
    result = Seeded(ctx, customer, user_data)
    with ctx.db.read_session() as session:
        for doc_id in session.scalars(select(Document.id)):
            result.staff_routes.append(f"/admin/documents/{doc_id}")
            result.client_routes.append(f"/client/documents/{doc_id}")
        for service_id in session.scalars(select(Service.id)):
            result.client_routes.append(f"/client/services/{service_id}")
        for product_id in session.scalars(select(Product.id)):
            result.staff_routes.append(f"/admin/products/{product_id}")
    result.staff_routes += [
        "/admin/",
        f"/admin/customers/{customer.id}",
        "/admin/customers?q=Luc",
        "/admin/documents/new",
        "/admin/products/new",
        "/admin/payments/transfer",
        "/admin/payments/review",
        "/admin/2fa/setup",
        f"/admin/vies/customers/{customer.id}",
        "/admin/sepa/collections",
        "/admin/no-such-page",
        "/admin/documents/999999",
    ]
    result.client_routes += [
        "/client/",
        "/client/catalog",
        "/client/tickets/new",
        "/client/sepa/mandates",
        "/client/no-such-page",
        "/client/documents/999999",
    ]
    return result


def strip_user_data(text: str, user_data: list[str]) -> str:
    for value in sorted((v for v in user_data if v), key=len, reverse=True):
        text = text.replace(value, " ")
    return text


def problems_of(html: str, language: str, user_data: list[str]) -> tuple[list[str], list[str]]:
    """(problems found in the page's visible text, the page's links)."""
    parser = VisibleText(language)
    parser.feed(html)
    chunks = [URL.sub(" ", strip_user_data(chunk, user_data)) for chunk in parser.chunks]
    text = "\n".join(chunks)
    found: list[str] = []
    for word in ENGLISH if language == "es" else SPANISH:
        if re.search(rf"(?<![\w*]){re.escape(word)}(?![\w*])", text):
            found.append(f"word {word!r}")
    for name, pattern in (
        ("ISO timestamp", ISO_INSTANT),
        ("ISO date", ISO_DATE),
        ("microseconds", MICROSECONDS),
        ("raw amount", RAW_AMOUNT),
    ):
        match = pattern.search(text)
        if match:
            found.append(f"{name} {match.group(0)!r}")
    if language == "es":
        match = SPANISH_RAW_DECIMAL.search(text)
        if match:
            found.append(f"raw decimal {match.group(0)!r}")
    for chunk in chunks:
        for piece in re.split(r"\s*[·,()|]\s*", chunk):
            if piece.strip() in RAW_CODES:
                found.append(f"raw code {piece.strip()!r}")
    return found, parser.links


def crawl(
    client: httpx.Client, starts: list[str], section: str, seeded: Seeded, language: str
) -> dict[str, list[str]]:
    """Visit ``starts`` and every same-section link found, GET only; problems per page."""
    queue = list(dict.fromkeys(starts))
    seen: set[str] = set()
    report: dict[str, list[str]] = {}
    while queue and len(seen) < LIMIT:
        path = queue.pop(0)
        if path in seen:
            continue
        seen.add(path)
        response = client.get(path)
        if response.status_code in (301, 302, 303, 307):
            continue
        if "text/html" not in response.headers.get("content-type", ""):
            continue
        problems, links = problems_of(response.text, language, seeded.user_data)
        if response.status_code >= 500:
            problems.append(f"status {response.status_code}")
        if problems:
            report[path] = sorted(set(problems))
        for link in links:
            target = link.split("#", 1)[0]
            if (
                target.startswith(f"/{section}")
                and not SKIP_LINKS.search(target)
                and target not in seen
            ):
                queue.append(target)
    assert len(seen) > 10, f"the crawl of /{section} found only {sorted(seen)}"
    return report


def describe(report: dict[str, list[str]]) -> str:
    """One line per page with its problems."""
    return "\n".join(f"{page}: {'; '.join(found)}" for page, found in sorted(report.items()))


@pytest.fixture
def browser(seeded: Seeded) -> Iterator[Callable[[str], httpx.Client]]:
    """A logged-in client (customer and staff) of the seeded app, called in-process, whose
    language is set as a visitor sets it: through ``/lang/<code>``."""
    app = create_app(seeded.ctx)
    opened: list[httpx.Client] = []

    def open_in(language: str) -> httpx.Client:
        with seeded.ctx.db.read_session() as session:
            staff = session.scalars(select(StaffUser).where(StaffUser.email == DEMO_STAFF[0])).one()
        client = AppClient(
            app,
            cookies=logged_in_cookies(seeded.ctx, customer=seeded.customer, staff=staff),
            follow_redirects=False,
        )
        opened.append(client)
        client.get(f"/lang/{language}?next=/client/")
        return client

    yield open_in
    for client in opened:
        client.close()


@pytest.mark.parametrize("language", ["es", "en"])
def test_staff_pages_have_no_leftovers(
    seeded: Seeded, browser: Callable[[str], httpx.Client], language: str
) -> None:
    report = crawl(browser(language), seeded.staff_routes, "admin", seeded, language)
    assert report == {}, describe(report)


@pytest.mark.parametrize("language", ["es", "en"])
def test_client_pages_have_no_leftovers(
    seeded: Seeded, browser: Callable[[str], httpx.Client], language: str
) -> None:
    report = crawl(browser(language), seeded.client_routes, "client", seeded, language)
    assert report == {}, describe(report)


def test_the_checker_catches_leftovers() -> None:
    """The checker itself: each kind of leftover on a page is reported."""
    page = (
        "<p>Buscar</p><td>2026-11-30 10:00:00.123456+00:00</td><td>12.10 EUR</td>"
        "<td><span class='status'>unpaid</span></td><code>Amount</code>"
    )
    found, _links = problems_of(page, "en", [])
    assert "word 'Buscar'" in found
    assert any(item.startswith("ISO timestamp") for item in found)
    assert any(item.startswith("microseconds") for item in found)
    assert any(item.startswith("raw amount") for item in found)
    assert "raw code 'unpaid'" in found
    found, _links = problems_of("<p>Amount 12.10</p><p>Lucía Search</p>", "es", ["Lucía Search"])
    assert found == ["word 'Amount'", "raw decimal '12.10'"]


def test_the_crawl_reads_dates_in_iso_only_as_leftovers() -> None:
    found, _links = problems_of(f"<p>{date(2026, 11, 30).isoformat()}</p>", "en", [])
    assert found == ["ISO date '2026-11-30'"]
