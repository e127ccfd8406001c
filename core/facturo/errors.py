"""The base of every error a person can act on."""

from __future__ import annotations


class FacturoError(Exception):
    """A refused operation with what to tell the person who asked for it.

    ``detail`` says what is wrong in words a person understands (English; pages translate it),
    ``field`` names the input at fault when there is one, ``status`` is the HTTP status a web
    section answers with, and ``code`` is a stable machine-readable name for API clients.
    """

    status: int = 400
    code: str = "invalid"

    def __init__(
        self,
        detail: str,
        field: str | None = None,
        *,
        status: int | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field
        if status is not None:
            self.status = status
        if code is not None:
            self.code = code
