"""Text folded for searching: "Lucía Muñoz" and "lucia munoz" are the same to a person."""

from __future__ import annotations

import unicodedata


def fold(text: str) -> str:
    """``text`` without accents or case, its spaces collapsed: what searches compare."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(plain.casefold().split())
