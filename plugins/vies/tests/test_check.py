"""Checking numbers against the stand-in: proof recorded every time, valid answers cached,
faults and network trouble give "unknown", never "invalid"."""

from __future__ import annotations

from sqlalchemy import func, select

from facturo.context import Context
from facturo.testing import Clock
from facturo_vies.models import Consultation
from facturo_vies.service import check

from .conftest import DOWN_DE, INVALID_DE, VALID_DE, StandIn


def _consultations(ctx: Context) -> list[Consultation]:
    with ctx.db.read_session() as session:
        return list(session.scalars(select(Consultation).order_by(Consultation.id)))


def test_valid_answer_is_recorded_with_its_consultation_number_and_cached(
    vies_ctx: Context, standin: StandIn, clock: Clock
) -> None:
    first = check(None, vies_ctx, "DE", VALID_DE)
    assert first.status == "valid" and first.source == "vies"
    assert first.reference.startswith("WAPI") and len(first.reference) == 16
    (row,) = _consultations(vies_ctx)
    assert (row.country, row.number, row.status, row.valid) == ("DE", VALID_DE[2:], "valid", True)
    assert row.request_identifier == first.reference
    assert row.requester == "ESB12345674"  # the seller's VAT number: the requester
    assert "<urn:requesterVatNumber>B12345674</urn:requesterVatNumber>" in row.request_xml
    assert first.reference in row.response_xml
    assert row.trader_name == "---"  # Germany gives no name, as the real register
    # Within cache_days the same answer is reused without asking VIES again.
    clock.advance(days=29)
    again = check(None, vies_ctx, "DE", VALID_DE)
    assert again.reference == first.reference
    assert len(standin.state.requests) == 1 and len(_consultations(vies_ctx)) == 1
    # After it, VIES is asked again.
    clock.advance(days=2)
    later = check(None, vies_ctx, "DE", VALID_DE)
    assert later.reference != first.reference
    assert len(standin.state.requests) == 2 and len(_consultations(vies_ctx)) == 2


def test_invalid_answers_are_not_cached(vies_ctx: Context, standin: StandIn) -> None:
    assert check(None, vies_ctx, "DE", INVALID_DE).status == "invalid"
    assert check(None, vies_ctx, "DE", INVALID_DE).status == "invalid"
    assert len(standin.state.requests) == 2
    rows = _consultations(vies_ctx)
    assert [(r.status, r.valid) for r in rows] == [("invalid", False)] * 2
    assert all(r.request_identifier for r in rows)  # a negative answer is proof too


def test_member_state_down_and_faults_are_unknown_not_invalid(
    vies_ctx: Context, standin: StandIn
) -> None:
    down = check(None, vies_ctx, "DE", DOWN_DE)
    assert (down.status, down.detail) == ("unknown", "MS_UNAVAILABLE")
    for code in ("TIMEOUT", "SERVER_BUSY", "MS_MAX_CONCURRENT_REQ"):
        standin.state.forced[VALID_DE] = code
        assert check(None, vies_ctx, "DE", VALID_DE).status == "unknown"
    standin.state.forced[VALID_DE] = "INVALID_INPUT"
    assert check(None, vies_ctx, "DE", VALID_DE).status == "invalid"  # not asking again
    faults = [(r.status, r.fault_code) for r in _consultations(vies_ctx)]
    assert faults == [
        ("unavailable", "MS_UNAVAILABLE"),
        ("unavailable", "TIMEOUT"),
        ("unavailable", "SERVER_BUSY"),
        ("unavailable", "MS_MAX_CONCURRENT_REQ"),
        ("error", "INVALID_INPUT"),
    ]


def test_network_timeout_is_unknown(vies_ctx: Context, standin: StandIn) -> None:
    standin.state.delay = 3  # longer than the plugin's 2-second timeout
    result = check(None, vies_ctx, "DE", VALID_DE)
    assert (result.status, result.detail) == ("unknown", "NETWORK_TIMEOUT")
    (row,) = _consultations(vies_ctx)
    assert row.status == "unavailable" and row.response_xml == ""


def test_consultation_made_inside_a_transaction_rolls_back_with_it(vies_ctx: Context) -> None:
    try:
        with vies_ctx.db.transaction() as session:
            check(session, vies_ctx, "DE", VALID_DE)
            assert session.scalar(select(func.count()).select_from(Consultation)) == 1
            raise RuntimeError("the payment failed")
    except RuntimeError:
        pass
    assert _consultations(vies_ctx) == []
