"""Asking VIES over HTTP: one ``checkVatApprox`` call and what it came to."""

from __future__ import annotations

import time
from dataclasses import dataclass

import httpx

from .protocol import Answer, Fault, ProtocolError, Request, parse_answer, request_envelope


@dataclass(frozen=True)
class Outcome:
    """A call's result: ``status`` valid / invalid / unavailable / error, the answer or the
    fault code, and the raw messages kept as proof."""

    status: str
    answer: Answer | None
    fault_code: str
    request_xml: str
    response_xml: str
    duration_ms: int


def call(endpoint: str, request: Request, timeout: float) -> Outcome:
    """POST the envelope to ``endpoint`` and read the answer; never raises for VIES trouble
    (a fault, a timeout, a network error or garbage is an "unavailable" outcome)."""
    envelope = request_envelope(request)
    started = time.monotonic()
    body = b""
    try:
        with httpx.Client(timeout=timeout) as client:
            response = client.post(
                endpoint,
                content=envelope,
                headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""'},
            )
        body = response.content
        parsed: Answer | Fault = parse_answer(body)
    except httpx.TimeoutException:
        parsed = Fault("NETWORK_TIMEOUT", "client")
    except httpx.HTTPError:
        parsed = Fault("NETWORK_ERROR", "client")
    except ProtocolError:
        parsed = Fault("BAD_ANSWER", "client")
    elapsed = int((time.monotonic() - started) * 1000)
    text = body.decode("utf-8", "replace")[:20000]
    if isinstance(parsed, Answer):
        status = "valid" if parsed.valid else "invalid"
        return Outcome(status, parsed, "", envelope.decode(), text, elapsed)
    status = "unavailable" if parsed.retryable else "error"
    return Outcome(status, None, parsed.code, envelope.decode(), text, elapsed)
