"""The staff page listing every gateway's notifications, in every state, with filters."""

from __future__ import annotations

from collections.abc import Callable

from facturo.context import Context
from facturo.gateways.notifications import log_notification, mark_notification
from tests.web.conftest import new_staff, staff_client


def test_every_state_of_every_gateway_is_listed_and_filtered(
    make_context: Callable[..., Context], serve: Callable[[Context], str]
) -> None:
    ctx = make_context()
    url = serve(ctx)
    billing, support = new_staff(ctx, "billing"), new_staff(ctx, "support")
    for gateway, state in (
        ("cardbank", "received"),
        ("cardbank", "processed"),
        ("cardbank", "error"),
        ("walletpay", "rejected"),
        ("walletpay", "duplicate"),
    ):
        nid, _ = log_notification(ctx, gateway, f"body {state}", {}, "10.0.0.1")
        if state != "received":
            mark_notification(ctx, nid, state, f"detail of {gateway} {state}")
    with staff_client(ctx, url, billing) as client:
        page = client.get("/admin/notifications").text
        for state in ("received", "processed", "error", "rejected", "duplicate"):
            assert f">{state}</span>" in page
        assert "Received, not applied yet" in page
        only_received = client.get("/admin/notifications?status=received").text
        assert ">received</span>" in only_received and ">processed</span>" not in only_received
        wallet = client.get("/admin/notifications?gateway=walletpay").text
        assert "detail of walletpay rejected" in wallet
        assert "detail of cardbank" not in wallet
        assert client.get("/admin/notifications?status=nonsense").status_code == 200
        spanish = client.get("/admin/notifications", headers={"Accept-Language": "es"}).text
        assert "Avisos de las pasarelas" in spanish and "Recibido, aún sin aplicar" in spanish
    with staff_client(ctx, url, support) as client:
        assert client.get("/admin/notifications").status_code == 403
