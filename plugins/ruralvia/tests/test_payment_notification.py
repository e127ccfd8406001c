from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from facturo_ruralvia.notification import (
    NotificationMismatch,
    check_notification,
    read_notification,
)
from facturo_ruralvia.payment import PaymentAttempt, build_payment_form, new_attempt
from facturo_ruralvia.redsys import SignatureError, decode_parameters, signed_message
from facturo_ruralvia.responses import (
    ResponseKind,
    classify_response,
    describe_error,
    describe_response,
    is_payment_approved,
    is_refund_approved,
)
from facturo_ruralvia.settings import RuralviaSettings

KEY = "sq7HjrUOBfKmC576ILgskD5srU870gJ7"


@pytest.fixture
def attempt(settings: RuralviaSettings) -> PaymentAttempt:
    return new_attempt(settings, order="0726qI3H7sZx", amount=Decimal("49.99"), currency_code="EUR")


def _notification(**changes: str) -> dict[str, str]:
    fields = {
        "Ds_Date": "22%2F10%2F2021",
        "Ds_Hour": "22%3A51",
        "Ds_Amount": "4999",
        "Ds_Currency": "978",
        "Ds_Order": "0726qI3H7sZx",
        "Ds_MerchantCode": "999008881",
        "Ds_Terminal": "001",
        "Ds_Response": "0000",
        "Ds_TransactionType": "0",
        "Ds_AuthorisationCode": "052029",
    }
    fields.update(changes)
    return signed_message(KEY, fields, urlsafe=True)


def test_payment_form_reproduces_vector_r1(
    settings: RuralviaSettings, attempt: PaymentAttempt, vectors: dict[str, Any]
) -> None:
    r1 = vectors["hmac_sha256_v1"][0]
    form = build_payment_form(
        settings,
        attempt,
        notification_url="http://www.prueba.com/urlNotificacion.php",
        ok_url="http://www.prueba.com/urlOK.php",
        ko_url="http://www.prueba.com/urlKO.php",
    )
    assert form.action == "https://sis-t.redsys.es:25443/sis/realizarPago"
    assert form.fields == {
        "Ds_SignatureVersion": "HMAC_SHA256_V1",
        "Ds_MerchantParameters": r1["Ds_MerchantParameters"],
        "Ds_Signature": r1["Ds_Signature"],
    }


def test_payment_form_carries_language_and_merchant_data(attempt: PaymentAttempt) -> None:
    settings = RuralviaSettings("999008881", "1", KEY, language="en")
    form = build_payment_form(
        settings,
        attempt,
        notification_url="https://a/n",
        ok_url="https://a/ok",
        ko_url="https://a/ko",
        merchant_data="PRO-2026-000123",
        description="Licencia",
    )
    params = decode_parameters(form.fields["Ds_MerchantParameters"])
    assert params["DS_MERCHANT_CONSUMERLANGUAGE"] == "002"
    assert params["DS_MERCHANT_MERCHANTDATA"] == "PRO-2026-000123"
    assert params["DS_MERCHANT_PRODUCTDESCRIPTION"] == "Licencia"


def test_payment_form_html_has_no_inline_script(
    settings: RuralviaSettings, attempt: PaymentAttempt
) -> None:
    form = build_payment_form(
        settings,
        attempt,
        notification_url="https://a/n",
        ok_url="https://a/ok?x=1&y=2",
        ko_url="https://a/ko",
    )
    html = form.render_html()
    assert "<script" not in html
    assert 'action="https://sis-t.redsys.es:25443/sis/realizarPago"' in html
    assert form.fields["Ds_Signature"] in html
    with_script = form.render_html(script_src="/static/ruralvia/autosubmit.js")
    assert '<script src="/static/ruralvia/autosubmit.js" defer></script>' in with_script


def test_new_attempt_rejects_bad_input(settings: RuralviaSettings) -> None:
    with pytest.raises(ValueError):
        new_attempt(settings, order="AB12", amount=Decimal("1"), currency_code="EUR")
    with pytest.raises(ValueError):
        new_attempt(settings, order="1234", amount=Decimal("0.001"), currency_code="EUR")


