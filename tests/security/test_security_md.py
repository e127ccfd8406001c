"""New capability 16: SECURITY.md says what is protected and how, how secrets are kept, and how
to report a problem."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_security_md_covers_the_threat_model_secrets_and_reporting() -> None:
    text = (ROOT / "SECURITY.md").read_text(encoding="utf-8")
    for heading in ("## What is protected", "## How secrets are kept", "## Reporting a problem"):
        assert heading in text
    for setting in (
        "trusted_proxies",
        "admin_two_factor_required",
        "customer_two_factor_required",
        "hsts_max_age",
    ):
        assert setting in text
