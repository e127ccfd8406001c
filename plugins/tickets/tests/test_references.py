from __future__ import annotations

import pytest

from facturo_tickets.references import (
    find_header_reference,
    find_subject_reference,
    format_reference,
    make_message_id,
    parse_message_id,
    parse_reference,
    strip_subject_tags,
    subject_tag,
)


def test_reference_round_trip() -> None:
    assert format_reference(1234) == "T-1234"
    assert parse_reference("T-1234") == 1234
    assert parse_reference(" #t-77 ") == 77


@pytest.mark.parametrize("text", ["", "T-", "T-12a", "ticket T-12", "1234"])
def test_parse_reference_rejects_anything_else(text: str) -> None:
    assert parse_reference(text) is None


def test_format_reference_refuses_non_positive_numbers() -> None:
    with pytest.raises(ValueError):
        format_reference(0)


def test_subject_tag_is_found_anywhere_in_the_subject() -> None:
    assert subject_tag(1234) == "[#T-1234]"
    assert find_subject_reference("RE: [#T-1234] Problema con el pago") == 1234
    assert find_subject_reference("Problema [ #t-9 ]") == 9


def test_a_bare_reference_in_a_subject_is_not_a_tag() -> None:
    assert find_subject_reference("Duda sobre el modelo T-1000") is None


def test_strip_subject_tags() -> None:
    assert strip_subject_tags("Re: [#T-1234]  Problema  con el pago") == "Re: Problema con el pago"


def test_message_id_round_trip() -> None:
    message_id = make_message_id(1234, "r56", "Facturo.es")
    assert message_id == "<ticket-T-1234-r56@facturo.es>"
    assert parse_message_id(message_id, ["facturo.es"]) == 1234


def test_message_id_under_another_domain_is_not_ours() -> None:
    assert parse_message_id("<ticket-T-1234-r56@evil.example>", ["facturo.es"]) is None
    assert parse_message_id("<CAF1234@mail.gmail.com>", ["facturo.es"]) is None


@pytest.mark.parametrize("reply_id", ["a b", "x@y", "<z>", ""])
def test_make_message_id_refuses_unsafe_reply_ids(reply_id: str) -> None:
    with pytest.raises(ValueError):
        make_message_id(1, reply_id, "facturo.es")


def test_in_reply_to_wins_over_references() -> None:
    found = find_header_reference(
        "<ticket-T-20-r2@facturo.es>",
        "<ticket-T-10-r1@facturo.es> <CAF999@mail.gmail.com>",
        ["facturo.es"],
    )
    assert found == 20


def test_newest_of_our_ids_in_references_wins() -> None:
    references = (
        "<ticket-T-10-r1@facturo.es>\r\n <ticket-T-11-r2@facturo.es> <CAF999@mail.gmail.com>"
    )
    assert find_header_reference("<CAF999@mail.gmail.com>", references, ["facturo.es"]) == 11
    assert find_header_reference(None, None, ["facturo.es"]) is None
