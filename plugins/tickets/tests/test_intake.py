from __future__ import annotations

from collections.abc import Callable
from email.message import EmailMessage, Message
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.policy import SMTP

from facturo_tickets.attachments import RejectReason, check_attachments
from facturo_tickets.intake import ParsedMessage, clean_subject, parse_message, sanitize_filename
from facturo_tickets.loops import LoopReason

Factory = Callable[..., EmailMessage]  # the new_mail fixture
Parse = Callable[[EmailMessage], ParsedMessage]  # the parse fixture

PDF = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(32)
SPANISH = (
    "Buenos días:\n\n¿Por qué no puedo pagar la factura? El año pasado funcionó.\n"
    "Un saludo, Íñigo Muñoz"
)


def test_headers_addresses_and_department(new_mail: Factory, parse: Parse) -> None:
    message = new_mail(
        sender="=?utf-8?q?=C3=8D=C3=B1igo_Mu=C3=B1oz?= <Inigo@Cliente.ES>",
        to="Facturación <facturacion@facturo.es>, otra@cliente.es",
        Cc="Socio <socio@cliente.es>",
    )
    message.set_content("Hola")
    parsed = parse(message)
    assert parsed.sender == "inigo@cliente.es"
    assert parsed.sender_name == "Íñigo Muñoz"
    assert parsed.to == ("facturacion@facturo.es", "otra@cliente.es")
    assert parsed.cc == ("socio@cliente.es",)
    assert parsed.department == "facturacion@facturo.es"
    assert parsed.message_id == "<CAF1234abcd@mail.gmail.com>"
    assert parsed.date is not None and parsed.date.year == 2024
    assert parsed.loop is None and not parsed.is_automatic


def test_delivered_to_decides_the_department_when_sent_by_bcc(
    new_mail: Factory, parse: Parse
) -> None:
    message = new_mail(to="Varios <lista@cliente.es>", Delivered_To="soporte@facturo.es")
    message.set_content("Hola")
    parsed = parse(message)
    assert parsed.delivered_to == ("soporte@facturo.es",)
    assert parsed.department == "soporte@facturo.es"


def test_no_department_address_matched(new_mail: Factory, parse: Parse) -> None:
    message = new_mail(to="info@facturo.es")
    message.set_content("Hola")
    assert parse(message).department is None


def test_quoted_printable_spanish_body(new_mail: Factory, parse: Parse) -> None:
    message = new_mail(subject="=?utf-8?q?=C2=BFFactura_duplicada=3F?=")
    message.set_content(SPANISH, cte="quoted-printable")
    raw = message.as_bytes()
    assert b"Content-Transfer-Encoding: quoted-printable" in raw
    assert b"=C3=B1" in raw  # the ñ travels encoded
    parsed = parse(message)
    assert parsed.body == SPANISH
    assert parsed.subject == "¿Factura duplicada?"


def test_latin1_body_is_decoded_with_its_charset(new_mail: Factory, parse: Parse) -> None:
    message = MIMEText("Año nuevo, ¿factura nueva?", "plain", "iso-8859-1")
    for name in ("From", "To", "Subject"):
        message[name] = str(new_mail()[name])
    parsed = parse_message(message.as_bytes(), ["facturo.es"], ["soporte@facturo.es"])
    assert parsed.body == "Año nuevo, ¿factura nueva?"


def test_multipart_alternative_prefers_the_plain_text(new_mail: Factory, parse: Parse) -> None:
    message = new_mail()
    message.set_content("Texto plano: ¿me ayudan?", cte="quoted-printable")
    message.add_alternative("<p>Texto <b>HTML</b></p>", subtype="html")
    parsed = parse(message)
    assert parsed.body == "Texto plano: ¿me ayudan?"
    assert parsed.attachments == ()  # the HTML twin is not a file


def test_html_only_message_is_converted_to_text(new_mail: Factory, parse: Parse) -> None:
    message = new_mail()
    message.set_content(
        "<html><head><style>.x{color:red}</style><script>track()</script></head>"
        "<body><p>Hola,</p><p>No me llega la factura de <b>agosto</b>.</p></body></html>",
        subtype="html",
    )
    parsed = parse(message)
    assert parsed.body == "Hola,\n\nNo me llega la factura de agosto."
    assert "track" not in parsed.body and "color" not in parsed.body


