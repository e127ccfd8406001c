"""Words for people in place of internal codes: statuses, document kinds, billing cycles, staff
roles. Each code maps to an English message id that the catalogs translate; a code with no entry
is shown as it is (a plugin's own status keeps working, only untranslated)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from jinja2 import pass_context
from jinja2.runtime import Context as TemplateContext

#: Every status a core table or a bundled plugin stores, lower-cased.
STATUSES: Mapping[str, str] = {
    # documents
    "unpaid": "Unpaid",
    "paid": "Paid",
    "cancelled": "Cancelled",
    "issued": "Issued",
    "refunded": "Refunded",
    "partly_refunded": "Partly refunded",
    "proforma": "Proforma",
    # services and licences
    "pending": "Pending",
    "active": "Active",
    "suspended": "Suspended",
    "terminated": "Terminated",
    "expired": "Expired",
    "inactive": "Inactive",
    "revoked": "Revoked",
    "grace": "Grace period",
    "not_started": "Not started",
    "current": "Current",
    "replaced": "Replaced",
    # payments, refunds, gateway notices
    "applied": "Applied",
    "needs_review": "Under review",
    "dismissed": "Dismissed",
    "completed": "Completed",
    "reserved": "Reserved",
    "failed": "Failed",
    "manual": "Manual",
    "received": "Received",
    "processed": "Processed",
    "ignored": "Ignored",
    "rejected": "Rejected",
    "duplicate": "Duplicate",
    "created": "Created",
    "approved": "Approved",
    "denied": "Denied",
    "confirmed": "Confirmed",
    "proposed": "Proposed",
    "unmatched": "Unmatched",
    # email, jobs
    "sent": "Sent",
    "sending": "Sending",
    "done": "Done",
    "ok": "OK",
    "error": "Error",
    "running": "Running",
    # tickets
    "open": "Open",
    "answered": "Answered",
    "customer_reply": "Customer replied",
    "on_hold": "On hold",
    "closed": "Closed",
    # VAT number checks
    "valid": "Valid",
    "invalid": "Invalid",
    "unavailable": "Unavailable",
    "unknown": "No answer",
    # records sent to the tax agency
    "accepted": "Accepted",
    "accepted_with_errors": "Accepted with errors",
    "correcto": "Accepted",
    "aceptadoconerrores": "Accepted with errors",
    "incorrecto": "Rejected",
    "anulado": "Cancelled",
}

KINDS: Mapping[str, str] = {
    "proforma": "Proforma",
    "invoice": "Invoice",
    "credit_note": "Credit note",
}

CYCLES: Mapping[str, str] = {
    "monthly": "Monthly",
    "quarterly": "Quarterly",
    "semiannual": "Every six months",
    "annual": "Annual",
    "biennial": "Every two years",
    "triennial": "Every three years",
    "one_time": "One time",
}

ROLES: Mapping[str, str] = {
    "admin": "Administrator",
    "billing": "Billing",
    "support": "Support",
}


def label(table: Mapping[str, str], code: Any, gettext: Callable[[str], str]) -> str:
    """The words for ``code`` in ``table``, translated with ``gettext``; unknown codes as given."""
    if code is None or code == "":
        return ""
    text = str(code)
    found = table.get(text) or table.get(text.lower())
    return gettext(found) if found else text


def _gettext(context: TemplateContext) -> Callable[[str], str]:
    found = context.get("_") or context.get("gettext")
    return found if callable(found) else (lambda message: message)


@pass_context
def status_label(context: TemplateContext, code: Any) -> str:
    """``{{ d.status|status_label }}``: a status in the page's language."""
    return label(STATUSES, code, _gettext(context))


@pass_context
def kind_label(context: TemplateContext, code: Any) -> str:
    """``{{ d.kind|kind_label }}``: proforma, invoice or credit note in the page's language."""
    return label(KINDS, code, _gettext(context))


@pass_context
def cycle_label(context: TemplateContext, code: Any) -> str:
    """``{{ s.cycle|cycle_label }}``: a billing cycle in the page's language."""
    return label(CYCLES, code, _gettext(context))


@pass_context
def role_label(context: TemplateContext, code: Any) -> str:
    """``{{ staff.role|role_label }}``: a staff role in the page's language."""
    return label(ROLES, code, _gettext(context))


FILTERS: Mapping[str, Any] = {
    "status_label": status_label,
    "kind_label": kind_label,
    "cycle_label": cycle_label,
    "role_label": role_label,
}
