from __future__ import annotations

import base64
from typing import Any

import pytest

from facturo_ruralvia.redsys import (
    MalformedMessage,
    SignatureError,
    decode_parameters,
    encode_parameters,
    merchant_signature,
    order_key,
    read_signed_message,
    sign,
    signed_message,
    verify_notification,
    verify_request,
)

KEY = "sq7HjrUOBfKmC576ILgskD5srU870gJ7"


def test_order_key_known_answer() -> None:
    assert base64.b64encode(order_key(KEY, "012345678")).decode() == "ub0/L8+E9+9ITQJwk3SvHA=="


def test_request_vectors(vectors: dict[str, Any]) -> None:
    for vector in vectors["hmac_sha256_v1"]:
        params = vector["Ds_MerchantParameters"]
        assert merchant_signature(vector["key"], params) == vector["Ds_Signature"], vector["id"]


def test_r1_parameters_and_order_key_are_reproduced(vectors: dict[str, Any]) -> None:
    r1 = vectors["hmac_sha256_v1"][0]
    assert encode_parameters(r1["params_json"]) == r1["Ds_MerchantParameters"]
    assert base64.b64encode(order_key(r1["key"], r1["order"])).decode() == r1["order_key_b64"]
    assert decode_parameters(r1["Ds_MerchantParameters"]) == r1["params_json"]


def test_notification_vectors(vectors: dict[str, Any]) -> None:
    for vector in vectors["notifications_sha256_v1"]:
        fields = verify_notification(
            vector["key"], vector["Ds_MerchantParameters"], vector["Ds_Signature"]
        )
        assert fields["Ds_Response"] == "0000", vector["id"]


def test_n1_fields_are_url_decoded_after_verification(vectors: dict[str, Any]) -> None:
    n1 = vectors["notifications_sha256_v1"][0]
    fields = verify_notification(n1["key"], n1["Ds_MerchantParameters"], n1["Ds_Signature"])
    assert fields["Ds_Date"] == "22/10/2021"
    assert fields["Ds_Hour"] == "22:51"
    assert fields["Ds_Order"] == "0726qI3H7sZx"
    assert fields["Ds_AuthorisationCode"] == "052029"


def test_forged_signature_is_rejected(vectors: dict[str, Any]) -> None:
    n1 = vectors["notifications_sha256_v1"][0]
    with pytest.raises(SignatureError):
        verify_notification(
            n1["key"], n1["Ds_MerchantParameters"], n1["forged_Ds_Signature_must_fail"]
        )


def test_wrong_key_is_rejected(vectors: dict[str, Any]) -> None:
    n1 = vectors["notifications_sha256_v1"][0]
    with pytest.raises(SignatureError):
        verify_notification(
            n1["wrong_key_must_fail"], n1["Ds_MerchantParameters"], n1["Ds_Signature"]
        )


def test_signature_error_is_a_value_error() -> None:
    assert issubclass(SignatureError, ValueError)
    assert issubclass(MalformedMessage, ValueError)


@pytest.mark.parametrize("transform", ["standard", "urlsafe", "unpadded"])
def test_signature_accepted_in_either_alphabet(vectors: dict[str, Any], transform: str) -> None:
    n1 = vectors["notifications_sha256_v1"][0]
    raw = base64.urlsafe_b64decode(n1["Ds_Signature"])
    signature = {
        "standard": base64.b64encode(raw).decode(),
        "urlsafe": base64.urlsafe_b64encode(raw).decode(),
        "unpadded": base64.urlsafe_b64encode(raw).decode().rstrip("="),
    }[transform]
    fields = verify_notification(n1["key"], n1["Ds_MerchantParameters"], signature)
    assert fields["Ds_Amount"] == "4999"


def test_tampered_parameters_are_rejected(vectors: dict[str, Any]) -> None:
    n1 = vectors["notifications_sha256_v1"][0]
    fields = decode_parameters(n1["Ds_MerchantParameters"])
    fields["Ds_Amount"] = "1"
    with pytest.raises(SignatureError):
        verify_notification(n1["key"], encode_parameters(fields), n1["Ds_Signature"])