def test_base64_attachments_with_rfc2231_filenames(new_mail: Factory, parse: Parse) -> None:
    message = new_mail()
    message.set_content("Adjunto la factura y una captura.")
    message.add_attachment(
        PDF, maintype="application", subtype="pdf", filename="Factura año 2024.pdf"
    )
    message.add_attachment(PNG, maintype="image", subtype="png", filename="captura pantalla ñ.png")
    raw = message.as_bytes()
    assert b"filename*=utf-8''Factura%20a%C3%B1o%202024.pdf" in raw
    assert b"Content-Transfer-Encoding: base64" in raw

    parsed = parse(message)
    assert [(a.filename, a.content_type, a.content) for a in parsed.attachments] == [
        ("Factura año 2024.pdf", "application/pdf", PDF),
        ("captura pantalla ñ.png", "image/png", PNG),
    ]
    assert parsed.body == "Adjunto la factura y una captura."

    check = check_attachments(parsed.attachments)
    assert [a.content_type for a in check.accepted] == ["application/pdf", "image/png"]
    assert check.rejected == ()


def test_rfc2047_encoded_filename_as_outlook_sends_it(parse: Parse) -> None:
    message = MIMEMultipart()
    message["From"] = "juan@cliente.es"
    message["To"] = "soporte@facturo.es"
    message["Subject"] = "Factura"
    message.attach(MIMEText("Ver adjunto", "plain", "utf-8"))
    part = MIMEApplication(PDF, "pdf")
    part.add_header(
        "Content-Disposition", "attachment", filename="=?utf-8?b?UmVjaWJvIGHDsW8ucGRm?="
    )
    message.attach(part)
    parsed = parse_message(message.as_bytes(), ["facturo.es"], [])
    assert [a.filename for a in parsed.attachments] == ["Recibo año.pdf"]
    assert parsed.attachments[0].content == PDF


def test_inline_image_in_html_body_is_kept_as_attachment(new_mail: Factory, parse: Parse) -> None:
    message = new_mail()
    message.set_content("Mire la captura")
    message.add_alternative('<p>Mire la captura</p><img src="cid:img1">', subtype="html")
    html_part = message.get_body(preferencelist=("html",))
    assert isinstance(html_part, EmailMessage)
    html_part.add_related(PNG, maintype="image", subtype="png", cid="<img1>")
    parsed = parse(message)
    assert parsed.body == "Mire la captura"
    assert [(a.filename, a.content) for a in parsed.attachments] == [("attachment-1.png", PNG)]


def test_gmail_reply_is_trimmed_and_joined_by_in_reply_to(new_mail: Factory, parse: Parse) -> None:
    message = new_mail(
        subject="Re: Problema con el pago",
        In_Reply_To="<ticket-T-1234-r8@facturo.es>",
        References="<ticket-T-1234-r1@facturo.es> <ticket-T-1234-r8@facturo.es>",
    )
    message.set_content(
        "Ya he probado con otra tarjeta y sigue fallando.\n"
        "\n"
        "El mar, 3 sept 2024 a las 10:15, Soporte Facturo (<soporte@facturo.es>)\n"
        "escribió:\n"
        "\n"
        "> Hola Juan, ¿puede probar con otra tarjeta?\n"
        ">\n"
        "> --\n"
        "> Soporte Facturo\n",
        cte="quoted-printable",
    )
    message.add_alternative(
        '<div dir="ltr">Ya he probado con otra tarjeta y sigue fallando.</div><br>'
        '<div class="gmail_quote"><div class="gmail_attr">El mar, 3 sept 2024 a las 10:15, '
        "Soporte Facturo (&lt;soporte@facturo.es&gt;) escribió:<br></div>"
        '<blockquote class="gmail_quote">Hola Juan, ¿puede probar con otra tarjeta?</blockquote>'
        "</div>",
        subtype="html",
    )
    parsed = parse(message)
    assert parsed.reference == 1234
    assert parsed.subject == "Problema con el pago"
    assert not parsed.is_forward
    assert "¿puede probar" in parsed.body
    assert parsed.trimmed_body == "Ya he probado con otra tarjeta y sigue fallando."


