"""Trim an email reply down to what the sender wrote: no quoted history, no signature.

The rules are line based and cover what the common clients produce: ">" quoting, the
"On … wrote:" / "El … escribió:" attribution (Gmail, Apple Mail, Thunderbird), Outlook's
"-----Original Message-----" line or "From: … Sent: …" header block, the "-- " signature
delimiter and the one-line signatures mobile clients append.
"""

from __future__ import annotations

import re

_ATTRIBUTION = re.compile(
    r"""^\s*(?:
        On\s.{1,300}\swrote\s?:
      | El\s.{1,300}\sescribi[óo]\s?:
      | Le\s.{1,300}\sa\s[ée]crit\s?:
      | Am\s.{1,300}\sschrieb.{0,300}:
      | Em\s.{1,300}\sescreveu\s?:
    )\s*$""",
    re.IGNORECASE | re.VERBOSE,
)
_ORIGINAL_MESSAGE = re.compile(
    r"^\s*-{2,}\s*(?:original message|mensaje original|message d'origine|"
    r"urspr[üu]ngliche nachricht)\s*-{2,}\s*$",
    re.IGNORECASE,
)
_HEADER_FROM = re.compile(r"^\s*\*?(?:from|de|von)\s*:\*?\s*\S", re.IGNORECASE)
_HEADER_SENT = re.compile(
    r"^\s*\*?(?:sent|date|enviado(?: el)?|fecha|gesendet|envoy[ée])\s*:\*?\s*\S", re.IGNORECASE
)
_UNDERSCORES = re.compile(r"^\s*_{10,}\s*$")
_FORWARD_MARKER = re.compile(
    r"""^\s*(?:
        -{3,}\s*(?:forwarded\ message|mensaje\ reenviado|message\ transf[ée]r[ée]|
                  weitergeleitete\ nachricht)\s*-{3,}
      | begin\ forwarded\ message\s?:
      | inicio\ del\ mensaje\ reenviado\s?:
    )\s*$""",
    re.IGNORECASE | re.VERBOSE,
)
_MOBILE_SIGNATURE = re.compile(
    r"""^\s*(?:
        sent\ from\ my\ \S.{0,60}
      | sent\ from\ (?:mail|yahoo\ mail|outlook)\ for\ \S.{0,40}
      | sent\ with\ proton\s?mail.{0,40}
      | (?:get|obtener|descargar)\ outlook\ (?:for|para)\ (?:ios|android).{0,20}
      | enviado\ desde\ mi\ \S.{0,60}
      | enviado\ desde\ (?:outlook|yahoo\ mail|correo)\ (?:for|para)\ \S.{0,40}
    )\s*$""",
    re.IGNORECASE | re.VERBOSE,
)
_MAX_ATTRIBUTION_LINES = 3  # Gmail wraps a long "On … wrote:" line in text/plain


def is_quoted(line: str) -> bool:
    """Return True when ``line`` is quoted history (it starts with ">")."""
    return line.lstrip(" \t").startswith(">")


def has_forward_marker(text: str) -> bool:
    """Return True when ``text`` holds an unquoted "Forwarded message" marker line."""
    return any(_FORWARD_MARKER.match(line) for line in text.splitlines() if not is_quoted(line))


def trim_reply(text: str) -> str:
    """Return the part of a reply its sender wrote, without quoted history and signatures.

    Quoted (">") lines are dropped wherever they are, so inline answers between quotes stay.
    An attribution line followed by ">" lines is dropped with them; one followed by unquoted
    text (HTML quoting flattened by the sender's client) ends the message, as do Outlook's
    original-message headers, a "-- " signature delimiter and a mobile signature line.
    """
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    kept: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if is_quoted(line):
            i += 1
            continue
        span = _attribution_span(lines, i)
        if span:
            after = _next_non_blank(lines, i + span)
            if after is not None and is_quoted(lines[after]):
                i += span
                continue
            break
        if _is_signature_delimiter(line) or _MOBILE_SIGNATURE.match(line):
            break
        if _ORIGINAL_MESSAGE.match(line) or _is_outlook_header(lines, i):
            break
        if _UNDERSCORES.match(line):
            following = _next_non_blank(lines, i + 1)
            if following is not None and _is_outlook_header(lines, following):
                break
        kept.append(line.rstrip())
        i += 1
    return _tidy(kept)


def _attribution_span(lines: list[str], start: int) -> int:
    joined = ""
    for count in range(1, _MAX_ATTRIBUTION_LINES + 1):
        index = start + count - 1
        if index >= len(lines) or (count > 1 and not lines[index].strip()):
            return 0
        joined = f"{joined} {lines[index].strip()}" if joined else lines[index].strip()
        if _ATTRIBUTION.match(joined):
            return count
    return 0


def _is_outlook_header(lines: list[str], start: int) -> bool:
    if not _HEADER_FROM.match(lines[start]):
        return False
    return any(_HEADER_SENT.match(line) for line in lines[start + 1 : start + 4])


def _is_signature_delimiter(line: str) -> bool:
    # RFC 3676 says "-- "; many clients strip the trailing space.
    return line.rstrip() == "--"


def _next_non_blank(lines: list[str], start: int) -> int | None:
    for index in range(start, len(lines)):
        if lines[index].strip():
            return index
    return None


def _tidy(lines: list[str]) -> str:
    out: list[str] = []
    for line in lines:
        if not line.strip() and (not out or not out[-1].strip()):
            continue
        out.append(line)
    return "\n".join(out).strip()
