"""The demo: the seeded customer's licence answers the README's curl call."""

from __future__ import annotations

from pathlib import Path

import pytest

from facturo_prestaimport_license.demo import demo_key
from facturo_prestaimport_license.keys import format_key
from facturo_prestaimport_license.testing import Live, payload

README = Path(__file__).resolve().parents[1] / "README.md"


def test_demo_seed_gives_addons_in_three_states(
    live: Live, capsys: pytest.CaptureFixture[str]
) -> None:
    from facturo.demo import seed

    assert seed(live.ctx)
    key = format_key(demo_key())
    assert f"demo licence key: {key}" in capsys.readouterr().out
    assert key in README.read_text(encoding="utf-8")  # the README's curl call uses it
    data = payload(
        live.validate(
            {
                "key": key,
                "shop": {"platform": "prestashop", "url": "https://tienda-demo.example"},
                "install_id": "demo-pc",
                "nonce": "n-1",
            }
        )
    )
    assert data["code"] == "VALID"
    assert {a["code"]: a["status"] for a in data["addons"]} == {
        "ingram": "ACTIVE",
        "esprinet": "EXPIRED",
        "techdata": "INACTIVE",
    }
