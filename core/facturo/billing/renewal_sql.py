"""The renewal run's dialect-specific statements: claiming billed periods, and writing a batch's
documents, lines, events, audit rows and emails set-based from the batch's plan tables.

The plan (see :mod:`facturo.billing.renewal_plan`) is loaded into temporary tables (COPY on
PostgreSQL, executemany on SQLite) and every row the batch writes is then made by one
``INSERT … SELECT`` each: the database builds the rows, Python only decides the values that
differ per document.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, NamedTuple, cast

from sqlalchemy import (
    Column,
    Engine,
    Integer,
    MetaData,
    Select,
    String,
    Table,
    Text,
    bindparam,
    column,
    insert,
    text,
)
from sqlalchemy import table as sql_table
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.schema import CreateTable
from sqlalchemy.sql.elements import TextClause

from facturo.db.bulk import bulk_insert, is_postgres
from facturo.db.types import Money, Rate, UTCDateTime
from facturo.models import BilledPeriod, Document, DocumentLine

PERIODS = cast(Table, BilledPeriod.__table__)
#: PostgreSQL: work_mem of a batch's transaction (its largest sort: ~25 MB for 4,000 customers)
SORT_MEMORY = "64MB"
DOCUMENT_LINK = "fk_billed_periods_document_id_documents"


class DueService(NamedTuple):
    """A service due for renewal, as the run reads it (a tuple: 100,000 are made per run)."""

    id: int
    customer_id: int
    due: date
    cycle: str
    price: Decimal
    label: str
    product_id: int


DUE_COLUMNS = ("id", "customer_id", "due", "cycle", "price", "label", "product_id")
#: SQLite: the run's due services, copied in the query's order (columns without affinity, so
#: every value is kept as the query gave it)
_DUE = sql_table("renewal_due", *(column(name) for name in DUE_COLUMNS), schema="temp")


def stream_due(
    engine: Engine, query: Select[*tuple[Any, ...]], sqlite: bool
) -> Generator[Sequence[Any], None, None]:
    """The rows of ``query`` (the due services, in billing order), streamed so that memory
    stays flat: a server-side cursor on PostgreSQL. SQLite first copies them into a temporary
    table and ends its read transaction, then streams that table: a statement left open on the
    services for the whole run would hold its snapshot, and no checkpoint could copy the
    run's commits into the database file until the end (the WAL grew to about 260 MB, then
    one checkpoint copied it all). A temporary table is the connection's own, outside the WAL.
    """
    with engine.connect() as connection:
        if not sqlite:
            rows = connection.execute(query.execution_options(yield_per=5000))
            try:
                yield from rows
            finally:  # a run stopped by an error leaves the server-side cursor open otherwise
                rows.close()
            return
        names = ", ".join(DUE_COLUMNS)
        connection.exec_driver_sql(f"CREATE TEMP TABLE renewal_due ({names})")
        try:
            connection.execute(insert(_DUE).from_select(list(DUE_COLUMNS), query))
            connection.commit()
            yield from connection.execution_options(yield_per=5000).exec_driver_sql(
                f"SELECT {names} FROM temp.renewal_due ORDER BY rowid"
            )
        finally:
            connection.rollback()
            connection.exec_driver_sql("DROP TABLE temp.renewal_due")
            connection.commit()


Claim = tuple[int, date, int]  # service id, period start, the document id reserved for it
_CLAIM_ON_POSTGRES = (
    "INSERT INTO billed_periods (service_id, period_start, document_id) "
    "SELECT * FROM unnest(CAST(:sids AS integer[]), CAST(:starts AS date[]), "
    "CAST(:docs AS integer[]))"
)
UNIQUE_VIOLATION = "23505"  # SQLSTATE


def claim_periods(session: Session, claims: Sequence[Claim]) -> set[int]:
    """Insert the natural keys of ``claims``' periods, each pointing at the document id
    reserved for it (ids that no other transaction can hold); return the service ids this
    run won.

    The documents are written later in the same transaction, so the link's foreign key is
    deferred to commit first (a period lost to another run keeps that run's document).
    On PostgreSQL the services are first locked (``FOR KEY SHARE``, in id order), so that the
    run waits for anyone renewing one of them on demand (``renewal_proforma`` locks the service
    ``FOR UPDATE``, then claims) *before* it writes a claim. Claiming first would hold the
    period's unique key while the foreign-key check waits for that service: a deadlock.
    There the claims are one plain ``INSERT`` in a savepoint; only when a claim is taken
    already (a unique violation) are they made again with ``ON CONFLICT DO NOTHING
    RETURNING``, which tells which were won.
    """
    if is_postgres(session):
        # The arrays go as array literals: psycopg's list dumper took 0.7 s per 100,000 claims.
        sids = _array_literal([c[0] for c in claims])
        session.execute(text(f"SET CONSTRAINTS {DOCUMENT_LINK} DEFERRED"))
        session.execute(
            text(
                "SELECT 1 FROM services WHERE id = ANY(CAST(:sids AS integer[])) "
                "ORDER BY id FOR KEY SHARE"
            ),
            {"sids": sids},
        )
        values = {
            "sids": sids,
            "starts": _array_literal([c[1] for c in claims]),
            "docs": _array_literal([c[2] for c in claims]),
        }
        try:
            # Almost always every claim is won: a plain insert skips the speculative
            # insertion of ON CONFLICT (an index probe, then a confirmation record per row).
            with session.begin_nested():
                session.execute(text(_CLAIM_ON_POSTGRES), values)
            return {c[0] for c in claims}
        except IntegrityError as error:
            if getattr(error.orig, "sqlstate", None) != UNIQUE_VIOLATION:
                raise
        claimed = session.scalars(
            text(
                _CLAIM_ON_POSTGRES + " ON CONFLICT (service_id, period_start) DO NOTHING"
                " RETURNING service_id"
            ),
            values,
        )
        return set(claimed)
    # SQLite checks every foreign key of this transaction at commit from here on
    session.execute(text("PRAGMA defer_foreign_keys = ON"))
    return _claim_on_sqlite(session, claims)


def _claim_on_sqlite(session: Session, claims: Sequence[Claim]) -> set[int]:
    """SQLite: one executemany of ``INSERT … ON CONFLICT DO NOTHING`` in claim order (so the
    claims' ids follow it). Every claim is usually won, which the rows it changed tell; when
    some were lost, the won ones are those pointing at this transaction's document ids.

    Before, the claims were loaded into a temporary table, copied by one ``INSERT … SELECT
    … RETURNING`` and the returned ids fetched: about twice the work."""
    process = PERIODS.c.period_start.type._cached_bind_processor(session.get_bind().dialect)
    starts = {start: process(start) if process else start for start in {c[1] for c in claims}}
    cursor = session.connection().connection.cursor()
    try:
        cursor.executemany(
            "INSERT INTO billed_periods (service_id, period_start, document_id) VALUES (?, ?, ?) "
            "ON CONFLICT (service_id, period_start) DO NOTHING",
            [(service_id, starts[start], doc_id) for service_id, start, doc_id in claims],
        )
        changed = cursor.rowcount  # summed over the rows; a row left alone changes none
    finally:
        cursor.close()
    if changed == len(claims):
        return {c[0] for c in claims}
    ours = {(c[0], c[2]) for c in claims}
    docs = [c[2] for c in claims]
    found = session.execute(
        text(
            "SELECT service_id, document_id FROM billed_periods "
            "WHERE document_id BETWEEN :first AND :last"
        ),
        {"first": min(docs), "last": max(docs)},
    )
    return {service_id for service_id, doc_id in found if (service_id, doc_id) in ours}


def _array_literal(values: Sequence[int | date]) -> str:
    """``values`` as a PostgreSQL array literal (integers or dates: nothing to quote)."""
    return "{" + ",".join(map(str, values)) + "}"


# --- the batch's plan tables ------------------------------------------------------------------

_PLAN = MetaData()
_TEMP: dict[str, Any] = {"prefixes": ["TEMPORARY"], "postgresql_on_commit": "DROP"}
DOCUMENTS = cast(Table, Document.__table__)
LINES = cast(Table, DocumentLine.__table__)

PLAN_DOCUMENTS = Table(
    "renewal_plan_documents",
    _PLAN,
    Column("id", Integer, primary_key=True),
    Column("reference", String(40)),
    Column("customer_id", Integer),
    Column("due_date", DOCUMENTS.c.due_date.type),
    Column("subtotal", Money()),
    Column("tax_total", Money()),
    Column("total", Money()),
    Column("credit_applied", Money()),
    Column("tax_treatment", String(32)),
    Column("tax_breakdown", Text),  # JSON text, as the JSON type would write it
    Column("legends", Text),
    Column("language", String(5)),
    Column("created_after", Text),  # the audit row's ``after`` JSON
    Column("credit_after", Text),  # the credit.apply audit row's, or NULL
    Column("email_id", Integer),  # the email template filled for it, NULL: no email
    Column("message_id", String(255)),
    **_TEMP,
)
PLAN_LINES = Table(
    "renewal_plan_lines",
    _PLAN,
    Column("document_id", Integer),
    Column("position", Integer),
    Column("service_id", Integer),
    Column("description", String(500)),
    Column("amount", Money()),
    Column("tax_rate", Rate()),
    Column("period_start", LINES.c.period_start.type),
    Column("period_end", LINES.c.period_end.type),
    **_TEMP,
)
PLAN_EMAILS = Table(
    "renewal_plan_emails",
    _PLAN,
    Column("id", Integer, primary_key=True),
    Column("subject", Text),
    Column("text_body", Text),
    Column("html_body", Text),
    Column("filled", Integer),  # 1: filled for one row already, used as it is
    **_TEMP,
)
PLAN_TABLES = (PLAN_DOCUMENTS, PLAN_LINES, PLAN_EMAILS)


@dataclass
class Plan:
    """What one batch writes, as rows of the plan tables (dicts keyed by column name)."""

    documents: list[dict[str, Any]]
    lines: list[dict[str, Any]]
    emails: list[dict[str, Any]]


def write_plan(
    session: Session,
    plan: Plan,
    markers: Mapping[str, str],
    values: Mapping[str, Any],
    loaded: Callable[[], None] | None = None,
) -> None:
    """Write the batch's documents, lines, ``invoice_created`` events, audit rows and
    ``proforma_issued`` emails from ``plan``, each table in plan order (ids ascending).

    ``markers`` maps the placeholders the email templates hold (of ``reference``, ``email``,
    ``name``, ``company``, ``docid``) to their text; each is replaced by its document's value
    (HTML-escaped in the HTML part) unless the template is marked ``filled``, and no value of
    a document whose template is filled by the database may hold a placeholder.
    ``values`` holds what is the same for every row: ``currency``, ``issue_date``, ``now``,
    ``template``. ``loaded`` is called once the plan is in its tables, before the statements
    that read it (a few long calls into the database, which run without the GIL).
    """
    postgres = is_postgres(session)
    if postgres:
        # The statements sort the batch by document id, the emails' after their bodies are
        # made (about 1.3 KB a row): with the default 4 MB they were sorted on disk.
        session.execute(text(f"SET LOCAL work_mem = '{SORT_MEMORY}'"))
    for table in PLAN_TABLES:
        session.execute(CreateTable(table))
    bulk_insert(session, PLAN_DOCUMENTS, plan.documents)
    bulk_insert(session, PLAN_LINES, plan.lines)
    bulk_insert(session, PLAN_EMAILS, plan.emails)
    if loaded is not None:
        loaded()
    for statement in _statements(postgres, markers):
        session.execute(statement, dict(values))
    if not postgres:  # PostgreSQL drops them at commit
        for table in PLAN_TABLES:
            session.execute(text(f"DROP TABLE temp.{table.name}"))


def _statements(postgres: bool, markers: Mapping[str, str]) -> list[TextClause]:
    def json(expression: str) -> str:
        return f"CAST({expression} AS json)" if postgres else expression

    def filled(column: str, html: bool) -> str:
        fields = {
            "reference": "d.reference",
            "email": "c.email",
            "name": "c.name",
            "company": "c.company",
            "docid": "CAST(d.id AS TEXT)",
        }
        out = column
        for name, expression in fields.items():
            if name not in markers:
                continue
            value = _html_escaped(expression) if html and name != "docid" else expression
            out = f"replace({out}, '{markers[name]}', {value})"
        return f"CASE WHEN e.filled = 1 THEN {column} ELSE {out} END"

    typed = [
        bindparam("issue_date", type_=DOCUMENTS.c.issue_date.type),
        bindparam("now", type_=UTCDateTime()),
        bindparam("zero", value=Decimal("0.00"), type_=Money()),
        bindparam("quantity", value=Decimal("1"), type_=LINES.c.quantity.type),
    ]
    documents = text(
        "INSERT INTO documents (id, kind, status, reference, customer_id, currency, issue_date,"
        " due_date, subtotal, tax_total, total, amount_paid, credit_applied, refunded_total,"
        " tax_treatment, tax_breakdown, legends, reason, source, language, created_at) "
        "SELECT id, 'proforma', 'unpaid', reference, customer_id, :currency, :issue_date,"
        " due_date, subtotal, tax_total, total, :zero, credit_applied, :zero, tax_treatment, "
        f"{json('tax_breakdown')}, {json('legends')}, '', 'renewal', language, :now "
        "FROM renewal_plan_documents AS d ORDER BY d.id"
    )
    lines = text(
        "INSERT INTO document_lines (document_id, position, service_id, action, description,"
        " quantity, unit_price, amount, tax_rate, period_start, period_end) "
        "SELECT document_id, position, service_id, 'renew', description, :quantity, amount,"
        " amount, tax_rate, period_start, period_end "
        "FROM renewal_plan_lines AS p ORDER BY p.document_id, p.position"
    )
    events = text(
        "INSERT INTO outbox_events (dedupe_key, name, payload, status, attempts,"
        " next_attempt_at, last_error, created_at) "
        "SELECT 'invoice_created:' || CAST(id AS TEXT), 'invoice_created', "
        + json("'{\"document_id\": ' || CAST(id AS TEXT) || '}'")
        + ", 'pending', 0, :now, '', :now FROM renewal_plan_documents AS d ORDER BY d.id"
    )
    audits = text(
        "INSERT INTO audit_events (at, actor, action, entity_type, entity_id, before, after, ip) "
        f"SELECT :now, 'system', action, 'Document', CAST(id AS TEXT), NULL, {json('after')}, '' "
        "FROM (SELECT id, 0 AS k, 'document.create' AS action, created_after AS after "
        "FROM renewal_plan_documents UNION ALL "
        "SELECT id, 1, 'credit.apply', credit_after FROM renewal_plan_documents "
        "WHERE credit_after IS NOT NULL) AS a ORDER BY a.id, a.k"  # a.: not the output column
    )
    emails = text(
        "INSERT INTO outbox_messages (dedupe_key, customer_id, template, to_address, reply_to,"
        " subject, text_body, html_body, headers, message_id, attachments, status, attempts,"
        " next_attempt_at, last_error, created_at) "
        "SELECT 'proforma_issued:' || CAST(d.id AS TEXT), d.customer_id, :template, c.email, '', "
        f"{filled('e.subject', False)}, {filled('e.text_body', False)}, "
        f"{filled('e.html_body', True)}, {json(chr(39) + '{}' + chr(39))}, d.message_id, "
        + json("'[{\"document_id\": ' || CAST(d.id AS TEXT) || '}]'")
        + ", 'pending', 0, :now, '', :now "
        "FROM renewal_plan_documents AS d "
        "JOIN renewal_plan_emails AS e ON e.id = d.email_id "
        "JOIN customers AS c ON c.id = d.customer_id ORDER BY d.id"
    )
    return [
        s.bindparams(*[b for b in typed if f":{b.key}" in s.text])
        for s in (documents, lines, events, audits, emails)
    ]


def _html_escaped(expression: str) -> str:
    """``expression`` escaped as markupsafe escapes text (``&`` first)."""
    out = expression
    for raw, entity in (
        ("&", "&amp;"),
        ("<", "&lt;"),
        (">", "&gt;"),
        ("'", "&#39;"),
        ('"', "&#34;"),
    ):
        quoted = raw.replace("'", "''")
        out = f"replace({out}, '{quoted}', '{entity}')"
    return out
