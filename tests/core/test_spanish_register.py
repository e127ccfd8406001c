"""One register in Spanish: every catalog and Spanish email speaks to the reader as tú."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
#: Forms that only the formal "usted" uses (imperatives and pronouns), as whole words.
USTED = re.compile(
    r"\b(usted|ustedes|inténtelo|introduzca|pulse|elija|indique|compruebe|póngase|"
    r"consulte|seleccione|escriba|revise|haga clic|no vuelva)\b",
    re.IGNORECASE,
)


def spanish_texts() -> list[Path]:
    catalogs = [*REPO.glob("core/facturo/locale/es/LC_MESSAGES/*.po")]
    catalogs += [*REPO.glob("plugins/*/facturo_*/locale/es/LC_MESSAGES/*.po")]
    emails = [*REPO.glob("core/facturo/templates/email/es/*")]
    emails += [*REPO.glob("plugins/*/facturo_*/templates/email/es/*")]
    return catalogs + emails


def test_spanish_speaks_as_tu_everywhere() -> None:
    files = spanish_texts()
    assert len(files) > 10  # the walk found the catalogs and emails
    found = []
    for path in files:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            text = line.removeprefix("msgstr ") if path.suffix == ".po" else line
            if path.suffix == ".po" and not line.startswith("msgstr"):
                continue
            if match := USTED.search(text):
                found.append(f"{path.relative_to(REPO)}:{number}: {match.group(0)!r}")
    assert not found, "usted in Spanish texts:\n" + "\n".join(found)
