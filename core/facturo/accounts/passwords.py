"""Passwords: argon2id hashes, checks that cost the same for known and unknown accounts, and
strength measured by zxcvbn with the person's own email and name as context."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn import zxcvbn

_hasher = PasswordHasher()
MIN_PASSWORD_LENGTH = 10
#: zxcvbn refuses longer input (its cost grows with the length); the rest only adds strength.
MAX_SCORED_LENGTH = 72
DEFAULT_MIN_SCORE = 3
TOO_WEAK = "This password is too easy to guess."
# zxcvbn's warnings, as message ids for the catalogs (it speaks English only).
WARNINGS = (
    "Straight rows of keys are easy to guess.",
    "Short keyboard patterns are easy to guess.",
    'Repeats like "aaa" are easy to guess.',
    'Repeats like "abcabcabc" are only slightly harder to guess than "abc".',
    "Sequences like abc or 6543 are easy to guess.",
    "Recent years are easy to guess.",
    "Dates are often easy to guess.",
    "This is a top-10 common password.",
    "This is a top-100 common password.",
    "This is a very common password.",
    "This is similar to a commonly used password.",
    "A word by itself is easy to guess.",
    "Names and surnames by themselves are easy to guess.",
    "Common names and surnames are easy to guess.",
)


def use_hasher(hasher: PasswordHasher) -> None:
    """Hash new passwords with ``hasher`` from now on (verification reads the parameters
    from each hash). Only ``facturo.testing`` calls this, with cheap parameters: production
    keeps argon2-cffi's defaults."""
    global _hasher
    _hasher = hasher
    dummy_hash.cache_clear()


def hash_password(password: str) -> str:
    """An argon2id hash of ``password``."""
    return _hasher.hash(password)


@lru_cache(maxsize=1)
def dummy_hash() -> str:
    """A hash to verify against when the account does not exist (same parameters, same cost)."""
    return _hasher.hash("facturo-dummy-password-for-equal-work")


def verify_password(password_hash: str, password: str) -> bool:
    """True when ``password`` matches ``password_hash``. With no hash (no such account) or a
    broken one, ``password`` is checked against a dummy hash instead, so the answer (False)
    costs as much as a real check and timing tells nothing."""
    if not password_hash:
        return _dummy(password)
    try:
        return bool(_hasher.verify(password_hash, password))
    except VerificationError:
        return False
    except InvalidHashError:
        return _dummy(password)


def _dummy(password: str) -> bool:
    try:
        _hasher.verify(dummy_hash(), password)
    except (VerificationError, InvalidHashError):
        pass
    return False


def weakness(
    password: str, context: Iterable[str] = (), min_score: int = DEFAULT_MIN_SCORE
) -> tuple[str, ...] | None:
    """Why ``password`` is refused, as message ids (the first is the verdict, the others say
    why and what to do), or None when it is acceptable. ``context`` holds the person's own
    words (email, name), which make a password weak."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return ("Use at least 10 characters.",)
    words = [word for item in context for word in _words(item)]
    result = zxcvbn(password[:MAX_SCORED_LENGTH], user_inputs=words)
    if result["score"] >= min_score:
        return None
    warning = result["feedback"].get("warning") or ""
    reasons = [warning] if warning in WARNINGS else []
    if not reasons and _uses_context(password, words):
        reasons.append("It contains your name or email address.")
    if not reasons:
        reasons.append("Add another word or two. Uncommon words are better.")
    return (TOO_WEAK, *reasons)


def _words(item: str) -> list[str]:
    """``item`` and its parts (an email's local part and domain, a name's words)."""
    text = item.strip().lower()
    if not text:
        return []
    parts = {text}
    local, _, domain = text.partition("@")
    parts.update({local, domain.split(".")[0]} if domain else set())
    parts.update(text.replace("@", " ").replace(".", " ").split())
    return [part for part in parts if len(part) >= 3]


def _uses_context(password: str, words: list[str]) -> bool:
    lowered = password.lower()
    return any(word in lowered for word in words)


def explain(problem: tuple[str, ...], gettext: Callable[[str], str]) -> str:
    """The reasons of ``weakness`` as one sentence-per-reason message in the reader's language."""
    return " ".join(gettext(part) for part in problem)
