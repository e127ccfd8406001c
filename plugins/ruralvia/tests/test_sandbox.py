from __future__ import annotations

from decimal import Decimal

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Mount, Route

from facturo_ruralvia.notification import check_notification, read_notification
from facturo_ruralvia.orders import new_order_number
from facturo_ruralvia.payment import PaymentAttempt, PaymentForm, build_payment_form, new_attempt
from facturo_ruralvia.redsys import decode_parameters, signed_message
from facturo_ruralvia.refund import refund_async
from facturo_ruralvia.sandbox import sandbox_routes
from facturo_ruralvia.settings import Environment, RuralviaSettings

KEY = "sq7HjrUOBfKmC576ILgskD5srU870gJ7"
SHOP = "http://shop.test"


class Merchant:
    """A stand-in for the core's notification endpoint: records what it receives."""

    def __init__(self) -> None:
        self.forms: list[dict[str, str]] = []
        self.content_types: list[str] = []
        self.app = Starlette(routes=[Route("/notify", self.notify, methods=["POST"])])

    async def notify(self, request: Request) -> PlainTextResponse:
        self.content_types.append(request.headers["content-type"])
        self.forms.append({k: str(v) for k, v in (await request.form()).items()})
        return PlainTextResponse("ok")


@pytest.fixture
def merchant() -> Merchant:
    return Merchant()


@pytest.fixture
def sandbox_app(merchant: Merchant) -> Starlette:
    def client_factory() -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=merchant.app))

    return Starlette(routes=[Mount("/public/ruralvia", routes=sandbox_routes(KEY, client_factory))])


@pytest.fixture
def sandbox_settings() -> RuralviaSettings:
    return RuralviaSettings(
        "999008881",
        "1",
        KEY,
        environment=Environment.SANDBOX,
        sandbox_url=f"{SHOP}/public/ruralvia",
    )


@pytest.fixture
def attempt(sandbox_settings: RuralviaSettings) -> PaymentAttempt:
    return new_attempt(
        sandbox_settings, order=new_order_number(), amount=Decimal("49.99"), currency_code="EUR"
    )


@pytest.fixture
def form(sandbox_settings: RuralviaSettings, attempt: PaymentAttempt) -> PaymentForm:
    return build_payment_form(
        sandbox_settings,
        attempt,
        notification_url=f"{SHOP}/notify",
        ok_url=f"{SHOP}/ok",
        ko_url=f"{SHOP}/ko",
        merchant_data="PRO-2026-000123",
    )


async def _pay(app: Starlette, form: PaymentForm, **card: str) -> tuple[str, httpx.Response]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as browser:
        page = await browser.post(form.action, data=form.fields)
        submit = await browser.post(form.action + "/submit", data={**form.fields, **card})
    return page.text, submit


@pytest.mark.anyio
async def test_approved_card_round_trip(
    sandbox_app: Starlette, merchant: Merchant, form: PaymentForm, attempt: PaymentAttempt
) -> None:
    page, submit = await _pay(sandbox_app, form, card_number="4548810000000003", cvv="123")
    assert "49.99 EUR" in page and attempt.order in page
    assert "4548810000000003" in page and "5576440022788500" in page
    assert "<script" not in page and "style=" not in page
    assert submit.status_code == 303 and submit.headers["location"] == f"{SHOP}/ok"
    assert merchant.content_types == ["application/x-www-form-urlencoded"]
    fields = read_notification(KEY, merchant.forms[0])
    assert not set("+/") & set(merchant.forms[0]["Ds_Signature"])  # base64url, like Redsys
    outcome = check_notification(fields, attempt)
    assert outcome.approved
    assert outcome.amount == Decimal("49.99")
    assert outcome.authorisation_code is not None and len(outcome.authorisation_code) == 6
    assert fields["Ds_MerchantData"] == "PRO-2026-000123"
    assert fields["Ds_Terminal"] == "001"
    assert fields["Ds_Card_Number"] == "454881******0003"


@pytest.mark.anyio
async def test_denied_card_round_trip(
    sandbox_app: Starlette, merchant: Merchant, form: PaymentForm, attempt: PaymentAttempt
) -> None:
    _, submit = await _pay(sandbox_app, form, card_number="5576440022788500", cvv="123")
    assert submit.status_code == 303 and submit.headers["location"] == f"{SHOP}/ko"
    outcome = check_notification(read_notification(KEY, merchant.forms[0]), attempt)
    assert not outcome.approved
    assert outcome.response_code == "0190"
    assert outcome.authorisation_code is None


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("card", "expected"),
    [
        ({"card_number": "4548810000000003", "cvv": "999"}, "0129"),
        ({"card_number": "4000000000000002", "cvv": "123"}, "0180"),
        ({"card_number": "4548810000000003", "action": "cancel"}, "9915"),
    ],
)
async def test_other_outcomes(
    sandbox_app: Starlette,
    merchant: Merchant,
    form: PaymentForm,
    attempt: PaymentAttempt,
    card: dict[str, str],
    expected: str,
) -> None:
    _, submit = await _pay(sandbox_app, form, **card)
    assert submit.headers["location"] == f"{SHOP}/ko"
    outcome = check_notification(read_notification(KEY, merchant.forms[0]), attempt)
    assert outcome.response_code == expected and not outcome.approved