@pytest.mark.parametrize("signature", ["", "not base64!", "AAAA"])
def test_malformed_signature_is_rejected(vectors: dict[str, Any], signature: str) -> None:
    n1 = vectors["notifications_sha256_v1"][0]
    with pytest.raises(SignatureError):
        verify_notification(n1["key"], n1["Ds_MerchantParameters"], signature)


@pytest.mark.parametrize("params", ["%%%", base64.b64encode(b"[1, 2]").decode(), ""])
def test_malformed_parameters_are_rejected(params: str) -> None:
    with pytest.raises(MalformedMessage):
        verify_notification(KEY, params, "AAAA")


def test_notification_without_order_is_rejected() -> None:
    params = encode_parameters({"Ds_Amount": "100"})
    with pytest.raises(MalformedMessage):
        verify_notification(KEY, params, sign(KEY, "1234", params))


@pytest.mark.parametrize("length", range(4, 13))
def test_every_order_length_signs_and_verifies(length: int) -> None:
    order = "1234ABCDEFGH"[:length]
    key = order_key(KEY, order)
    # Zero padding to the next multiple of 8, never a whole extra block.
    assert len(key) == (8 if length <= 8 else 16)
    message = signed_message(KEY, {"Ds_Order": order, "Ds_Amount": "100"}, urlsafe=True)
    fields = verify_notification(KEY, message["Ds_MerchantParameters"], message["Ds_Signature"])
    assert fields["Ds_Order"] == order


def test_short_order_does_not_use_a_full_extra_block() -> None:
    # Regression for libraries that always pad to 16 bytes: the keys must differ.
    params = encode_parameters({"DS_MERCHANT_ORDER": "123456"})
    always_16 = sign(KEY, "123456\0\0\0\0\0\0\0\0", params)
    assert merchant_signature(KEY, params) != always_16
    assert len(order_key(KEY, "123456")) == 8


def test_order_key_rejects_bad_keys() -> None:
    with pytest.raises(ValueError, match="24 bytes"):
        order_key("c2hvcnQ=", "1234")
    with pytest.raises(ValueError, match="base64"):
        order_key("not*base64", "1234")


def test_invalid_percent_escape_is_tolerated() -> None:
    fields = {"Ds_Date": "01%2F02%2F2026", "Ds_Order": "1234", "Ds_Markup_DCC": "0.0%"}
    message = signed_message(KEY, fields)
    decoded = verify_notification(KEY, message["Ds_MerchantParameters"], message["Ds_Signature"])
    assert decoded["Ds_Markup_DCC"] == "0.0%"
    assert decoded["Ds_Date"] == "01/02/2026"


def test_rest_answers_are_not_url_decoded() -> None:
    message = signed_message(KEY, {"Ds_Order": "1234", "Ds_MerchantData": "a+b%20c"})
    decoded = read_signed_message(KEY, message)
    assert decoded["Ds_MerchantData"] == "a+b%20c"


def test_read_signed_message_requires_the_known_version() -> None:
    message = signed_message(KEY, {"Ds_Order": "1234"})
    message["Ds_SignatureVersion"] = "HMAC_SHA512_V2"
    with pytest.raises(SignatureError, match="unsupported"):
        read_signed_message(KEY, message)


def test_verify_request_reads_the_merchant_order() -> None:
    message = signed_message(KEY, {"Ds_Merchant_Order": "9876xyz", "Ds_Merchant_Amount": "5"})
    fields = verify_request(KEY, message["Ds_MerchantParameters"], message["Ds_Signature"])
    assert fields["Ds_Merchant_Amount"] == "5"
    with pytest.raises(SignatureError):
        verify_request(KEY, message["Ds_MerchantParameters"], sign(KEY, "9876xy", "x"))
