from __future__ import annotations

from collections.abc import Callable
from email.message import EmailMessage

import pytest

from facturo_tickets.decision import (
    AutoReply,
    CustomerMatch,
    Drop,
    GuestTicket,
    Join,
    Open,
    TicketMatch,
    decide_action,
)
from facturo_tickets.intake import ParsedMessage

Factory = Callable[..., EmailMessage]  # the new_mail fixture
Parse = Callable[[EmailMessage], ParsedMessage]  # the parse fixture

JUAN = CustomerMatch(id=7)
ANA = CustomerMatch(id=8)
JUANS_TICKET = TicketMatch(number=1234, customer_id=7)


@pytest.fixture
def reply(new_mail: Factory, parse: Parse) -> ParsedMessage:
    """Juan answers ticket T-1234, writing to the billing department."""
    message: EmailMessage = new_mail(
        subject="Re: [#T-1234] Problema con el pago", to="facturacion@facturo.es"
    )
    message.set_content("Sigue fallando.")
    parsed: ParsedMessage = parse(message)
    assert parsed.reference == 1234 and parsed.department == "facturacion@facturo.es"
    return parsed


@pytest.fixture
def new_question(new_mail: Factory, parse: Parse) -> ParsedMessage:
    message: EmailMessage = new_mail(subject="¿Cómo cambio mi NIF?")
    message.set_content("Hola, ¿cómo cambio el NIF de mis facturas?")
    parsed: ParsedMessage = parse(message)
    assert parsed.reference is None and parsed.department == "soporte@facturo.es"
    return parsed


def test_reply_from_the_ticket_customer_joins(reply: ParsedMessage) -> None:
    assert decide_action(reply, JUANS_TICKET, JUAN, guest_tickets=False) == Join(1234)


def test_reply_from_another_customer_opens_a_new_ticket(reply: ParsedMessage) -> None:
    action = decide_action(reply, JUANS_TICKET, ANA, guest_tickets=False)
    assert action == Open("facturacion@facturo.es")


@pytest.mark.parametrize(
    ("guest_tickets", "expected"),
    [(False, AutoReply()), (True, GuestTicket("facturacion@facturo.es"))],
)
def test_reply_from_a_stranger_does_not_join(
    reply: ParsedMessage, guest_tickets: bool, expected: object
) -> None:
    assert decide_action(reply, JUANS_TICKET, None, guest_tickets=guest_tickets) == expected


def test_reference_to_a_missing_ticket_is_a_new_question(reply: ParsedMessage) -> None:
    assert decide_action(reply, None, JUAN, guest_tickets=False) == Open("facturacion@facturo.es")


def test_new_question_from_a_customer_opens_in_the_department(
    new_question: ParsedMessage,
) -> None:
    assert decide_action(new_question, None, JUAN, guest_tickets=True) == Open("soporte@facturo.es")


def test_unknown_sender_gets_an_auto_reply_or_a_guest_ticket(
    new_question: ParsedMessage,
) -> None:
    assert decide_action(new_question, None, None, guest_tickets=False) == AutoReply()
    assert decide_action(new_question, None, None, guest_tickets=True) == GuestTicket(
        "soporte@facturo.es"
    )


def test_guest_reply_joins_its_guest_ticket(new_mail: Factory, parse: Parse) -> None:
    message: EmailMessage = new_mail(
        subject="Re: Su consulta",
        sender="Invitado <Invitado@Correo.es>",
        In_Reply_To="<ticket-T-50-r1@facturo.es>",
    )
    message.set_content("Gracias")
    parsed: ParsedMessage = parse(message)
    guest_ticket = TicketMatch(number=50, customer_id=None, guest_email="invitado@correo.es")
    assert decide_action(parsed, guest_ticket, None, guest_tickets=True) == Join(50)
    other_guest = TicketMatch(number=50, customer_id=None, guest_email="otro@correo.es")
    assert decide_action(parsed, other_guest, None, guest_tickets=True) == GuestTicket(
        "soporte@facturo.es"
    )


def test_automatic_mail_is_dropped_even_from_the_ticket_customer(
    new_mail: Factory, parse: Parse
) -> None:
    message: EmailMessage = new_mail(
        subject="Fuera de la oficina: [#T-1234] Problema", Auto_Submitted="auto-replied"
    )
    message.set_content("Vuelvo el lunes")
    parsed: ParsedMessage = parse(message)
    assert decide_action(parsed, JUANS_TICKET, JUAN, guest_tickets=True) == Drop("auto_submitted")


def test_message_without_sender_is_dropped(parse: Parse) -> None:
    message = EmailMessage()
    message["To"] = "soporte@facturo.es"
    message.set_content("¿?")
    assert decide_action(parse(message), None, None, guest_tickets=True) == Drop("no_sender")


def test_actions_work_with_match_statements(reply: ParsedMessage) -> None:
    match decide_action(reply, JUANS_TICKET, JUAN, guest_tickets=False):
        case Join(ticket=number):
            assert number == 1234
        case other:
            pytest.fail(f"expected Join, got {other}")
