"""Audit trail: every change by a person lands here, in the same transaction as the change."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from facturo.models import AuditEvent


def record(
    session: Session,
    actor: str,
    action: str,
    entity: object,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    ip: str = "",
) -> AuditEvent:
    """Add an audit event for ``entity`` (a model instance, or a ``(type, id)`` tuple)."""
    if isinstance(entity, tuple):
        entity_type, entity_id = str(entity[0]), str(entity[1])
    else:
        entity_type = type(entity).__name__
        entity_id = str(getattr(entity, "id", "") or "")
    event = AuditEvent(
        actor=actor,
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        before=_jsonable(before),
        after=_jsonable(after),
        ip=ip,
    )
    session.add(event)
    return event


def snapshot(obj: object, fields: tuple[str, ...]) -> dict[str, Any]:
    """The named attributes of ``obj`` as a JSON-ready dict (for before/after)."""
    return {name: getattr(obj, name) for name in fields}


def _jsonable(data: dict[str, Any] | None) -> dict[str, Any] | None:
    if data is None:
        return None
    clean: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, Decimal):
            clean[key] = str(value)
        elif hasattr(value, "isoformat"):
            clean[key] = value.isoformat()
        elif isinstance(value, str | int | float | bool | list | dict) or value is None:
            clean[key] = value
        else:
            clean[key] = str(value)
    return clean