def test_vector_n1_approves_its_attempt(attempt: PaymentAttempt, vectors: dict[str, Any]) -> None:
    n1 = vectors["notifications_sha256_v1"][0]
    fields = read_notification(n1["key"], n1)
    outcome = check_notification(fields, attempt)
    assert outcome.approved and outcome.status == "approved"
    assert outcome.amount == Decimal("49.99") and outcome.currency == "EUR"
    assert outcome.authorisation_code == "052029"
    assert outcome.message.en == "Transaction authorised"


def test_unsigned_or_forged_notification_is_rejected(vectors: dict[str, Any]) -> None:
    n1 = vectors["notifications_sha256_v1"][0]
    with pytest.raises(SignatureError):
        read_notification(KEY, {**n1, "Ds_Signature": n1["forged_Ds_Signature_must_fail"]})
    with pytest.raises(SignatureError):
        read_notification(KEY, {"Ds_MerchantParameters": n1["Ds_MerchantParameters"]})


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("Ds_Amount", "4998"),
        ("Ds_Currency", "840"),
        ("Ds_MerchantCode", "999008882"),
        ("Ds_Terminal", "002"),
        ("Ds_TransactionType", "3"),
        ("Ds_Response", ""),
    ],
)
def test_mismatched_notification_names_the_field(
    attempt: PaymentAttempt, field: str, value: str
) -> None:
    fields = read_notification(KEY, _notification(**{field: value}))
    with pytest.raises(NotificationMismatch) as info:
        check_notification(fields, attempt)
    assert info.value.field_name == field
    assert field in str(info.value)


def test_notification_for_another_order_is_a_mismatch(attempt: PaymentAttempt) -> None:
    fields = read_notification(KEY, _notification(Ds_Order="1111AAAA"))
    with pytest.raises(NotificationMismatch, match="Ds_Order"):
        check_notification(fields, attempt)


def test_padded_terminal_matches(attempt: PaymentAttempt) -> None:
    outcome = check_notification(read_notification(KEY, _notification(Ds_Terminal="1")), attempt)
    assert outcome.approved


@pytest.mark.parametrize(
    ("code", "approved"),
    [
        ("0000", True),
        ("0099", True),
        ("99", True),
        ("0100", False),
        ("0190", False),
        ("0900", False),
        ("0400", False),
        ("9915", False),
    ],
)
def test_response_code_decides_the_outcome(
    attempt: PaymentAttempt, code: str, approved: bool
) -> None:
    outcome = check_notification(read_notification(KEY, _notification(Ds_Response=code)), attempt)
    assert outcome.approved is approved
    assert outcome.response_code == code
    assert outcome.status == ("approved" if approved else "failed")


def test_failed_outcome_explains_itself_in_both_languages(attempt: PaymentAttempt) -> None:
    fields = read_notification(
        KEY, _notification(Ds_Response="0129", Ds_AuthorisationCode="++++++")
    )
    outcome = check_notification(fields, attempt)
    assert not outcome.approved
    assert outcome.authorisation_code is None
    assert "CVV2" in outcome.message.es and "security code" in outcome.message.en
    assert outcome.message.text("es") == outcome.message.es


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        ("0000", ResponseKind.AUTHORISED),
        ("0042", ResponseKind.AUTHORISED),
        ("0900", ResponseKind.REFUND_OR_CONFIRMATION),
        ("0400", ResponseKind.CANCELLATION),
        ("0101", ResponseKind.DENIED),
        ("9999", ResponseKind.DENIED),
    ],
)
def test_classify_response(code: str, kind: ResponseKind) -> None:
    assert classify_response(code) is kind


def test_approval_depends_on_transaction_type() -> None:
    assert is_payment_approved("0000", "0")
    assert not is_payment_approved("0000", "1")
    assert not is_payment_approved("garbage", "0")
    assert is_refund_approved("0900", "3")
    assert not is_refund_approved("0000", "3")


def test_descriptions() -> None:
    assert describe_response("0913").en == "Duplicate order number"
    unknown = describe_response("0777")
    assert "0777" in unknown.es and "0777" in unknown.en
    assert describe_error("SIS0057").es == "El importe a devolver supera el permitido"
    assert "SIS9999" in describe_error("SIS9999").en
