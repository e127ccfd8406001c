"""Parse one inbound RFC 822 message into what the ticket intake needs to know.

Pure: no database, no settings lookup. The caller passes our mail domains and the addresses
of the departments; :func:`facturo_tickets.decision.decide_action` then says what to do.
"""

from __future__ import annotations

import mimetypes
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from email import message_from_bytes, policy
from email.header import decode_header, make_header
from email.message import EmailMessage, Message
from email.utils import getaddresses, parseaddr, parsedate_to_datetime
from typing import cast

from facturo.plugin import is_valid_email

from .htmltext import html_to_text
from .loops import LoopReason, is_automatic
from .references import find_header_reference, find_subject_reference, strip_subject_tags
from .trimming import has_forward_marker, trim_reply

_REPLY_PREFIX = r"(?:re|aw|res|sv|antw)"
_FORWARD_PREFIX = r"(?:fwd?|rv|wg|tr|enc)"
_PREFIX_RE = re.compile(
    rf"^\s*(?P<kind>{_REPLY_PREFIX}|{_FORWARD_PREFIX})\s*(?:\[\d+\]|\(\d+\))?\s*:\s*",
    re.IGNORECASE,
)
_FORWARD_RE = re.compile(rf"^{_FORWARD_PREFIX}$", re.IGNORECASE)
_UNSAFE_FILENAME = re.compile(r"[\x00-\x1f\x7f]")
_MAX_FILENAME = 200


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file that came with the message, as declared by the sender (not yet checked)."""

    filename: str
    content_type: str
    content: bytes

    @property
    def size(self) -> int:
        """Size of the content in bytes."""
        return len(self.content)


@dataclass(frozen=True, slots=True)
class ParsedMessage:
    """What the intake knows about one inbound message. Addresses are lower-cased."""

    message_id: str | None
    date: datetime | None
    sender: str
    sender_name: str
    to: tuple[str, ...]
    cc: tuple[str, ...]
    delivered_to: tuple[str, ...]
    department: str | None
    """The first department address the message was delivered to, or None."""
    original_subject: str
    subject: str
    """The subject without Re:/Fwd:-style prefixes and without the "[#T-1234]" tag."""
    reference: int | None
    """Ticket number named by the subject tag, else by In-Reply-To/References."""
    is_forward: bool
    body: str
    """The whole text body (text/plain preferred, else the HTML part as text)."""
    trimmed_body: str
    """The body without quoted history and signatures; the full body for a forward."""
    attachments: tuple[Attachment, ...]
    loop: LoopReason | None
    """Why the message is automatic (never answer it), or None for a message a person wrote."""

    @property
    def is_automatic(self) -> bool:
        """True when the message must be dropped to prevent a mail loop."""
        return self.loop is not None


def parse_message(
    raw: bytes, our_domains: Iterable[str], department_addresses: Iterable[str]
) -> ParsedMessage:
    """Parse the RFC 822 bytes ``raw`` of an inbound message.

    ``our_domains`` are the mail domains we send from (for loop detection and for our
    Message-IDs); ``department_addresses`` are the support addresses of the departments.
    Never raises on malformed mail: missing parts come back empty or None.
    """
    domains = tuple(d.strip().lower() for d in our_domains if d.strip())
    departments = {a.strip().lower() for a in department_addresses if a.strip()}
    # policy.default makes every part an EmailMessage and decodes RFC 2047/2231 for us.
    message = message_from_bytes(raw, policy=policy.default)

    sender_name, sender = _sender(message)
    to = _addresses(message, "To")
    cc = _addresses(message, "Cc")
    delivered_to = _addresses(message, "Delivered-To") + _addresses(message, "X-Original-To")
    # The envelope recipient is the surest sign of which address was written to.
    department = next((a for a in (*delivered_to, *to, *cc) if a in departments), None)

    original_subject = " ".join(_header(message, "Subject").split())
    first_prefix, subject = _clean_subject(original_subject)
    reference = find_subject_reference(original_subject)
    if reference is None:
        reference = find_header_reference(
            _header(message, "In-Reply-To"), _header(message, "References"), domains
        )

    body_part = _body_part(message)
    body = _part_text(body_part) if body_part is not None else ""
    is_forward = bool(first_prefix and _FORWARD_RE.match(first_prefix)) or (
        first_prefix is None and has_forward_marker(body)
    )
    trimmed = body.strip() if is_forward else trim_reply(body)

    return ParsedMessage(
        message_id=_header(message, "Message-ID").strip() or None,
        date=_date(message),
        sender=sender,
        sender_name=sender_name,
        to=to,
        cc=cc,
        delivered_to=delivered_to,
        department=department,
        original_subject=original_subject,
        subject=subject,
        reference=reference,
        is_forward=is_forward,
        body=body.strip(),
        trimmed_body=trimmed,
        attachments=tuple(_attachments(message, body_part)),
        loop=is_automatic(message, domains),
    )


def clean_subject(subject: str) -> str:
    """Return ``subject`` without leading Re:/RE:/Fwd:/RV:/Fw:/AW: prefixes and ticket tags."""
    return _clean_subject(subject)[1]


def _clean_subject(subject: str) -> tuple[str | None, str]:
    # Prefixes and the tag interleave ("RE: [#T-1] Re: x"), so strip the tag first.
    text = strip_subject_tags(subject)
    first: str | None = None
    while match := _PREFIX_RE.match(text):
        first = first or match.group("kind")
        text = text[match.end() :]
    return first, text.strip()


def _header(message: Message, name: str) -> str:
    try:
        value = message.get(name)
    except Exception:  # a header the parser cannot make sense of counts as absent
        return ""
    return "" if value is None else str(value)


def _addresses(message: Message, name: str) -> tuple[str, ...]:
    values: list[str] = []
    try:
        for value in message.get_all(name, []) or []:
            values.append(str(value))
    except Exception:  # an unparseable address header counts as absent
        return ()
    found: list[str] = []
    for _name, address in getaddresses(values):
        address = address.strip().lower()
        if is_valid_email(address) and address not in found:
            found.append(address)
    return tuple(found)


def _sender(message: Message) -> tuple[str, str]:
    name, address = parseaddr(_header(message, "From"))
    address = address.strip().lower()
    # The one validation every address gets (no CR/LF, a real domain): a bad sender is ignored.
    return name.strip(), address if is_valid_email(address) else ""


def _date(message: Message) -> datetime | None:
    value = _header(message, "Date")
    if not value:
        return None
    try:
        return parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None


def _body_part(message: EmailMessage) -> EmailMessage | None:
    # get_body() knows mixed/alternative/related, not multipart/report (a bounce's human part).
    if message.get_content_type() != "multipart/report":
        try:
            part = message.get_body(preferencelist=("plain", "html"))
        except Exception:
            part = None
        if part is not None:
            return cast(EmailMessage, part)
    return _first_text(message)


def _first_text(message: EmailMessage) -> EmailMessage | None:
    for part in message.walk():
        if part.get_content_type() in ("text/plain", "text/html") and not _is_attachment(part):
            return part
    return None


def _part_text(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    charset: str = part.get_content_charset() or "utf-8"
    text: str
    try:
        text = payload.decode(charset, errors="replace")
    except LookupError:  # an unknown charset name
        text = payload.decode("utf-8", errors="replace")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if part.get_content_type() == "text/html":
        text = html_to_text(text)
    return text


def _is_attachment(part: Message) -> bool:
    return part.get_content_disposition() == "attachment"


def _attachments(message: EmailMessage, body_part: Message | None) -> list[Attachment]:
    found: list[Attachment] = []
    body_siblings = _alternatives_of(message, body_part)
    for part in _leaf_parts(message):
        if part is body_part or any(part is sibling for sibling in body_siblings):
            continue
        filename = _filename(part)
        content_type = part.get_content_type()
        if part.get_content_maintype() == "text" and not filename and not _is_attachment(part):
            continue  # a stray text part, such as a list footer, is not a file
        if part.get_content_type() == "message/rfc822":
            inner = part.get_payload()
            inner_message = inner[0] if isinstance(inner, list) and inner else None
            content = inner_message.as_bytes() if isinstance(inner_message, Message) else b""
        else:
            payload = part.get_payload(decode=True)
            content = payload if isinstance(payload, bytes) else b""
        if not filename:
            extension = ".eml" if content_type == "message/rfc822" else None
            extension = extension or mimetypes.guess_extension(content_type) or ".bin"
            filename = f"attachment-{len(found) + 1}{extension}"
        found.append(Attachment(filename=filename, content_type=content_type, content=content))
    return found


def _leaf_parts(message: Message) -> Iterable[Message]:
    # message.walk() would descend into an attached message/rfc822; keep that whole instead.
    if message.get_content_type() == "message/rfc822" or not message.is_multipart():
        yield message
        return
    payload = message.get_payload()
    if isinstance(payload, list):
        for part in payload:
            if isinstance(part, Message):
                yield from _leaf_parts(part)


def _alternatives_of(message: Message, body_part: Message | None) -> Sequence[Message]:
    """The other renderings of the body (the HTML twin of a text/plain body), not files."""
    if body_part is None:
        return ()
    for part in message.walk():
        if part.get_content_type() != "multipart/alternative":
            continue
        payload = part.get_payload()
        if not isinstance(payload, list):
            continue
        children = [child for child in payload if isinstance(child, Message)]
        if any(_contains(child, body_part) for child in children):
            return [
                leaf
                for child in children
                for leaf in _leaf_parts(child)
                if leaf.get_content_maintype() == "text" and not _is_attachment(leaf)
            ]
    return ()


def _contains(part: Message, target: Message) -> bool:
    return any(leaf is target for leaf in _leaf_parts(part))


def _filename(part: Message) -> str:
    try:
        name = part.get_filename()
    except Exception:
        name = None
    if not name:
        return ""
    if "=?" in name:  # RFC 2047 inside a quoted parameter: not standard, but Outlook does it
        try:
            name = str(make_header(decode_header(name)))
        except Exception:
            pass
    return sanitize_filename(name)


def sanitize_filename(name: str) -> str:
    """Return ``name`` safe to show and store: no directories, no control characters.

    Returns "" when nothing usable is left.
    """
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE_FILENAME.sub("", name).strip().strip(".")
    if len(name) > _MAX_FILENAME:
        stem, dot, extension = name.rpartition(".")
        if dot and len(extension) <= 10:
            name = stem[: _MAX_FILENAME - len(extension) - 1] + "." + extension
        else:
            name = name[:_MAX_FILENAME]
    return name
