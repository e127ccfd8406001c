"""A local stand-in for the VIES ``checkVatService``, speaking its SOAP protocol.

Same envelope, namespaces and faults as the real service. Answers, like the EU's own test
service, are picked by the number: the first three digits after the country prefix choose a
fault or a negative answer (``301…`` = MS_UNAVAILABLE, ``200…`` = invalid, see
:data:`TEST_CODES`); any other number is valid when its check digits are right. A
:class:`SandboxState` lets tests and the demo take a member state down or force an answer.
"""

from __future__ import annotations

import asyncio
import secrets
import string
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from stdnum.eu import vat as eu_vat

from .protocol import (
    SERVICE_PATH,
    Answer,
    ProtocolError,
    answer_envelope,
    fault_envelope,
    parse_request,
    split_number,
)

__all__ = ["TEST_CODES", "SandboxState", "sample_number", "sandbox_routes"]

#: First three digits of the national number → the answer (as the EU test service does).
TEST_CODES = {
    "200": "invalid",
    "201": "INVALID_INPUT",
    "202": "INVALID_REQUESTER_INFO",
    "300": "SERVICE_UNAVAILABLE",
    "301": "MS_UNAVAILABLE",
    "302": "TIMEOUT",
    "400": "VAT_BLOCKED",
    "401": "IP_BLOCKED",
    "500": "GLOBAL_MAX_CONCURRENT_REQ",
    "501": "GLOBAL_MAX_CONCURRENT_REQ_TIME",
    "600": "MS_MAX_CONCURRENT_REQ",
    "601": "MS_MAX_CONCURRENT_REQ_TIME",
}
#: Member states whose registers give no name or address (VIES answers "---").
NO_TRADER_DATA = frozenset({"DE", "ES"})
_BRUSSELS = ZoneInfo("Europe/Brussels")
_XML = "text/xml; charset=utf-8"


@dataclass
class SandboxState:
    """What the stand-in answers besides its fixed rules.

    ``down``: countries whose register is unavailable (MS_UNAVAILABLE); ``forced``: a full
    number (``DE123456789``) → "valid", "invalid" or a fault code; ``delay``: seconds to wait
    before answering (to make the caller time out); ``requests``: every request received.
    """

    down: set[str] = field(default_factory=set)
    forced: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    requests: list[tuple[str, str, str]] = field(default_factory=list)


def sample_number(country: str, lead: str) -> str:
    """A number of ``country`` whose national part starts with ``lead`` and whose check digits
    are right (e.g. ``sample_number("DE", "301")`` for a member state that is down)."""
    code = "EL" if country.upper() == "GR" else country.upper()
    width = {"DE": 9, "IT": 11, "PT": 9, "AT": 8, "FI": 8, "DK": 8, "EL": 9, "PL": 10}.get(code, 9)
    stem = lead.ljust(width - 2, "0")
    for tail in range(100):
        candidate = f"{code}{stem}{tail:02d}"
        if code == "AT":
            candidate = f"ATU{stem[: width - 2]}{tail:02d}"[:11]
        if eu_vat.is_valid(candidate):
            return candidate
    raise ValueError(f"no sample number for {country} starting {lead}")


def _identifier() -> str:
    alphabet = string.ascii_uppercase + string.digits
    return "WAPI" + "".join(secrets.choice(alphabet) for _ in range(12))


def _outcome(state: SandboxState, country: str, number: str) -> str:
    full = f"{country}{number}"
    if full in state.forced:
        return state.forced[full]
    if country in state.down:
        return "MS_UNAVAILABLE"
    digits = number[1:] if country == "AT" and number.startswith("U") else number
    if digits in TEST_CODES or digits == "100":
        return "valid" if digits == "100" else TEST_CODES[digits]
    code = TEST_CODES.get(digits[:3])
    if code:
        return code
    return "valid" if eu_vat.is_valid(full) else "invalid"


def answer_for(
    state: SandboxState, payload: bytes, clock: Callable[[], datetime]
) -> tuple[int, bytes]:
    """The stand-in's HTTP status and body for a request ``payload``."""
    try:
        request = parse_request(payload)
    except ProtocolError:
        return 500, fault_envelope("INVALID_INPUT")
    state.requests.append((request.country, request.number, request.requester_number))
    country, number = split_number(request.country, request.number)
    if request.country != country or not number:
        return 500, fault_envelope("INVALID_INPUT")  # "GR" and empty numbers are refused
    requester = f"{request.requester_country}{request.requester_number}"
    if not request.requester_number or not eu_vat.is_valid(requester):
        return 500, fault_envelope("INVALID_REQUESTER_INFO")
    outcome = _outcome(state, country, number)
    if outcome not in ("valid", "invalid"):
        return 500, fault_envelope(outcome)
    now = clock().astimezone(_BRUSSELS)
    offset = now.strftime("%z")
    valid = outcome == "valid"
    name, address = "---", "---"
    if valid and country not in NO_TRADER_DATA:
        name = f"SANDBOX TRADER {number}"
        address = "1 RUE DE LA LOI\n1049 BRUXELLES"
    answer = Answer(
        country=country,
        number=number,
        request_date=f"{now.date().isoformat()}{offset[:3]}:{offset[3:]}",
        valid=valid,
        request_identifier=_identifier(),
        trader_name=name,
        trader_address=address,
    )
    return 200, answer_envelope(answer)


def sandbox_routes(
    state: SandboxState | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(_BRUSSELS),
) -> list[BaseRoute]:
    """The stand-in's route at :data:`SERVICE_PATH` (mount it under any prefix)."""
    current = state or SandboxState()

    async def service(request: Request) -> Response:
        payload = await request.body()
        if current.delay:
            await asyncio.sleep(current.delay)
        status, body = answer_for(current, payload, clock)
        return Response(body, status_code=status, media_type=_XML)

    return [Route(SERVICE_PATH, service, methods=["POST"], name="vies_sandbox")]
