from __future__ import annotations

from collections.abc import Callable
from email.message import EmailMessage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText

import pytest

from facturo_tickets.loops import LOOP_HEADER, LoopReason, is_automatic

Factory = Callable[..., EmailMessage]  # the new_mail fixture


@pytest.fixture
def customer_mail(new_mail: Factory) -> EmailMessage:
    message: EmailMessage = new_mail()
    message.set_content("¿Me ayudan con la factura?")
    return message


def test_a_customer_message_is_not_automatic(customer_mail: EmailMessage) -> None:
    assert is_automatic(customer_mail, ["facturo.es"]) is None


def test_auto_submitted_no_is_a_person(customer_mail: EmailMessage) -> None:
    customer_mail["Auto-Submitted"] = "no"
    assert is_automatic(customer_mail, ["facturo.es"]) is None


def test_out_of_office_auto_reply(new_mail: Factory) -> None:
    message = new_mail(subject="Respuesta automática: Su factura", Auto_Submitted="auto-replied")
    message["X-Auto-Response-Suppress"] = "All"
    message.set_content("Estaré fuera de la oficina hasta el lunes.")
    assert is_automatic(message, ["facturo.es"]) is LoopReason.AUTO_SUBMITTED


def test_auto_submitted_with_parameters(customer_mail: EmailMessage) -> None:
    customer_mail["Auto-Submitted"] = "Auto-Generated; owner-email=x@cliente.es"
    assert is_automatic(customer_mail) is LoopReason.AUTO_SUBMITTED


@pytest.mark.parametrize("value", ["bulk", "Junk", "list", "auto_reply"])
def test_bulk_precedence(customer_mail: EmailMessage, value: str) -> None:
    customer_mail["Precedence"] = value
    assert is_automatic(customer_mail) is LoopReason.PRECEDENCE


def test_normal_precedence_is_a_person(customer_mail: EmailMessage) -> None:
    customer_mail["Precedence"] = "first-class"
    assert is_automatic(customer_mail) is None


@pytest.mark.parametrize("header", ["X-Autoreply", "X-Autorespond"])
def test_autoresponder_headers(customer_mail: EmailMessage, header: str) -> None:
    customer_mail[header] = "yes"
    assert is_automatic(customer_mail) is LoopReason.AUTORESPONDER


def test_mailing_list_mail(new_mail: Factory) -> None:
    message = new_mail(
        sender="Boletín Tienda <news@tienda.es>",
        List_Unsubscribe="<mailto:baja@tienda.es>",
    )
    message.set_content("Ofertas de septiembre")
    assert is_automatic(message) is LoopReason.MAILING_LIST
    del message["List-Unsubscribe"]
    message["List-Id"] = "Clientes <clientes.tienda.es>"
    assert is_automatic(message) is LoopReason.MAILING_LIST


def test_null_return_path(customer_mail: EmailMessage) -> None:
    customer_mail["Return-Path"] = "<>"
    assert is_automatic(customer_mail) is LoopReason.NULL_RETURN_PATH


def test_normal_return_path_is_a_person(customer_mail: EmailMessage) -> None:
    customer_mail["Return-Path"] = "<juan@cliente.es>"
    assert is_automatic(customer_mail) is None


def test_bounce_reasons_in_order(bounce: MIMEMultipart) -> None:
    assert is_automatic(bounce, ["facturo.es"]) is LoopReason.AUTO_SUBMITTED
    del bounce["Auto-Submitted"]
    assert is_automatic(bounce, ["facturo.es"]) is LoopReason.DAEMON_SENDER
    bounce.replace_header("From", "Postmaster <POSTMASTER@cliente.es>")
    assert is_automatic(bounce, ["facturo.es"]) is LoopReason.DAEMON_SENDER
    bounce.replace_header("From", "mail-relay@cliente.es")
    assert is_automatic(bounce, ["facturo.es"]) is LoopReason.DELIVERY_REPORT


def test_delivery_status_inside_multipart_mixed(bounce: MIMEMultipart) -> None:
    mixed = MIMEMultipart("mixed")
    mixed["From"] = "relay@cliente.es"
    for part in bounce.get_payload():
        mixed.attach(part)
    assert is_automatic(mixed) is LoopReason.DELIVERY_REPORT


def test_bounce_forwarded_by_a_customer_is_not_automatic(
    new_mail: Factory, bounce: MIMEMultipart
) -> None:
    message = new_mail(subject="Fwd: no me llegan los correos")
    message.set_content("¿Por qué rebota esto?")
    message.add_attachment(bounce)
    assert is_automatic(message, ["facturo.es"]) is None


def test_our_own_message(new_mail: Factory) -> None:
    message = new_mail(sender="Soporte Facturo <soporte@facturo.es>", to="juan@cliente.es")
    message.set_content("Hemos respondido a su ticket")
    assert is_automatic(message, ["facturo.es"]) is LoopReason.OWN_DOMAIN
    assert is_automatic(message, ["FACTURO.ES"]) is LoopReason.OWN_DOMAIN
    assert is_automatic(message, ["otro.es"]) is None


def test_subdomain_of_ours(new_mail: Factory) -> None:
    message = new_mail(sender="avisos@mail.facturo.es")
    message.set_content("x")
    assert is_automatic(message, ["facturo.es"]) is LoopReason.OWN_DOMAIN
    assert is_automatic(message, ["mail.facturo.es.evil.example"]) is None


def test_our_message_id_relayed_from_elsewhere(new_mail: Factory) -> None:
    message = new_mail(sender="reenvio@cliente.es", Message_ID="<ticket-T-12-r3@facturo.es>")
    message.set_content("x")
    assert is_automatic(message, ["facturo.es"]) is LoopReason.OWN_DOMAIN


def test_our_loop_header_relayed_by_a_forwarding_rule(customer_mail: EmailMessage) -> None:
    customer_mail[LOOP_HEADER] = "facturo.es"
    assert is_automatic(customer_mail, ["facturo.es"]) is LoopReason.OWN_LOOP_HEADER


def test_reason_is_truthy_and_none_is_not(customer_mail: EmailMessage) -> None:
    plain = MIMEText("x")
    plain["From"] = "MAILER-DAEMON@mx.cliente.es"
    reason = is_automatic(plain)
    assert reason and reason == "daemon_sender"
    assert not is_automatic(customer_mail)
