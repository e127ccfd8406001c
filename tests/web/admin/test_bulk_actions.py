"""Bulk actions on the staff documents list: reminders to the ticked unpaid proformas (once a
day), CSV of the ticked rows, and a clear error that changes nothing."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

from sqlalchemy import func, select
from starlette.applications import Starlette

from facturo.context import Context
from facturo.models import AuditEvent, Document, OutboxMessage
from tests.web.conftest import CSRF, make_customer, new_proforma, new_staff, staff_client


def _reminders(ctx: Context) -> list[str]:
    with ctx.db.read_session() as session:
        return list(
            session.scalars(
                select(OutboxMessage.dedupe_key)
                .where(OutboxMessage.dedupe_key.like("manual-reminder:%"))
                .order_by(OutboxMessage.id)
            )
        )


def test_remind_selected_sends_once_a_day_and_skips_paid(
    make_context: Callable[..., Context], in_process: Callable[[Context], Starlette]
) -> None:
    ctx = make_context()
    customer = make_customer(ctx)
    first, second = new_proforma(ctx, customer), new_proforma(ctx, customer, "20.00")
    with ctx.db.transaction() as session:
        paid = session.get(Document, second.id)
        assert paid is not None
        paid.status = "cancelled"
    billing = new_staff(ctx, "billing")
    form = {"action": "remind", "ids": [str(first.id), str(second.id)], "csrf_token": CSRF}
    with staff_client(ctx, in_process(ctx), billing) as client:
        assert client.post("/admin/documents/bulk", data=form).status_code == 303
        first_page = client.get("/admin/documents").text
        assert client.post("/admin/documents/bulk", data=form).status_code == 303
        second_page = client.get("/admin/documents").text
    assert _reminders(ctx) == [f"manual-reminder:{first.id}:{ctx.today().isoformat()}"]
    assert "Reminders queued: 1." in first_page and "Skipped 1:" in first_page
    assert "Reminders queued: 0." in second_page and "Skipped 2:" in second_page
    with ctx.db.read_session() as session:
        audited = session.scalar(
            select(func.count()).where(AuditEvent.action == "document.reminder")
        )
    assert audited == 1


def test_export_selected_is_only_the_ticked_rows(
    make_context: Callable[..., Context], in_process: Callable[[Context], Starlette]
) -> None:
    ctx = make_context()
    customer = make_customer(ctx)
    wanted, other = new_proforma(ctx, customer, "12.10"), new_proforma(ctx, customer)
    billing = new_staff(ctx, "billing")
    with staff_client(ctx, in_process(ctx), billing) as client:
        answer = client.post(
            "/admin/documents/bulk",
            data={"action": "export", "ids": [str(wanted.id)], "csrf_token": CSRF},
        )
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(answer.text)))
    assert rows[0][0] == "number"
    assert [row[0] for row in rows[1:]] == [wanted.display_number]
    assert other.display_number not in answer.text
    assert rows[1][7] == str(wanted.total)


def test_bulk_without_selection_or_action_rerenders_and_changes_nothing(
    make_context: Callable[..., Context], in_process: Callable[[Context], Starlette]
) -> None:
    ctx = make_context()
    document = new_proforma(ctx, make_customer(ctx))
    billing, support = new_staff(ctx, "billing"), new_staff(ctx, "support")
    with staff_client(ctx, in_process(ctx), billing) as client:
        nothing = client.post(
            "/admin/documents/bulk", data={"action": "remind", "csrf_token": CSRF}
        )
        unknown = client.post(
            "/admin/documents/bulk",
            data={"action": "delete", "ids": [str(document.id)], "csrf_token": CSRF},
        )
        forged = client.post(
            "/admin/documents/bulk", data={"action": "remind", "ids": [str(document.id)]}
        )
    assert nothing.status_code == 400 and "Tick at least one document." in nothing.text
    assert unknown.status_code == 400 and "Choose an action." in unknown.text
    assert forged.status_code == 403
    with staff_client(ctx, in_process(ctx), support) as client:
        refused = client.post(
            "/admin/documents/bulk",
            data={"action": "remind", "ids": [str(document.id)], "csrf_token": CSRF},
        )
    assert refused.status_code == 403
    assert _reminders(ctx) == []
