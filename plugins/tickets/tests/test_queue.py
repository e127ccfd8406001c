"""The staff queue: priority first, then how long the customer has waited; department roles;
merge; web tickets take the department's default priority, email tickets "low"."""

from __future__ import annotations

from facturo.plugin import Customer, StaffUser
from facturo.testing import Clock
from facturo_tickets.models import Department, Ticket
from facturo_tickets.service import (
    TicketError,
    customer_reply,
    merge,
    open_ticket,
    queue,
    set_priority,
    staff_reply,
    thread,
)

from .conftest import Desk


def _open(desk: Desk, department: int, subject: str, source: str = "web", customer=None) -> int:
    with desk.ctx.db.transaction() as session:
        ticket = open_ticket(
            session,
            desk.ctx,
            department=session.get(Department, department),
            subject=subject,
            body="Hola",
            source=source,
            customer=session.get(Customer, (customer or desk.ana).id),
        )
        return ticket.id


def _queue(desk: Desk, staff: StaffUser, **filters) -> list[str]:
    with desk.ctx.db.read_session() as session:
        return [t.subject for t in queue(session, session.get(StaffUser, staff.id), **filters)]


def test_priority_then_waiting_time_orders_the_queue(desk: Desk, clock: Clock) -> None:
    old_email = _open(desk, desk.support, "old email", source="email")  # low
    clock.advance(hours=1)
    medium_old = _open(desk, desk.support, "medium old")
    clock.advance(hours=1)
    urgent = _open(desk, desk.licences, "urgent by default")  # department default urgent
    clock.advance(hours=1)
    medium_new = _open(desk, desk.support, "medium new")
    clock.advance(hours=1)
    high = _open(desk, desk.billing, "billing high")
    with desk.ctx.db.read_session() as session:
        priorities = {t.id: t.priority for t in session.query(Ticket)}
    assert priorities[old_email] == "low"
    assert priorities[medium_old] == priorities[medium_new] == "medium"
    assert priorities[urgent] == "urgent" and priorities[high] == "high"

    assert _queue(desk, desk.admin) == [
        "urgent by default",
        "billing high",
        "medium old",
        "medium new",
        "old email",
    ]
    # Raising the email ticket's priority moves it up; answering "medium old" sends it behind
    # tickets still waiting for us within its priority.
    with desk.ctx.db.transaction() as session:
        set_priority(session, desk.ctx, session.get(Ticket, old_email), "high", "test")
        staff = session.get(StaffUser, desk.agent.id)
        staff_reply(session, desk.ctx, session.get(Ticket, medium_old), staff, "Mirando")
    assert _queue(desk, desk.admin) == [
        "urgent by default",
        "old email",  # waited longer than "billing high"
        "billing high",
        "medium new",
        "medium old",
    ]
    # The customer answers: waiting counts from this new message.
    clock.advance(hours=1)
    with desk.ctx.db.transaction() as session:
        customer_reply(session, desk.ctx, session.get(Ticket, medium_old), "¿Alguna novedad?")
    assert _queue(desk, desk.admin)[3:] == ["medium new", "medium old"]
    assert _queue(desk, desk.admin, status="customer-reply") == ["medium old"]


def test_departments_are_visible_only_to_their_roles(desk: Desk) -> None:
    _open(desk, desk.support, "support only")
    _open(desk, desk.billing, "billing only")
    _open(desk, desk.licences, "shared")
    assert set(_queue(desk, desk.agent)) == {"support only", "shared"}
    assert set(_queue(desk, desk.accountant)) == {"billing only", "shared"}
    assert set(_queue(desk, desk.admin)) == {"support only", "billing only", "shared"}
    assert _queue(desk, desk.admin, department_id=desk.billing) == ["billing only"]


def test_merge_moves_messages_and_closes_the_duplicate(desk: Desk) -> None:
    first = _open(desk, desk.support, "No arranca")
    second = _open(desk, desk.support, "No arranca (otra vez)")
    other = _open(desk, desk.support, "De otra persona", customer=desk.eve)
    with desk.ctx.db.transaction() as session:
        target, duplicate = session.get(Ticket, first), session.get(Ticket, second)
        try:
            merge(session, desk.ctx, duplicate, session.get(Ticket, other), "test")
        except TicketError as exc:
            assert "same customer" in str(exc)
        else:
            raise AssertionError("merging tickets of two customers must fail")
        merge(session, desk.ctx, duplicate, target, "test")
    with desk.ctx.db.read_session() as session:
        target, duplicate = session.get(Ticket, first), session.get(Ticket, second)
        assert duplicate.status == "closed" and duplicate.merged_into_id == target.id
        assert len(thread(session, target, staff_view=True)) == 2
        assert thread(session, duplicate, staff_view=True) == []
    assert _queue(desk, desk.agent).count("No arranca (otra vez)") == 0


def test_related_service_must_be_the_customers_own(desk: Desk) -> None:
    from sqlalchemy import select

    from facturo.plugin import Product, place_order
    from facturo.testing import make_catalog

    make_catalog(desk.ctx)
    with desk.ctx.db.transaction() as session:
        product = session.scalar(select(Product).where(Product.code == "licence"))
        services, _ = place_order(
            session, desk.ctx, session.get(Customer, desk.eve.id), product, "annual", []
        )
        eves = services[0].id
    with desk.ctx.db.transaction() as session:
        try:
            open_ticket(
                session,
                desk.ctx,
                department=session.get(Department, desk.support),
                subject="x",
                body="y",
                source="web",
                customer=session.get(Customer, desk.ana.id),
                service_id=eves,
            )
        except TicketError as exc:
            assert exc.field == "service_id"
        else:
            raise AssertionError("another customer's service was accepted")


def test_staff_dashboard_counts_waiting_tickets_by_priority(desk: Desk) -> None:
    _open(desk, desk.support, "a")
    _open(desk, desk.support, "b", source="email")
    _open(desk, desk.billing, "c")
    with desk.ctx.db.read_session() as session:
        agent = session.get(StaffUser, desk.agent.id)
        [panel] = [
            p
            for ps in desk.ctx.hook.admin_dashboard_panels(
                ctx=desk.ctx, session=session, staff=agent, language="es"
            )
            for p in ps
        ]
        [english] = [
            p
            for ps in desk.ctx.hook.admin_dashboard_panels(
                ctx=desk.ctx, session=session, staff=agent, language="en"
            )
            for p in ps
        ]
    assert "<li>medium: 1</li>" in english.html and "Ticket queue" in english.html
    assert "<li>media: 1</li>" in panel.html and "<li>baja: 1</li>" in panel.html
    assert "<li>alta: 0</li>" in panel.html  # the billing ticket is not the agent's
