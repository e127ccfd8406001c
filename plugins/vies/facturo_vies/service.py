"""Checking a VAT number: a staff override, else a valid answer young enough to reuse, else a
new consultation of VIES, recorded as proof whatever it answers."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from facturo.plugin import BillingError, Context, Customer, StaffUser, VatCheck, audit_record

from .client import Outcome, call
from .config import vies_settings
from .models import Consultation, Override
from .protocol import ProtocolError, Request, check_input, split_number

#: What the core hears for each consultation status.
CHECK_STATUS = {"valid": "valid", "invalid": "invalid", "unavailable": "unknown"}


def active_override(session: Session, country: str, number: str) -> Override | None:
    """The override standing for a number (the newest not revoked)."""
    return session.scalar(
        select(Override)
        .where(Override.country == country, Override.number == number)
        .where(Override.revoked_at.is_(None))
        .order_by(Override.id.desc())
        .limit(1)
    )


def latest_consultations(
    session: Session, country: str, number: str, limit: int = 20
) -> list[Consultation]:
    """The number's consultations, newest first."""
    return list(
        session.scalars(
            select(Consultation)
            .where(Consultation.country == country, Consultation.number == number)
            .order_by(Consultation.checked_at.desc(), Consultation.id.desc())
            .limit(limit)
        )
    )


def _fresh_valid(session: Session, ctx: Context, country: str, number: str) -> Consultation | None:
    since = ctx.now() - timedelta(days=vies_settings(ctx).cache_days)
    latest = latest_consultations(session, country, number, limit=1)
    if latest and latest[0].status == "valid" and latest[0].checked_at >= since:
        return latest[0]
    return None


def as_check(consultation: Consultation) -> VatCheck:
    """What the core hears about a consultation."""
    return VatCheck(
        CHECK_STATUS.get(consultation.status, "invalid"),
        reference=consultation.request_identifier
        or (f"vies-{consultation.id}" if consultation.status == "valid" else ""),
        checked_at=consultation.checked_at,
        detail=consultation.fault_code,
        source="vies",
        name=consultation.trader_name,
        address=consultation.trader_address,
    )


def override_check(override: Override) -> VatCheck:
    """What the core hears about an override."""
    return VatCheck(
        override.decision,
        reference=f"override-{override.id}",
        checked_at=override.created_at,
        detail=override.reason,
        source="override",
    )


def consult(session: Session, ctx: Context, country: str, number: str) -> Consultation:
    """Ask VIES now and add the consultation to ``session``."""
    settings = vies_settings(ctx)
    request = Request(country, number, settings.requester_country, settings.requester_number)
    try:
        check_input(request)
    except ProtocolError:
        outcome = Outcome("error", None, "INVALID_INPUT", "", "", 0)
    else:
        outcome = call(settings.endpoint, request, settings.timeout)
    answer = outcome.answer
    consultation = Consultation(
        country=country,
        number=number,
        requester=settings.requester_country + settings.requester_number,
        checked_at=ctx.now(),
        status=outcome.status,
        valid=answer.valid if answer else None,
        request_identifier=(answer.request_identifier if answer else "")[:64],
        request_date=(answer.request_date if answer else "")[:40],
        trader_name=answer.trader_name if answer else "",
        trader_address=answer.trader_address if answer else "",
        fault_code=outcome.fault_code[:64],
        endpoint=settings.endpoint[:300],
        duration_ms=outcome.duration_ms,
        request_xml=outcome.request_xml,
        response_xml=outcome.response_xml,
    )
    session.add(consultation)
    session.flush()
    return consultation


def check(session: Session | None, ctx: Context, country: str, number: str) -> VatCheck:
    """The answer for a VAT number (see the module); records in ``session`` or, when None,
    in a transaction of its own."""
    code, national = split_number(country, number)
    if session is None:
        with ctx.db.transaction() as own:
            return _check(own, ctx, code, national)
    return _check(session, ctx, code, national)


def _check(session: Session, ctx: Context, country: str, number: str) -> VatCheck:
    override = active_override(session, country, number)
    if override is not None:
        return override_check(override)
    cached = _fresh_valid(session, ctx, country, number)
    if cached is not None:
        return as_check(cached)
    return as_check(consult(session, ctx, country, number))


def add_override(
    session: Session,
    ctx: Context,
    staff: StaffUser,
    customer: Customer,
    decision: str,
    reason: str,
) -> Override:
    """Staff decide that the customer's VAT number is valid or invalid, with a written reason
    (audited); it stands until revoked. Raises BillingError on bad input."""
    reason = reason.strip()
    if decision not in ("valid", "invalid"):
        raise BillingError("choose valid or invalid")
    if not reason:
        raise BillingError("write the reason for the override")
    if len(reason) > 2000:
        raise BillingError("the reason is too long (2,000 characters at most)")
    if not customer.tax_id:
        raise BillingError("this customer has no VAT number")
    country, number = split_number(customer.country, customer.tax_id)
    for standing in session.scalars(
        select(Override).where(
            Override.country == country, Override.number == number, Override.revoked_at.is_(None)
        )
    ):
        standing.revoked_at = ctx.now()
        standing.revoked_by = staff.id
    override = Override(
        country=country,
        number=number,
        decision=decision,
        reason=reason,
        staff_id=staff.id,
        customer_id=customer.id,
        created_at=ctx.now(),
    )
    session.add(override)
    session.flush()
    audit_record(
        session,
        f"staff:{staff.id}",
        "vies.override",
        override,
        after={"number": country + number, "decision": decision, "reason": reason},
    )
    return override


def revoke_override(session: Session, ctx: Context, staff: StaffUser, customer: Customer) -> None:
    """End the override standing for the customer's VAT number (audited)."""
    country, number = split_number(customer.country, customer.tax_id)
    override = active_override(session, country, number)
    if override is None:
        raise BillingError("no override stands for this VAT number")
    override.revoked_at = ctx.now()
    override.revoked_by = staff.id
    audit_record(
        session,
        f"staff:{staff.id}",
        "vies.override_revoke",
        override,
        before={"decision": override.decision},
        after={"revoked": True},
    )
