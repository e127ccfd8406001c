"""Masking of secret settings wherever they could be shown: the staff plugins page, logs and
error messages. A value is secret when its setting is declared ``secret=True``, when it sits
under a key a setting declares in ``secret_keys`` (for tables and lists of tables, such as IMAP
accounts), or when its key names a secret (password, secret, token, key…) — the last catches
nested values resolved from ``*_env`` variables that no schema spelled out."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any

MASK = "••••••"
SECRET_WORDS: tuple[str, ...] = (
    "password",
    "passwd",
    "secret",
    "token",
    "apikey",
    "api_key",
    "private",
    "pepper",
    "passphrase",
    "credential",
    "signing_key",
    "encryption",
)


def looks_secret(key: str) -> bool:
    """True when a setting named ``key`` holds a secret (``*_env`` keys name a variable, not
    its value, and are not secret themselves)."""
    lowered = key.lower()
    if lowered.endswith("_env"):
        return False
    return any(word in lowered for word in SECRET_WORDS) or lowered.endswith("_key")


def masked(value: Any, secret_keys: Iterable[str] = ()) -> Any:
    """``value`` with every secret inside it replaced by MASK: tables, lists and dataclasses
    are walked; keys in ``secret_keys`` or that look secret are masked."""
    keys = frozenset(secret_keys)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = dataclasses.asdict(value)
    if isinstance(value, Mapping):
        return {
            key: (
                MASK
                if (str(key) in keys or looks_secret(str(key))) and item not in (None, "")
                else masked(item, keys)
            )
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [masked(item, keys) for item in value]
    return value


def secrets_in(value: Any, secret_keys: Iterable[str] = (), whole: bool = False) -> list[str]:
    """Every secret string inside ``value`` (all of it when ``whole``), longest first, for
    scrubbing them out of messages."""
    keys = frozenset(secret_keys)
    found: list[str] = []

    def walk(item: Any, secret: bool) -> None:
        if dataclasses.is_dataclass(item) and not isinstance(item, type):
            item = dataclasses.asdict(item)
        if isinstance(item, Mapping):
            for key, child in item.items():
                walk(child, secret or str(key) in keys or looks_secret(str(key)))
        elif isinstance(item, list | tuple):
            for child in item:
                walk(child, secret)
        elif secret and item not in (None, "") and len(str(item)) >= 3:
            found.append(str(item))

    walk(value, whole)
    return sorted(set(found), key=len, reverse=True)


def scrub(message: str, secrets: Iterable[str]) -> str:
    """``message`` with each of ``secrets`` replaced by MASK."""
    for secret in secrets:
        message = message.replace(secret, MASK)
    return message
