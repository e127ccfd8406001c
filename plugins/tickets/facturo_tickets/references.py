"""Ticket references: "T-1234", the subject tag "[#T-1234]" and our outgoing Message-IDs.

Our outgoing mail carries Message-IDs of the form ``<ticket-T-1234-REPLYID@our.domain>`` so
that a reply names its ticket in In-Reply-To/References even when the customer's mail client
rewrote the subject.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_EXACT_REF_RE = re.compile(r"#?T-(\d{1,12})", re.IGNORECASE)
_SUBJECT_TAG_RE = re.compile(r"\[\s*#?\s*T-(\d{1,12})\s*\]", re.IGNORECASE)
_MESSAGE_ID_RE = re.compile(r"<?\s*ticket-T-(\d{1,12})-([A-Za-z0-9._]+)@([^>\s]+?)\s*>?", re.I)
_REPLY_ID_RE = re.compile(r"[A-Za-z0-9._]+")
_ANGLE_ID_RE = re.compile(r"<[^<>\s]+>")


def format_reference(number: int) -> str:
    """Return the public reference of ticket ``number``: ``format_reference(1234) == "T-1234"``."""
    if number <= 0:
        raise ValueError(f"ticket numbers are positive, got {number}")
    return f"T-{number}"


def parse_reference(text: str) -> int | None:
    """Return the ticket number of a reference typed by a person ("T-1234", "#t-1234"), else None.

    The whole of ``text`` (surrounding spaces aside) must be the reference.
    """
    match = _EXACT_REF_RE.fullmatch(text.strip())
    return int(match.group(1)) if match else None


def subject_tag(number: int) -> str:
    """Return the tag we put in the subject of every ticket email: ``"[#T-1234]"``."""
    return f"[#{format_reference(number)}]"


def find_subject_reference(subject: str) -> int | None:
    """Return the ticket number of the first "[#T-1234]" tag in ``subject``, else None.

    Only the bracketed tag counts: a bare "T-1234" in a subject is too easily a product code.
    """
    match = _SUBJECT_TAG_RE.search(subject)
    return int(match.group(1)) if match else None


def strip_subject_tags(subject: str) -> str:
    """Return ``subject`` without any "[#T-1234]" tag, with whitespace collapsed."""
    return " ".join(_SUBJECT_TAG_RE.sub(" ", subject).split())


def make_message_id(number: int, reply_id: str | int, domain: str) -> str:
    """Return the Message-ID for an outgoing email about ticket ``number``.

    ``reply_id`` identifies the message within the ticket (the reply's id, or a random token) and
    may hold only letters, digits, "." and "_"; ``domain`` is our mail domain.
    """
    reply = str(reply_id)
    if not _REPLY_ID_RE.fullmatch(reply):
        raise ValueError(f"reply id may hold only letters, digits, '.' and '_': {reply!r}")
    if not domain or any(c in domain for c in "<>@ "):
        raise ValueError(f"not a mail domain: {domain!r}")
    return f"<ticket-{format_reference(number)}-{reply}@{domain.lower()}>"


def parse_message_id(message_id: str, our_domains: Iterable[str]) -> int | None:
    """Return the ticket number named by one of our own Message-IDs, else None.

    A Message-ID in our scheme but under a domain that is not ours is ignored.
    """
    match = _MESSAGE_ID_RE.fullmatch(message_id.strip())
    if match is None:
        return None
    domain = match.group(3).lower()
    if domain not in {d.lower() for d in our_domains}:
        return None
    return int(match.group(1))


def find_header_reference(
    in_reply_to: str | None, references: str | None, our_domains: Iterable[str]
) -> int | None:
    """Return the ticket number named by In-Reply-To, else by References, else None.

    In-Reply-To is the message being answered, so it wins; within References the newest
    (last) of our Message-IDs wins.
    """
    domains = tuple(our_domains)
    for header in (in_reply_to, references):
        if not header:
            continue
        for message_id in reversed(_ANGLE_ID_RE.findall(header)):
            number = parse_message_id(message_id, domains)
            if number is not None:
                return number
    return None
