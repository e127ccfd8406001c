"""Typed reading of one TOML settings table, and the error that names a bad setting."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class ConfigError(Exception):
    """A setting is missing or invalid; ``key`` is its dotted path."""

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(f"setting {key!r}: {problem}")
        self.key = key
        self.problem = problem


class TableReader:
    """Typed access to one TOML table, raising ConfigError with the dotted key."""

    def __init__(self, raw: Mapping[str, Any], prefix: str = "") -> None:
        self.raw = raw
        self.prefix = prefix

    def key(self, name: str) -> str:
        return f"{self.prefix}{name}"

    def table(self, name: str) -> TableReader:
        value = self.raw.get(name, {})
        if not isinstance(value, Mapping):
            raise ConfigError(self.key(name), "must be a table")
        return TableReader(value, prefix=f"{self.key(name)}.")

    def text(self, name: str, default: str | None = None, required: bool = False) -> str:
        value = self.raw.get(name)
        if value is None or (required and value == ""):
            if required or default is None:
                raise ConfigError(self.key(name), "is missing")
            return default
        if not isinstance(value, str):
            raise ConfigError(self.key(name), "must be a string")
        return value

    def integer(
        self, name: str, default: int, minimum: int | None = None, maximum: int | None = None
    ) -> int:
        value = self.raw.get(name, default)
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            value = int(value)
        if not isinstance(value, int) or isinstance(value, bool):
            raise ConfigError(self.key(name), "must be a whole number")
        if minimum is not None and value < minimum:
            raise ConfigError(self.key(name), f"must be at least {minimum}")
        if maximum is not None and value > maximum:
            raise ConfigError(self.key(name), f"must be at most {maximum}")
        return value

    def integers(self, name: str, default: tuple[int, ...]) -> tuple[int, ...]:
        value = self.raw.get(name, list(default))
        if isinstance(value, str):
            value = [part for part in value.split(",") if part.strip()]
        if not isinstance(value, list):
            raise ConfigError(self.key(name), "must be a list of whole numbers")
        try:
            numbers = tuple(int(item) for item in value)
        except (TypeError, ValueError) as exc:
            raise ConfigError(self.key(name), "must be a list of whole numbers") from exc
        if any(number < 0 for number in numbers):
            raise ConfigError(self.key(name), "must not hold negative numbers")
        return numbers

    def boolean(self, name: str, default: bool) -> bool:
        value = self.raw.get(name, default)
        if isinstance(value, str):
            lowered = value.strip().lower()
            if lowered in ("1", "true", "yes", "on"):
                return True
            if lowered in ("0", "false", "no", "off"):
                return False
        if not isinstance(value, bool):
            raise ConfigError(self.key(name), "must be true or false")
        return value

    def names(self, name: str, what: str = "plugin names") -> tuple[str, ...]:
        value = self.raw.get(name, [])
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise ConfigError(self.key(name), f"must be a list of {what}")
        return tuple(dict.fromkeys(value))

    def series_format(self, name: str, default: str) -> str:
        value = self.text(name, default=default)
        try:
            sample = value.format(year=2026, seq=1)
        except (KeyError, ValueError, IndexError) as exc:
            raise ConfigError(
                self.key(name), "must use only {year} and {seq} placeholders"
            ) from exc
        if "{seq" not in value or sample == value.format(year=2026, seq=2):
            raise ConfigError(self.key(name), "must contain the {seq} placeholder")
        return value