def test_gmail_html_only_reply_is_trimmed_through_its_blockquote(
    new_mail: Factory, parse: Parse
) -> None:
    message = new_mail(subject="Re: [#T-1234] Problema con el pago")
    message.set_content(
        "<div>Sí, gracias.</div><div class=gmail_quote><div class=gmail_attr>"
        "On Tue, Sep 3, 2024 at 10:15 AM Soporte &lt;soporte@facturo.es&gt; wrote:<br></div>"
        "<blockquote>¿Se ha resuelto?</blockquote></div>",
        subtype="html",
    )
    parsed = parse(message)
    assert parsed.trimmed_body == "Sí, gracias."


def test_outlook_reply_is_trimmed_and_joined_by_subject_tag(
    new_mail: Factory, parse: Parse
) -> None:
    message = new_mail(
        subject="RE: [#T-1234] Problema con el pago",
        sender='"Pérez, Juan" <juan.perez@cliente.es>',
        Thread_Topic="[#T-1234] Problema con el pago",
        In_Reply_To="<ticket-T-99-r1@facturo.es>",
    )
    message.set_content(
        "Sigue sin funcionar el pago con tarjeta.\r\n"
        "\r\n"
        "Saludos,\r\n"
        "Juan Pérez\r\n"
        "\r\n"
        "________________________________\r\n"
        "De: Soporte Facturo <soporte@facturo.es>\r\n"
        "Enviado: martes, 3 de septiembre de 2024 10:15\r\n"
        "Para: Pérez, Juan <juan.perez@cliente.es>\r\n"
        "Asunto: [#T-1234] Problema con el pago\r\n"
        "\r\n"
        "Hola Juan, ¿puede probar de nuevo?\r\n",
        cte="quoted-printable",
    )
    parsed = parse(message)
    assert parsed.sender_name == "Pérez, Juan"
    assert parsed.reference == 1234  # the subject tag wins over In-Reply-To
    assert parsed.subject == "Problema con el pago"
    assert parsed.trimmed_body == "Sigue sin funcionar el pago con tarjeta.\n\nSaludos,\nJuan Pérez"


def test_outlook_english_original_message_reply(new_mail: Factory, parse: Parse) -> None:
    message = new_mail(subject="RE: Invoice")
    message.set_content(
        "Please resend it.\n\n-----Original Message-----\nFrom: Facturo Support "
        "<soporte@facturo.es>\nSent: Tuesday, September 3, 2024 10:15 AM\nTo: John\n"
        "Subject: Invoice\n\nHere it is.\n"
    )
    assert parse(message).trimmed_body == "Please resend it."


def test_forwarded_message_keeps_the_forwarded_content(new_mail: Factory, parse: Parse) -> None:
    message = new_mail(subject="Fwd: Recibo devuelto")
    message.set_content(
        "Os reenvío lo que me dice el banco.\n"
        "\n"
        "---------- Forwarded message ---------\n"
        "De: Banco <avisos@banco.es>\n"
        "Date: lun, 2 sept 2024 a las 9:00\n"
        "Subject: Recibo devuelto\n"
        "To: <juan@cliente.es>\n"
        "\n"
        "El recibo de la factura 2024-0042 ha sido devuelto.\n",
        cte="quoted-printable",
    )
    parsed = parse(message)
    assert parsed.is_forward
    assert parsed.subject == "Recibo devuelto"
    assert parsed.reference is None
    assert parsed.trimmed_body.startswith("Os reenvío lo que me dice el banco.")
    assert parsed.trimmed_body.endswith("El recibo de la factura 2024-0042 ha sido devuelto.")


def test_forward_marker_without_prefix_still_counts_as_forward(
    new_mail: Factory, parse: Parse
) -> None:
    message = new_mail(subject="Mira esto")
    message.set_content("Mira:\n\nBegin forwarded message:\n\nFrom: Banco\nDate: hoy\n\nDevuelto\n")
    parsed = parse(message)
    assert parsed.is_forward
    assert parsed.trimmed_body.endswith("Devuelto")


