"""Terms and privacy pages from settings: a local Markdown or HTML file, an outside URL, the
built-in summary; bad settings stop start-up with the key named."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from facturo.config import ConfigError
from facturo.context import Context


def test_local_markdown_terms_and_outside_privacy_url(
    make_context: Callable[..., Context], serve: Callable[[Context], str], tmp_path: Path
) -> None:
    terms = tmp_path / "terms.md"
    terms.write_text("# Condiciones\n\nTexto **vinculante**. <script>alert(1)</script>\n")
    ctx = make_context(
        overrides={
            "legal.terms_file": str(terms),
            "legal.privacy_url": "https://example.com/privacidad",
        }
    )
    url = serve(ctx)
    with httpx.Client(base_url=url) as http:
        page = http.get("/public/terms")
        assert page.status_code == 200
        assert "<strong>vinculante</strong>" in page.text
        assert "<script>alert(1)</script>" not in page.text  # raw HTML in Markdown is escaped
        privacy = http.get("/public/privacy")
        assert privacy.status_code == 302
        assert privacy.headers["location"] == "https://example.com/privacidad"
        register = http.get("/client/register")
        assert 'href="/public/terms"' in register.text
        assert 'href="https://example.com/privacidad"' in register.text


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("legal.terms_file", "/no/such/terms.md"),
        ("legal.privacy_file", "privacy.pdf"),
        ("legal.terms_url", "javascript:alert(1)"),
        ("legal.withdrawal_days", 7),
        ("legal.consent_version", ""),
    ],
)
def test_bad_legal_settings_are_refused(
    make_context: Callable[..., Context], key: str, value: object
) -> None:
    with pytest.raises(ConfigError) as error:
        make_context(overrides={key: value})
    assert key.split(".")[1] in str(error.value)
