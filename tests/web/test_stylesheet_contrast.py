"""The stylesheet keeps form controls visible: input borders contrast 3:1 with what is around."""

from __future__ import annotations

import re
from pathlib import Path

CSS = Path(__file__).resolve().parents[2] / "core" / "facturo" / "static" / "facturo.css"


def luminance(colour: str) -> float:
    """The WCAG relative luminance of ``#rrggbb`` (or ``#rgb``)."""
    hex_digits = colour.lstrip("#")
    if len(hex_digits) == 3:
        hex_digits = "".join(digit * 2 for digit in hex_digits)
    channels = [int(hex_digits[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(one: str, other: str) -> float:
    """The WCAG contrast ratio of two colours."""
    high, low = sorted((luminance(one), luminance(other)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_input_borders_contrast_three_to_one_with_the_page_and_the_field() -> None:
    css = CSS.read_text(encoding="utf-8")
    rule = re.search(r"^input, select, textarea \{([^}]*)\}", css, re.M)
    assert rule, "no rule for form controls"
    border = re.search(r"border: \d+px solid (#[0-9a-fA-F]{3,6})", rule.group(1))
    assert border, rule.group(1)
    page = re.search(r"^body \{[^}]*background: (#[0-9a-fA-F]{3,6})", css, re.M)
    assert page
    for around in ("#ffffff", page.group(1)):
        assert contrast(border.group(1), around) >= 3.0, (border.group(1), around)


def test_the_contrast_check_itself() -> None:
    assert round(contrast("#000", "#fff"), 1) == 21.0
    assert contrast("#d9dde5", "#ffffff") < 3.0  # the light line colour would not do
