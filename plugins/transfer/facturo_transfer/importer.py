"""Read an uploaded bank statement whatever its format."""

from __future__ import annotations

from . import camt053, norma43
from .statement import StatementLine


def parse_statement(data: bytes) -> list[StatementLine]:
    """Parse `data` as camt.053 when it is XML, else as Norma 43.

    Raises StatementError (naming the line) when the file is not valid in the detected format.
    """
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if head == b"<":
        return camt053.parse(data)
    return norma43.parse(data)
