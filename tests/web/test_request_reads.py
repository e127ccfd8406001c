"""The reads kept per path and session to be sent ahead: bounded, least recently used out."""

from __future__ import annotations

from facturo.billing.overview import SERVICES_QUERY
from facturo.web.request_reads import ReadPlans


def test_plans_are_bounded_and_the_least_recently_used_goes_first() -> None:
    plans = ReadPlans(size=2)
    read = ((SERVICES_QUERY, {"customer_id": 1}),)
    plans.put(("/client/", "a"), read)
    plans.put(("/client/", "b"), read)
    assert plans.get(("/client/", "a")) == read  # a is now the most recently used
    plans.put(("/client/", "c"), read)
    assert plans.get(("/client/", "b")) == ()
    assert plans.get(("/client/", "a")) == read
    assert plans.get(("/client/", "c")) == read
