"""Logging is configured once (text or JSON lines) and every stored failure is also logged."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from facturo.billing.orders import place_order
from facturo.billing.payments import record_payment
from facturo.config import ConfigError
from facturo.context import Context
from facturo.delivery.events import deliver_events
from facturo.delivery.mail import deliver_due
from facturo.hookspecs import hookimpl
from facturo.logs import HANDLER_NAME, configure_logging
from facturo.testing import make_catalog, make_customer


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    level = root.level
    yield
    for handler in list(root.handlers):
        if handler.get_name() == HANDLER_NAME:
            root.removeHandler(handler)
    root.setLevel(level)


def test_an_unknown_log_format_is_a_config_error(make_context: Callable[..., Context]) -> None:
    with pytest.raises(ConfigError, match="'logging.format': must be one of text, json"):
        make_context(overrides={"logging.format": "yaml"})


class FailingMailer:
    @hookimpl(tryfirst=True)
    def send_email(self, message: Any) -> bool:
        raise ConnectionRefusedError("smtp down")


def test_json_lines_log_every_stored_failure(
    make_context: Callable[..., Context],
    capsys: pytest.CaptureFixture[str],
    restore_logging: None,
) -> None:
    ctx = make_context(extra=[("failing", FailingMailer())], overrides={"logging.format": "json"})
    configure_logging(ctx.settings)
    configure_logging(ctx.settings)  # twice: still one handler
    licence, _ = make_catalog(ctx, provisioner="nobody")
    customer = make_customer(ctx)
    with ctx.db.transaction() as session:
        _services, proforma = place_order(session, ctx, customer, licence, "annual")
    assert deliver_due(ctx).retried == 1
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert len(lines) == 1
    assert lines[0]["level"] == "WARNING" and lines[0]["logger"] == "facturo.delivery.mail"
    assert (
        "not sent (attempt 1, will retry): ConnectionRefusedError: smtp down"
        in (lines[0]["message"])
    )
    with ctx.db.transaction() as session:  # paid: "nobody" provisions the licence
        record_payment(
            session,
            ctx,
            proforma,
            gateway="test",
            gateway_txn_id="t-1",
            amount=proforma.total,
            currency="EUR",
            paid_at=ctx.now(),
        )
    assert deliver_events(ctx).retried == 1
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    events = [line for line in lines if line["logger"] == "facturo.delivery.events"]
    assert len(events) == 1
    assert "ProvisioningError: no plugin provisions 'nobody'" in events[0]["message"]
