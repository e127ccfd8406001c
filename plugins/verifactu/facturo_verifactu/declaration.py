"""The producer's declaración responsable of the billing system (Orden HAC/1177/2024 art. 15,
RD 1007/2023 art. 13), with its content from the plugin's settings.

Items a)–l) come in the order the Orden gives, each with its descriptive text (message ids in
English; the Spanish catalog holds the wording shown in Spanish). The values of a, b, c, e, f,
h and i are those the records carry in SistemaInformatico, so the declaration and the records
cannot disagree ⚠ (the Orden points to the record design for b, e, f and i; the others are
inferred).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from facturo.plugin import Context

from .settings import PLUGIN, config

TITLE = "DECLARACIÓN RESPONSABLE DEL SISTEMA INFORMÁTICO DE FACTURACIÓN"
COMPLIANCE = (
    "The producer declares that this billing system, in the version stated, complies with "
    "article 29.2.j) of the General Tax Law 58/2003, with the Regulation approved by Royal "
    "Decree 1007/2023 of 5 December, with Order HAC/1177/2024 of 17 October and with the "
    "specifications published in the electronic office of the AEAT that develop them."
)


@dataclass(frozen=True)
class Item:
    """One item: its letter, its descriptive text (a message id) and its value; ``translate``
    is True when the value is itself a message id (yes/no, the compliance statement)."""

    letter: str
    label: str
    value: str
    translate: bool = False


@dataclass(frozen=True)
class Declaration:
    items: tuple[Item, ...]
    annex: str
    signed_on: date | None
    place: str

    @property
    def missing(self) -> list[str]:
        """Letters of the items left empty (the declaration is not ready to sign)."""
        return [item.letter for item in self.items if not item.value.strip()]


def _yes_no(value: bool) -> str:
    return "Yes" if value else "No"


def declaration(ctx: Context) -> Declaration:
    """The declaration as configured in ``[plugin.verifactu]``."""
    cfg = config(ctx)
    raw: dict[str, Any] = ctx.settings_for(PLUGIN)
    system = cfg.system
    signed = str(raw.get("declaration_date") or "")
    signed_on = date.fromisoformat(signed) if signed else None
    place = str(raw.get("declaration_place") or "")
    return Declaration(
        items=(
            Item("a", "Name of the billing system", system.name),
            Item("b", "Identifier of the billing system (IdSistemaInformatico)", system.system_id),
            Item("c", "Complete version of the system", system.version),
            Item(
                "d",
                "Hardware and software components, what the system does and its main functions",
                str(raw.get("system_description") or ""),
            ),
            Item(
                "e",
                "The system can only work as VERI*FACTU",
                _yes_no(system.only_verifactu),
                translate=True,
            ),
            Item(
                "f",
                "The system can be used by several taxpayers",
                _yes_no(system.multi_taxpayer_possible),
                translate=True,
            ),
            Item(
                "g",
                "Types of signature used when the system does not work as VERI*FACTU",
                str(raw.get("signature_types") or ""),
            ),
            Item("h", "Name of the producer", system.producer_name),
            Item("i", "NIF of the producer", system.producer_nif),
            Item(
                "j", "Full postal address of the producer", str(raw.get("producer_address") or "")
            ),
            Item("k", "Statement of compliance", COMPLIANCE, translate=True),
            Item(
                "l",
                "Date and place of signature",
                f"{signed_on.isoformat()}, {place}" if signed_on and place else "",
            ),
        ),
        annex=str(raw.get("declaration_annex") or ""),
        signed_on=signed_on,
        place=place,
    )


def as_text(decl: Declaration, gettext: Any, date_text: str) -> str:
    """The declaration as plain UTF-8 text (a widely used free format, for the buyer's file)."""
    lines = [TITLE, ""]
    for item in decl.items:
        value = gettext(item.value) if item.translate else item.value
        if item.letter == "l" and decl.signed_on:
            value = f"{date_text}, {decl.place}"
        lines.append(f"{item.letter}) {gettext(item.label)}: {value}")
    if decl.annex:
        lines += ["", gettext("Annex"), decl.annex]
    return "\n".join(lines) + "\n"
