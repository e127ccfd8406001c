"""Spanish and English: gettext catalogs read from ``locale/<lang>/LC_MESSAGES/*.po`` with Babel.

Message ids are English; the Spanish catalog translates them. Catalogs are read from the .po
sources at start-up (no compile step), merged across the core and every plugin folder given.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from babel.messages.pofile import read_po

LANGUAGES = ("es", "en")
DEFAULT_LANGUAGE = "es"
CORE_LOCALE_DIR = Path(__file__).resolve().parent / "locale"


class Translations:
    """A minimal gettext object (gettext / ngettext) over merged .po catalogs."""

    def __init__(self, messages: dict[str, str | tuple[str, ...]]) -> None:
        self.messages = messages

    def gettext(self, message: str) -> str:
        found = self.messages.get(message)
        if isinstance(found, tuple):
            return found[0] or message
        return found or message

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        found = self.messages.get(singular)
        if isinstance(found, tuple) and len(found) > 1:
            return (found[0] if n == 1 else found[1]) or (singular if n == 1 else plural)
        return singular if n == 1 else plural


def load_translations(language: str, extra_dirs: Iterable[Path] = ()) -> Translations:
    """The catalog for ``language`` from the core and ``extra_dirs`` (later ones win)."""
    return _load(language, tuple(str(p) for p in extra_dirs))


@lru_cache(maxsize=16)
def _load(language: str, extra_dirs: tuple[str, ...]) -> Translations:
    messages: dict[str, str | tuple[str, ...]] = {}
    for folder in (str(CORE_LOCALE_DIR), *extra_dirs):
        po_dir = Path(folder) / language / "LC_MESSAGES"
        if not po_dir.is_dir():
            continue
        for po_file in sorted(po_dir.glob("*.po")):
            with po_file.open("rb") as handle:
                catalog = read_po(handle, locale=language)
            for message in catalog:
                if not message.id or not message.string:
                    continue
                key = str(message.id[0] if isinstance(message.id, tuple | list) else message.id)
                value = message.string
                messages[key] = tuple(value) if isinstance(value, tuple | list) else value
    return Translations(messages)


def negotiate(accept_language: str | None, default: str = DEFAULT_LANGUAGE) -> str:
    """Pick es or en from an Accept-Language header."""
    if not accept_language:
        return default
    weighted: list[tuple[float, str]] = []
    for part in accept_language.split(","):
        pieces = part.strip().split(";q=")
        tag = pieces[0].strip().lower()[:2]
        try:
            weight = float(pieces[1]) if len(pieces) > 1 else 1.0
        except ValueError:
            weight = 0.0
        if tag in LANGUAGES:
            weighted.append((weight, tag))
    if not weighted:
        return default
    return max(weighted, key=lambda item: item[0])[1]
