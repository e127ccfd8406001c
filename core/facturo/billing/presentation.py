"""How documents present parties and the seller's logo, shared by the PDF and the HTML page."""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

#: The box the logo is fitted into on a document, in points (about 53 × 18 mm).
LOGO_BOX_PT = (150.0, 50.0)
#: Pixels kept per point of the printed logo (3 ≈ 216 dpi): larger files are scaled down once.
LOGO_PIXELS_PER_POINT = 3


def postal_line(postal_code: str, city: str, region: str, country: str) -> str:
    """``28014 Madrid (ES)``: the region only when it is not the city's own name."""
    place = " ".join(part for part in (postal_code.strip(), city.strip()) if part)
    region = region.strip()
    if region and region.casefold() != city.strip().casefold():
        place = f"{place}, {region}" if place else region
    country = country.strip().upper()
    if country:
        place = f"{place} ({country})" if place else country
    return place


def address_lines(party: Mapping[str, Any]) -> list[str]:
    """The street and the postal line of a seller or customer snapshot, empty parts left out.

    A seller names its region ``province``, a customer ``region``."""

    def text(key: str) -> str:
        return str(party.get(key) or "")

    region = text("province") or text("region")
    lines = [
        text("address").strip(),
        postal_line(text("postal_code"), text("city"), region, text("country")),
    ]
    return [line for line in lines if line]


@dataclass(frozen=True)
class Logo:
    """The seller's logo as a ``data:`` URI with the size it is printed at, in points."""

    uri: str
    width: float
    height: float


def load_logo(path: Path | None) -> Logo | None:
    """The logo at ``path`` fitted into :data:`LOGO_BOX_PT`, read once per file version."""
    if path is None:
        return None
    stat = path.stat()
    return _load_logo(path, stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=4)
def _load_logo(path: Path, _mtime_ns: int, _size: int) -> Logo:
    from PIL import Image

    data = path.read_bytes()
    with Image.open(io.BytesIO(data)) as image:
        pixels = image.size
        scale = min(LOGO_BOX_PT[0] / pixels[0], LOGO_BOX_PT[1] / pixels[1])
        width, height = pixels[0] * scale, pixels[1] * scale
        kind = "jpeg" if image.format == "JPEG" else "png"
        largest = (
            round(width * LOGO_PIXELS_PER_POINT),
            round(height * LOGO_PIXELS_PER_POINT),
        )
        if pixels[0] > largest[0] or image.format not in ("PNG", "JPEG"):
            # Large files would be decoded and compressed again on every PDF.
            smaller = image.convert("RGBA" if kind == "png" else "RGB").resize(
                largest, Image.Resampling.LANCZOS
            )
            out = io.BytesIO()
            smaller.save(out, format=kind.upper(), optimize=True)
            data = out.getvalue()
    encoded = base64.b64encode(data).decode("ascii")
    return Logo(f"data:image/{kind};base64,{encoded}", round(width, 1), round(height, 1))
