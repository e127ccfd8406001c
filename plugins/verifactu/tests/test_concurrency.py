"""The chain under concurrent invoicing: 30 payments at once, strictly ordered and gap-free."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from click.testing import CliRunner

from facturo.plugin import Document, record_payment
from facturo_verifactu.cli import verifactu
from facturo_verifactu.testing import customer, proforma, records


@pytest.mark.postgres_only
def test_thirty_concurrent_payments_chain_in_order(make_context) -> None:  # type: ignore[no-untyped-def]
    ctx = make_context(plugins=("verifactu",))
    who = customer(ctx)
    documents = [proforma(ctx, who) for _ in range(30)]
    barrier = threading.Barrier(30)
    errors: list[BaseException] = []

    def pay(document_id: int) -> None:
        try:
            barrier.wait()
            with ctx.db.transaction() as session:
                fresh = session.get(Document, document_id)
                assert fresh is not None
                record_payment(
                    session,
                    ctx,
                    fresh,
                    gateway="test",
                    gateway_txn_id=f"txn-{document_id}",
                    amount=Decimal("121.00"),
                    currency="EUR",
                    paid_at=ctx.now(),
                )
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=pay, args=(d.id,)) for d in documents]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    rows = records(ctx)
    assert [r.sequence for r in rows] == list(range(1, 31))
    assert rows[0].previous_hash is None
    for before, after in zip(rows, rows[1:], strict=False):
        assert after.previous_hash == before.hash
    assert len({r.document_id for r in rows}) == 30
    result = CliRunner().invoke(verifactu, ["verify-chain"], obj={"facturo_context": ctx})
    assert result.exit_code == 0, result.output
