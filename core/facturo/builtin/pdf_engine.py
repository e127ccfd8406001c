"""The one module on xhtml2pdf's private API: the documents' stylesheet parsed once per process,
and the ``<pdf:facturo>`` element that stands for a block ReportLab draws directly.

**Stylesheet.** xhtml2pdf parses its user-agent stylesheet (the ``default_css`` it is given)
on every call: about 1.5 ms a document for Facturo's, several percent of a PDF. The parsed stylesheet is a
set of rulesets that the cascade only reads, so one parse can serve every conversion whose
``default_css`` is the same text, provided that text has no at-rules, ``url()``, ``var()`` or
custom properties (those act on the conversion they are parsed in: ``@page`` builds its page
templates, ``@font-face`` registers fonts). Texts are cached only when registered with
:func:`cache_stylesheet`; every other conversion, the stock call included, parses as before.

It relies on ``pisaContext._parseCSSSource`` (called by ``parseCSS`` for each stylesheet, with
``parser.DEFAULT_CSS_SOURCE`` as the name of the user-agent one) and the ``pisaContext`` name
``xhtml2pdf.document`` builds its contexts from. :func:`install` checks both and leaves
xhtml2pdf alone when they are not there; the tests say so loudly.

**Blocks.** xhtml2pdf's tree walk looks an element's handler up by name among
``xhtml2pdf.parser``'s globals (``pisaTag`` and the tag name, upper case, without the colon),
and hands it the DOM node. :func:`install_blocks` adds ``pisaTagPDFFACTURO`` there: its element
becomes the flowable the given function builds from its ``data``
(:func:`facturo.builtin.pdf_flowables.block_flowable`). When the lookup is not what this module
knows, :func:`require_blocks` raises, so a document is never converted with its QR code or its
lines silently left out.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from typing import Any

#: What may not appear in a cached stylesheet: anything that acts on the conversion itself.
_UNCACHEABLE = re.compile(r"@|url\(|var\(|--", re.IGNORECASE)
_cacheable: set[str] = set()
_parsed: dict[str, Any] = {}
_lock = threading.Lock()
_installed: list[bool] = []
_blocks_installed: list[bool] = []


def cache_stylesheet(css: str) -> str:
    """Mark ``css`` (a ``default_css`` text) as parsed once per process; return it unchanged.

    Raises ValueError for a stylesheet whose parse acts on the conversion (at-rules,
    ``url()``, custom properties)."""
    found = _UNCACHEABLE.search(css)
    if found is not None:
        raise ValueError(f"a cached stylesheet cannot hold {found.group(0)!r}")
    install()
    _cacheable.add(_key(css))
    return css


def _key(css: str) -> str:
    # pisaContext.addDefaultCSS keeps the text stripped, with a newline after it.
    return css.strip() + "\n"


def install() -> bool:
    """Make ``xhtml2pdf.document`` build its conversions with the caching context (once);
    False when xhtml2pdf's internals are not the ones this module knows."""
    with _lock:
        if _installed:
            return _installed[0]
        _installed.append(_install())
        return _installed[0]


def _install() -> bool:
    from xhtml2pdf import document, parser
    from xhtml2pdf.context import pisaContext

    if not (
        getattr(document, "pisaContext", None) is pisaContext
        and callable(getattr(pisaContext, "_parseCSSSource", None))
        and isinstance(getattr(parser, "DEFAULT_CSS_SOURCE", None), str)
    ):
        return False
    default_source = parser.DEFAULT_CSS_SOURCE

    class StylesheetCachingContext(pisaContext):  # type: ignore[misc]
        """xhtml2pdf's conversion context, parsing a registered user-agent stylesheet once."""

        def _parseCSSSource(self, text: str, sourceName: str) -> Any:
            if sourceName != default_source or text not in _cacheable:
                return super()._parseCSSSource(text, sourceName)
            parsed = _parsed.get(text)
            if parsed is None:
                parsed = _parsed[text] = super()._parseCSSSource(text, sourceName)
            return parsed

    document.pisaContext = StylesheetCachingContext
    return True


def install_blocks(flowable: Callable[[str], Any]) -> bool:
    """Register the ``<pdf:facturo>`` element with xhtml2pdf (once): its ``data`` becomes the
    flowable ``flowable`` builds. False when xhtml2pdf's tag lookup is not the one this module
    knows."""
    with _lock:
        if not _blocks_installed:
            _blocks_installed.append(_install_blocks(flowable))
        return _blocks_installed[0]


def require_blocks(flowable: Callable[[str], Any]) -> None:
    """Raise RuntimeError unless xhtml2pdf will turn ``<pdf:facturo>`` into its block."""
    if not install_blocks(flowable):
        raise RuntimeError("xhtml2pdf's tag lookup changed: <pdf:facturo> blocks cannot be drawn")


#: The name xhtml2pdf's tree walk looks the ``<pdf:facturo>`` handler up by.
TAG_HANDLER = "pisaTagPDFFACTURO"


def _install_blocks(flowable: Callable[[str], Any]) -> bool:
    import inspect

    from xhtml2pdf import parser
    from xhtml2pdf.tags import pisaTag

    walk = inspect.getsource(parser.pisaLoop)
    if 'globals().get("pisaTag%s" % node.tagName.replace(":", "").upper()' not in walk:
        return False

    class pisaTagPDFFACTURO(pisaTag):  # type: ignore[misc]
        """``<pdf:facturo data="…">``: the block its data describes, as one flowable."""

        def start(self, c: Any) -> None:
            c.addPara()
            c.addStory(flowable(self.node.getAttribute("data")))

    setattr(parser, TAG_HANDLER, pisaTagPDFFACTURO)
    return True


def cached_count() -> int:
    """How many stylesheets have been parsed and kept (for tests)."""
    return len(_parsed)
