"""The checkVatApprox envelope: built as VIES expects, answers and faults read by namespace."""

from __future__ import annotations

import pytest

from facturo_vies.protocol import (
    Answer,
    Fault,
    ProtocolError,
    Request,
    answer_envelope,
    fault_envelope,
    parse_answer,
    parse_request,
    request_envelope,
    split_number,
)

# The reference answer, with the prefixes VIES uses (env/ns2) — parsing must not care.
REFERENCE_ANSWER = b"""<env:Envelope xmlns:env="http://schemas.xmlsoap.org/soap/envelope/"><env:Body>
<ns2:checkVatApproxResponse xmlns:ns2="urn:ec.europa.eu:taxud:vies:services:checkVat:types">
<ns2:countryCode>DE</ns2:countryCode><ns2:vatNumber>999999999</ns2:vatNumber>
<ns2:requestDate>2026-03-02+01:00</ns2:requestDate><ns2:valid>true</ns2:valid>
<ns2:traderName>---</ns2:traderName><ns2:traderCompanyType>---</ns2:traderCompanyType>
<ns2:traderAddress>---</ns2:traderAddress><ns2:requestIdentifier>WAPIEXAMPLE00001</ns2:requestIdentifier>
</ns2:checkVatApproxResponse></env:Body></env:Envelope>"""


def test_request_carries_the_requester_so_answers_have_a_consultation_number() -> None:
    envelope = request_envelope(Request("DE", "999999999", "ES", "B12345674"))
    assert b"urn:ec.europa.eu:taxud:vies:services:checkVatApprox" not in envelope
    assert b"urn:ec.europa.eu:taxud:vies:services:checkVat:types" in envelope
    assert b"checkVatApprox>" in envelope
    parsed = parse_request(envelope)
    assert parsed == Request("DE", "999999999", "ES", "B12345674")


def test_reference_answer_is_read_whatever_the_prefixes() -> None:
    answer = parse_answer(REFERENCE_ANSWER)
    assert isinstance(answer, Answer)
    assert answer.valid is True
    assert answer.request_identifier == "WAPIEXAMPLE00001"
    assert answer.request_date == "2026-03-02+01:00"
    assert (answer.country, answer.number, answer.trader_name) == ("DE", "999999999", "---")
    renamed = REFERENCE_ANSWER.replace(b"ns2:", b"x:").replace(b"xmlns:ns2", b"xmlns:x")
    assert parse_answer(renamed) == answer


def test_faults_and_what_asking_again_can_change() -> None:
    for code, retry in (
        ("MS_UNAVAILABLE", True),
        ("TIMEOUT", True),
        ("SERVER_BUSY", True),
        ("MS_MAX_CONCURRENT_REQ", True),
        ("INVALID_INPUT", False),
        ("VAT_BLOCKED", False),
    ):
        fault = parse_answer(fault_envelope(code))
        assert fault == Fault(code, "soap:Server")
        assert fault.retryable is retry


def test_generated_answer_round_trips() -> None:
    answer = Answer(
        "FR", "40303265045", "2026-03-02+01:00", True, "WAPI0000000000AB", "ACME", "PARIS"
    )
    assert parse_answer(answer_envelope(answer)) == answer


@pytest.mark.parametrize(
    "payload",
    [
        b"not xml",
        b"<a/>",
        b'<!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>',
        b"<env:Envelope xmlns:env='http://schemas.xmlsoap.org/soap/envelope/'/>",
    ],
)
def test_garbage_and_dtds_are_refused(payload: bytes) -> None:
    with pytest.raises(ProtocolError):
        parse_answer(payload)


def test_numbers_are_split_as_vies_wants_them() -> None:
    assert split_number("DE", "de 123.456-789") == ("DE", "123456789")
    assert split_number("GR", "EL094259216") == ("EL", "094259216")
    assert split_number("GR", "094259216") == ("EL", "094259216")
    with pytest.raises(ProtocolError):
        request_envelope(Request("DE", "12345678901234", "ES", "B12345674"))
