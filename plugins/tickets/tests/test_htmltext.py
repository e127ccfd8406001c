from __future__ import annotations

from facturo_tickets.htmltext import html_to_text


def test_script_style_and_head_are_not_text() -> None:
    html = (
        "<html><head><title>Aviso</title><style>p {color: red}</style></head>"
        "<body><script>alert('x')</script><p>Hola</p></body></html>"
    )
    assert html_to_text(html) == "Hola"


def test_blocks_breaks_lists_and_entities() -> None:
    html = (
        "<div>Buenos d&iacute;as,<br>&iquest;pueden ayudarme?</div>"
        "<ul><li>Factura 12</li><li>Factura&nbsp;13</li></ul>"
    )
    assert html_to_text(html) == "Buenos días,\n¿pueden ayudarme?\n- Factura 12\n- Factura 13"


def test_link_address_is_kept_when_the_text_differs() -> None:
    html = '<p>Ver <a href="https://facturo.es/f/12">la factura</a></p>'
    assert html_to_text(html) == "Ver la factura (https://facturo.es/f/12)"


def test_blockquotes_become_quoted_lines() -> None:
    html = "<p>Respuesta</p><blockquote>Pregunta<blockquote>Anterior</blockquote></blockquote>"
    assert html_to_text(html) == "Respuesta\n\n> Pregunta\n> > Anterior"


def test_whitespace_in_source_is_collapsed_but_pre_is_kept() -> None:
    html = "<p>uno\n   dos</p><pre>a  b\nc</pre>"
    assert html_to_text(html) == "uno dos\n\na  b\nc"
