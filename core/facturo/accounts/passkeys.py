"""Passkeys (WebAuthn) for customers and staff, with the ``webauthn`` library: registered from
a fully verified session, used as the only factor at login (a passkey is something you have,
unlocked by something you know or are) or as the second factor after the password.

The relying party is the host of ``base_url``; the expected origin is ``base_url`` itself.
Challenges are made here and kept by the caller (in the signed session cookie) until the
browser answers; each is good for one answer.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from facturo.errors import FacturoError
from facturo.models import Customer, Passkey, StaffUser

if TYPE_CHECKING:
    from facturo.context import Context

Person = Customer | StaffUser
MAX_PASSKEYS = 10


class PasskeyError(FacturoError, ValueError):
    """The browser's answer was refused; the message is a message id for people."""


@dataclass(frozen=True)
class Challenge:
    """What the browser is asked: the options (JSON for ``navigator.credentials``) and the
    challenge to keep until it answers."""

    options_json: str
    challenge: str


def relying_party(ctx: Context) -> tuple[str, str]:
    """(RP id, origin) for ``base_url``."""
    parts = urlsplit(ctx.settings.base_url)
    return parts.hostname or "localhost", f"{parts.scheme}://{parts.netloc}"


def _owner_column(person: Person) -> Any:
    return Passkey.staff_id if isinstance(person, StaffUser) else Passkey.customer_id


def passkeys_of(session: Session, person: Person) -> list[Passkey]:
    """``person``'s passkeys, oldest first."""
    return list(
        session.scalars(
            select(Passkey).where(_owner_column(person) == person.id).order_by(Passkey.id)
        )
    )


def _descriptors(keys: list[Passkey]) -> list[PublicKeyCredentialDescriptor]:
    out = []
    for key in keys:
        transports = [AuthenticatorTransport(t) for t in key.transports if _transport(t)]
        out.append(
            PublicKeyCredentialDescriptor(
                id=base64url_to_bytes(key.credential_id), transports=transports or None
            )
        )
    return out


def _transport(value: str) -> bool:
    return value in {t.value for t in AuthenticatorTransport}


def registration_challenge(session: Session, ctx: Context, person: Person) -> Challenge:
    """Options to create a new passkey for ``person`` (their existing ones are excluded)."""
    rp_id, _origin = relying_party(ctx)
    kind = "staff" if isinstance(person, StaffUser) else "customer"
    options = generate_registration_options(
        rp_id=rp_id,
        rp_name=ctx.settings.seller.legal_name,
        user_name=person.email,
        user_id=f"{kind}:{person.id}".encode(),
        user_display_name=person.name,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED,
            user_verification=UserVerificationRequirement.REQUIRED,
        ),
        exclude_credentials=_descriptors(passkeys_of(session, person)),
    )
    return Challenge(options_to_json(options), bytes_to_base64url(options.challenge))


def register(
    session: Session, ctx: Context, person: Person, answer: Any, challenge: str, name: str
) -> Passkey:
    """Verify the browser's ``answer`` to ``challenge`` and store the new passkey."""
    rp_id, origin = relying_party(ctx)
    if len(passkeys_of(session, person)) >= MAX_PASSKEYS:
        raise PasskeyError("You have too many passkeys; remove one first.")
    try:
        verified = verify_registration_response(
            credential=_as_json(answer),
            expected_challenge=base64url_to_bytes(challenge),
            expected_rp_id=rp_id,
            expected_origin=origin,
            require_user_verification=True,
        )
    except (WebAuthnException, ValueError, KeyError, TypeError):
        raise PasskeyError("The passkey could not be verified.") from None
    credential_id = bytes_to_base64url(verified.credential_id)
    if session.scalar(select(Passkey.id).where(Passkey.credential_id == credential_id)):
        raise PasskeyError("This passkey is already registered.")
    transports = (
        answer.get("response", {}).get("transports", []) if isinstance(answer, dict) else []
    )
    kind = "staff" if isinstance(person, StaffUser) else "customer"
    key = Passkey(
        kind=kind,
        customer_id=person.id if kind == "customer" else None,
        staff_id=person.id if kind == "staff" else None,
        credential_id=credential_id,
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
        transports=[str(t) for t in transports if isinstance(t, str) and _transport(t)],
        name=(name.strip() or "Passkey")[:100],
        created_at=ctx.now(),
    )
    session.add(key)
    session.flush()
    return key


def login_challenge(session: Session, ctx: Context, person: Person | None = None) -> Challenge:
    """Options to sign in with a passkey: any discoverable one (``person`` None, first factor)
    or one of ``person``'s (second factor)."""
    rp_id, _origin = relying_party(ctx)
    allowed = _descriptors(passkeys_of(session, person)) if person is not None else []
    options = generate_authentication_options(
        rp_id=rp_id,
        allow_credentials=allowed or None,
        user_verification=UserVerificationRequirement.REQUIRED
        if person is None
        else UserVerificationRequirement.PREFERRED,
    )
    return Challenge(options_to_json(options), bytes_to_base64url(options.challenge))


def authenticate(
    session: Session,
    ctx: Context,
    answer: Any,
    challenge: str,
    kind: str,
    person: Person | None = None,
) -> Passkey:
    """Verify a sign-in ``answer``; return the passkey used (its counter and last use are
    updated). As a first factor (``person`` None) the user must have been verified by the
    authenticator; as a second factor the passkey must be ``person``'s."""
    rp_id, origin = relying_party(ctx)
    raw_id = answer.get("id") if isinstance(answer, dict) else None
    if not isinstance(raw_id, str) or not raw_id:
        raise PasskeyError("The passkey could not be verified.")
    key = session.scalar(
        select(Passkey).where(Passkey.credential_id == raw_id, Passkey.kind == kind)
    )
    if key is None or (person is not None and _owner_id(key) != person.id):
        raise PasskeyError("This passkey is not registered here.")
    try:
        verified = verify_authentication_response(
            credential=_as_json(answer),
            expected_challenge=base64url_to_bytes(challenge),
            expected_rp_id=rp_id,
            expected_origin=origin,
            credential_public_key=key.public_key,
            credential_current_sign_count=key.sign_count,
            require_user_verification=person is None,
        )
    except (WebAuthnException, ValueError, KeyError, TypeError):
        raise PasskeyError("The passkey could not be verified.") from None
    key.sign_count = verified.new_sign_count
    key.last_used_at = ctx.now()
    return key


def _owner_id(key: Passkey) -> int | None:
    return key.staff_id if key.kind == "staff" else key.customer_id


def owner_of(session: Session, key: Passkey) -> Person | None:
    """The customer or staff user a passkey belongs to."""
    if key.kind == "staff":
        return session.get(StaffUser, key.staff_id)
    return session.get(Customer, key.customer_id)


def remove(session: Session, person: Person, passkey_id: int) -> Passkey | None:
    """Delete ``person``'s passkey ``passkey_id``; None when it is not theirs."""
    key = session.get(Passkey, passkey_id)
    if (
        key is None
        or _owner_id(key) != person.id
        or key.kind != ("staff" if isinstance(person, StaffUser) else "customer")
    ):
        return None
    session.delete(key)
    return key


def _as_json(answer: Any) -> str:
    if isinstance(answer, str):
        return answer
    if not isinstance(answer, dict):
        raise PasskeyError("The passkey could not be verified.")
    return json.dumps(answer)
