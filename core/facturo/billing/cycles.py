"""Billing cycles and date arithmetic."""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from facturo.models.catalog import CYCLES


def months_of(cycle: str) -> int:
    """Months in ``cycle``; ValueError for an unknown cycle."""
    try:
        return CYCLES[cycle]
    except KeyError as exc:
        raise ValueError(f"unknown billing cycle {cycle!r}") from exc


def add_months(start: date, months: int) -> date:
    """``start`` plus ``months``, clamping the day to the target month (31 Jan + 1 → 28 Feb)."""
    month_index = start.month - 1 + months
    year = start.year + month_index // 12
    month = month_index % 12 + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return date(year, month, day)


def period_for(start: date, cycle: str) -> tuple[date, date]:
    """The period (first day, last day inclusive) of one ``cycle`` beginning on ``start``."""
    end = add_months(start, months_of(cycle))
    return start, end - timedelta(days=1)


def period_end_instant(period_end: date, zone: tzinfo) -> datetime:
    """The instant (UTC) a period whose last day is ``period_end`` ends: the start of the next
    day in the business time zone ``zone``, which is also the service's next due date."""
    following = period_end + timedelta(days=1)
    return datetime.combine(following, time(0), tzinfo=zone).astimezone(UTC)
