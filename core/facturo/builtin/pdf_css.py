"""Parse the documents' stylesheet once per process instead of on every xhtml2pdf conversion.

xhtml2pdf parses its user-agent stylesheet (the ``default_css`` it is given) on every call:
about 1.5 ms a document for Facturo's, several percent of a PDF. The parsed stylesheet is a
set of rulesets that the cascade only reads, so one parse can serve every conversion whose
``default_css`` is the same text, provided that text has no at-rules, ``url()``, ``var()`` or
custom properties (those act on the conversion they are parsed in: ``@page`` builds its page
templates, ``@font-face`` registers fonts). Texts are cached only when registered with
:func:`cache_stylesheet`; every other conversion, the stock call included, parses as before.

This is the one place that relies on xhtml2pdf's private API: ``pisaContext._parseCSSSource``
(called by ``parseCSS`` for each stylesheet, with ``parser.DEFAULT_CSS_SOURCE`` as the name of
the user-agent one) and the ``pisaContext`` name ``xhtml2pdf.document`` builds its contexts
from. :func:`install` checks both and leaves xhtml2pdf alone when they are not there; the
tests say so loudly.
"""

from __future__ import annotations

import re
import threading
from typing import Any

#: What may not appear in a cached stylesheet: anything that acts on the conversion itself.
_UNCACHEABLE = re.compile(r"@|url\(|var\(|--", re.IGNORECASE)
_cacheable: set[str] = set()
_parsed: dict[str, Any] = {}
_lock = threading.Lock()
_installed: list[bool] = []


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


def cached_count() -> int:
    """How many stylesheets have been parsed and kept (for tests)."""
    return len(_parsed)
