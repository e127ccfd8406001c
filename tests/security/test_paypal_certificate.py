"""Hole 13: the PayPal local sandbox trusted every URL under its prefix for webhook signing
certificates, so any sandbox page that echoes input could serve an attacker's certificate.
Only the exact certificate URL is trusted now, in every mode."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote

import httpx

from facturo.context import Context
from facturo.models import GatewayNotification, Payment
from facturo.testing import free_port, serve_in_thread, stop_server
from facturo.web.app import create_app
from facturo_paypal.runtime import runtime
from facturo_paypal.sandbox import CERT_PATH, SandboxSigner
from facturo_paypal.webhooks import signed_message


def test_a_certificate_from_another_sandbox_page_is_refused(
    make_context: Callable[..., Context],
) -> None:
    port = free_port()
    ctx = make_context(plugins=("paypal",), overrides={"base_url": f"http://127.0.0.1:{port}"})
    live = serve_in_thread(create_app(ctx), port=port)
    try:
        rt = runtime(ctx)
        sandbox_url = str(rt.settings.api_base_url)
        event = rt.sandbox.event(
            "PAYMENT.CAPTURE.COMPLETED",
            "capture",
            {
                "id": "CAP-X",
                "status": "COMPLETED",
                "amount": {"value": "1.00", "currency_code": "EUR"},
            },
        )
        headers, body = rt.sandbox.signed_webhook(event, sandbox_url)
        attacker = SandboxSigner.generate()
        headers["PAYPAL-TRANSMISSION-SIG"] = attacker.sign(
            signed_message(
                headers["PAYPAL-TRANSMISSION-ID"],
                headers["PAYPAL-TRANSMISSION-TIME"],
                rt.settings.webhook_id,
                body,
            )
        )
        pem = quote(attacker.certificate_pem.decode())
        with httpx.Client(base_url=live.url, timeout=20) as http:
            for where in (
                f"{sandbox_url}/checkoutnow?token={pem}",  # a page under the old trusted prefix
                f"{sandbox_url}{CERT_PATH}?x={pem}",
                f"{sandbox_url}{CERT_PATH}/../../checkoutnow",
            ):
                forged = dict(headers, **{"PAYPAL-CERT-URL": where})
                answer = http.post("/public/paypal/webhook", content=body, headers=forged)
                assert answer.status_code == 400, where
        with ctx.db.read_session() as session:
            notes = list(session.query(GatewayNotification))
            assert notes and all(n.status == "rejected" for n in notes)
            assert all("certificate URL refused" in n.detail for n in notes)
            assert session.query(Payment).count() == 0
        # The real certificate at its exact URL is still trusted.
        assert rt.settings.trusted_cert_prefixes == (sandbox_url + CERT_PATH,)
    finally:
        stop_server(live)