def test_attached_message_is_kept_whole(new_mail: Factory, parse: Parse) -> None:
    inner = new_mail(subject="Recibo devuelto", sender="avisos@banco.es")
    inner.set_content("El recibo ha sido devuelto.")
    message = new_mail(subject="Fwd: Recibo devuelto")
    message.set_content("Os lo reenvío adjunto.")
    message.add_attachment(inner)
    parsed = parse(message)
    assert parsed.trimmed_body == "Os lo reenvío adjunto."
    assert len(parsed.attachments) == 1
    attached = parsed.attachments[0]
    assert attached.content_type == "message/rfc822"
    assert attached.filename == "attachment-1.eml"
    assert b"El recibo ha sido devuelto." in attached.content
    rejected = check_attachments(parsed.attachments).rejected
    assert [r.reason for r in rejected] == [RejectReason.TYPE_NOT_ALLOWED]


def test_own_notification_is_flagged_as_a_loop(new_mail: Factory, parse: Parse) -> None:
    message = new_mail(sender="Soporte <soporte@facturo.es>", to="juan@cliente.es")
    message.set_content("Hemos respondido a su ticket")
    assert parse(message).loop is LoopReason.OWN_DOMAIN


def test_bounce_is_flagged_and_has_a_body(bounce: Message) -> None:
    parsed = parse_message(bounce.as_bytes(), ["facturo.es"], ["soporte@facturo.es"])
    assert parsed.loop is LoopReason.AUTO_SUBMITTED
    assert parsed.body.startswith("Address not found: cliente@nowhere.example")
    assert parsed.attachments == ()  # the original message is not a customer's file


def test_clean_subject_prefixes() -> None:
    assert clean_subject("RE: RV: Fw: AW: Re[2]: [#T-5] Duda") == "Duda"
    assert clean_subject("Re: [#T-5] Re: Duda") == "Duda"
    assert clean_subject("Fwd:Recibo") == "Recibo"
    assert clean_subject("Reembolso: ¿cuándo?") == "Reembolso: ¿cuándo?"


def test_message_without_anything_does_not_raise() -> None:
    parsed = parse_message(b"\r\n", ["facturo.es"], ["soporte@facturo.es"])
    assert parsed.sender == "" and parsed.body == "" and parsed.subject == ""
    assert parsed.message_id is None and parsed.date is None and parsed.reference is None


def test_broken_headers_do_not_raise() -> None:
    raw = (
        b"From: <<<broken\r\nTo: ,,,@@\r\nDate: yesterday\r\nSubject: =?bogus?q?x?=\r\n"
        b"Content-Type: text/plain; charset=klingon\r\n\r\nHola\r\n"
    )
    parsed = parse_message(raw, ["facturo.es"], ["soporte@facturo.es"])
    assert parsed.body == "Hola"
    assert parsed.date is None
    assert parsed.to == ()


def test_sanitize_filename() -> None:
    assert sanitize_filename("C:\\Users\\juan\\factura.pdf") == "factura.pdf"
    assert sanitize_filename("../../etc/passwd") == "passwd"
    assert sanitize_filename("a\x00b\nc.txt") == "abc.txt"
    long_name = sanitize_filename("x" * 300 + ".pdf")
    assert len(long_name) == 200 and long_name.endswith(".pdf")


def test_crlf_wire_format_parses_the_same(new_mail: Factory) -> None:
    message = new_mail(subject="RE: [#T-1234] Problema")
    message.set_content(
        "Adjunto el justificante.\n\n-----Mensaje original-----\nDe: Soporte\n"
        "Enviado el: martes\n\n¿Tiene el justificante?\n",
        cte="quoted-printable",
    )
    raw = message.as_bytes(policy=SMTP)
    assert b"\r\n" in raw
    parsed = parse_message(raw, ["facturo.es"], ["soporte@facturo.es"])
    assert parsed.trimmed_body == "Adjunto el justificante."
    assert "\r" not in parsed.body
