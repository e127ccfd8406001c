"""Email addresses: one validation for every place an address comes in (registration, the
account page, staff forms, the API, ticket intake), with ``email-validator``."""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email

MAX_LENGTH = 254


class InvalidEmail(ValueError):
    """The address is not acceptable; the message is a message id for people."""


def clean_email(raw: str) -> str:
    """The normalised (lowercased) address, or InvalidEmail. Refuses control characters
    (CR/LF would inject mail headers), display names, quoted local parts and overlong
    addresses; does not look the domain up (no network in the request path)."""
    text = raw.strip()
    if not text:
        raise InvalidEmail("This field is required.")
    if len(text) > MAX_LENGTH or any(ord(ch) < 32 or ord(ch) == 127 for ch in text):
        raise InvalidEmail("Enter a valid email address.")
    try:
        result = validate_email(
            text,
            check_deliverability=False,
            # Lets through the reserved ``.test`` domain (RFC 2606; test installations use it);
            # the other special-use names (localhost, .local, .invalid…) stay refused.
            test_environment=True,
            allow_quoted_local=False,
            allow_display_name=False,
            allow_domain_literal=False,
        )
    except EmailNotValidError:
        raise InvalidEmail("Enter a valid email address.") from None
    return str(result.normalized).lower()


def is_valid_email(raw: str) -> bool:
    """True when ``raw`` is an acceptable address (see clean_email)."""
    try:
        clean_email(raw)
    except InvalidEmail:
        return False
    return True
