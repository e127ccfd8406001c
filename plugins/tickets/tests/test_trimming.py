from __future__ import annotations

from facturo_tickets.trimming import has_forward_marker, trim_reply


def test_gmail_attribution_wrapped_over_two_lines_and_quote_are_removed() -> None:
    text = (
        "Gracias, ya funciona.\n"
        "\n"
        "El mar, 3 sept 2024 a las 10:15, Soporte Facturo (<soporte@facturo.es>)\n"
        "escribió:\n"
        "\n"
        "> Hola Juan,\n"
        "> prueba ahora.\n"
    )
    assert trim_reply(text) == "Gracias, ya funciona."


def test_inline_answers_between_quotes_are_kept() -> None:
    text = (
        "On Tue, Sep 3, 2024 at 10:15 AM Soporte <soporte@facturo.es> wrote:\n"
        "> ¿Qué navegador usa?\n"
        "Firefox 129.\n"
        "> ¿Y el sistema?\n"
        "Debian.\n"
    )
    assert trim_reply(text) == "Firefox 129.\nDebian."


def test_attribution_without_quote_marks_ends_the_message() -> None:
    text = "Adjunto captura.\n\nOn Tue, 3 Sep 2024, Soporte wrote:\nHola Juan, ¿puede enviar…\n"
    assert trim_reply(text) == "Adjunto captura."


def test_outlook_original_message_line_ends_the_message() -> None:
    text = (
        "It still fails.\n\n-----Original Message-----\nFrom: Soporte\nSent: Tuesday\n\nHi John\n"
    )
    assert trim_reply(text) == "It still fails."


def test_outlook_spanish_header_block_after_underscores_ends_the_message() -> None:
    text = (
        "Sigue igual.\n\n"
        "________________________________\n"
        "De: Soporte Facturo <soporte@facturo.es>\n"
        "Enviado el: martes, 3 de septiembre de 2024 10:15\n"
        "Para: Juan\n"
        "Asunto: RE: [#T-1234] Problema\n\nHola Juan\n"
    )
    assert trim_reply(text) == "Sigue igual."


def test_a_from_line_alone_is_not_a_header_block() -> None:
    text = "From: the invoice page\nthe button does nothing.\n"
    assert trim_reply(text) == "From: the invoice page\nthe button does nothing."


def test_signature_after_dash_dash_space_is_removed() -> None:
    text = "No puedo descargar la factura.\n\n-- \nJuan Pérez\nGerente, Tienda SL\n"
    assert trim_reply(text) == "No puedo descargar la factura."


def test_mobile_signatures_are_removed() -> None:
    assert trim_reply("Ok, gracias\n\nEnviado desde mi iPhone\n") == "Ok, gracias"
    assert trim_reply("Thanks!\n\nSent from my Galaxy\n") == "Thanks!"
    assert trim_reply("Vale\n\nObtener Outlook para Android\n") == "Vale"


def test_sentence_starting_like_a_signature_is_kept() -> None:
    text = "Sent from the invoice page, the payment failed twice."
    assert trim_reply(text) == text


def test_forward_marker_is_detected_only_unquoted() -> None:
    assert has_forward_marker("Mira:\n\n---------- Forwarded message ---------\nFrom: x\n")
    assert has_forward_marker("Mira:\n---------- Mensaje reenviado ----------\n")
    assert not has_forward_marker("> ---------- Forwarded message ---------\n")