@pytest.mark.anyio
async def test_reused_order_number_is_refused(
    sandbox_app: Starlette, merchant: Merchant, form: PaymentForm
) -> None:
    await _pay(sandbox_app, form, card_number="4548810000000003", cvv="123")
    _, again = await _pay(sandbox_app, form, card_number="4548810000000003", cvv="123")
    assert again.headers["location"] == f"{SHOP}/ko"
    assert read_notification(KEY, merchant.forms[1])["Ds_Response"] == "0913"


@pytest.mark.anyio
async def test_payment_page_accepts_get(sandbox_app: Starlette, form: PaymentForm) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=sandbox_app)) as browser:
        page = await browser.get(form.action, params=form.fields)
    assert page.status_code == 200 and "49.99 EUR" in page.text


@pytest.mark.anyio
@pytest.mark.parametrize(
    "tamper",
    [
        {"Ds_Signature": "TyW+LIa2GZnhCPLM7JSPwbQn4ZjOvMO/KiIf4yJgwo8="},
        {"Ds_SignatureVersion": "HMAC_SHA512_V2"},
        {"Ds_MerchantParameters": "e30="},
        "refund_type",
    ],
)
async def test_bad_requests_get_an_error_page(
    sandbox_app: Starlette, merchant: Merchant, form: PaymentForm, tamper: dict[str, str] | str
) -> None:
    if tamper == "refund_type":
        fields = signed_message(
            KEY,
            {
                **decode_parameters(form.fields["Ds_MerchantParameters"]),
                "DS_MERCHANT_TRANSACTIONTYPE": "3",
            },
        )
    else:
        assert isinstance(tamper, dict)
        fields = {**form.fields, **tamper}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=sandbox_app)) as browser:
        page = await browser.post(form.action, data=fields)
        submit = await browser.post(
            form.action + "/submit", data={**fields, "card_number": "4548810000000003"}
        )
    assert page.status_code == 400 and "SIS0" in page.text
    assert submit.status_code == 400
    assert merchant.forms == []


@pytest.mark.anyio
async def test_refund_through_the_sandbox_rest_endpoint(
    sandbox_app: Starlette,
    sandbox_settings: RuralviaSettings,
    form: PaymentForm,
    attempt: PaymentAttempt,
) -> None:
    await _pay(sandbox_app, form, card_number="4548810000000003", cvv="123")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=sandbox_app)) as client:
        partial = await refund_async(
            client, sandbox_settings, order=attempt.order, amount=Decimal("40"), currency_code="EUR"
        )
        too_much = await refund_async(
            client, sandbox_settings, order=attempt.order, amount=Decimal("10"), currency_code="EUR"
        )
        unknown = await refund_async(
            client, sandbox_settings, order="2601NOPE", amount=Decimal("1"), currency_code="EUR"
        )
    assert partial.approved and partial.response_code == "0900"
    assert partial.amount == Decimal("40.00")
    assert not too_much.approved and too_much.error_code == "SIS0057"
    assert not unknown.approved and unknown.error_code == "SIS0054"


@pytest.mark.anyio
async def test_refund_of_a_denied_payment_is_refused(
    sandbox_app: Starlette,
    sandbox_settings: RuralviaSettings,
    form: PaymentForm,
    attempt: PaymentAttempt,
) -> None:
    _, submit = await _pay(sandbox_app, form, card_number="5576440022788500", cvv="123")
    assert submit.headers["location"] == f"{SHOP}/ko"
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=sandbox_app)) as client:
        result = await refund_async(
            client, sandbox_settings, order=attempt.order, amount=Decimal("1"), currency_code="EUR"
        )
    assert not result.approved and result.error_code == "SIS0056"


@pytest.mark.anyio
async def test_sandbox_rest_rejects_bad_signatures(
    sandbox_app: Starlette, sandbox_settings: RuralviaSettings
) -> None:
    other = RuralviaSettings(
        "999008881",
        "1",
        "Mk9m98IfEblmPfrpsawt7BmxObt98Jev",
        environment=Environment.SANDBOX,
        sandbox_url=sandbox_settings.sandbox_url,
    )
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=sandbox_app)) as client:
        result = await refund_async(
            client, other, order="2601ABCD", amount=Decimal("1"), currency_code="EUR"
        )
        not_json = await client.post(sandbox_settings.rest_url, content=b"nope")
    assert result.error_code == "SIS0042"
    assert not_json.json() == {"errorCode": "SIS0007"}
