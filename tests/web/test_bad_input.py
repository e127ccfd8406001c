"""Bad input never breaks the web app: every client and admin route, with every bundled plugin
enabled, answers garbage with a 4xx (or a re-rendered form), never a 5xx, and never echoes
submitted HTML unescaped. Multipart bodies are refused by their declared length before any
form parsing."""

from __future__ import annotations

import re
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx
import pytest
from sqlalchemy import func, select
from starlette.routing import Mount, Route

import facturo
import facturo.testing
from facturo.accounts.customers import create_staff
from facturo.context import Context
from facturo.models import AuthSession, Customer, StaffUser
from facturo.testing import LiveServer, logged_in_cookies, make_catalog, make_customer
from facturo.web.app import create_app
from facturo.web.sections import DEFAULT_MAX_BODY

CSRF = "test-csrf-token"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
SCRIPT = '<script>alert("xss-probe")</script><b onmouseover=x>'
MISSING_ID = "999999"
NOT_A_NUMBER = "not-a-number"
PARAM = re.compile(r"\{([a-zA-Z_]+)(?::[a-z]+)?\}")
ROOTS = [Path(facturo.__file__).resolve().parent] + [
    p for p in (Path(__file__).resolve().parents[2] / "plugins").glob("*/facturo_*") if p.is_dir()
]

#: One form value of each kind of garbage; every field of every form gets it in turn.
GARBAGE = {
    "long": "x" * 20_000,
    "not_a_number": "twelve",
    "bad_date": "2026-13-45",
    "negative": "-100.00",
    "huge_number": "9" * 40,
    "unicode": "Ñandú 🧾 \u202e\u0000 \udcff".encode("utf-8", "replace").decode("utf-8"),
    "script": SCRIPT,
}


def field_names() -> list[str]:
    """Every form field name used by a template or read by a handler (core and plugins)."""
    names: set[str] = set()
    for root in ROOTS:
        for path in root.rglob("*"):
            if path.suffix not in (".html", ".py") or "tests" in path.parts:
                continue
            text = path.read_text(encoding="utf-8", errors="replace")
            names.update(re.findall(r'name="([a-zA-Z_][a-zA-Z0-9_]*)"', text))
            names.update(re.findall(r'form\.get(?:list)?\("([a-zA-Z_][a-zA-Z0-9_]*)"', text))
            names.update(re.findall(r'fields\.get\("([a-zA-Z_][a-zA-Z0-9_]*)"', text))
    names.discard("csrf_token")
    return sorted(names)


def query_names() -> list[str]:
    names: set[str] = set()
    for root in ROOTS:
        for path in root.rglob("*.py"):
            text = path.read_text(encoding="utf-8", errors="replace")
            names.update(re.findall(r'query_params\.get\("([a-zA-Z_]+)"', text))
    return sorted(names)


def section_routes(app: Any, prefix: str) -> list[Route]:
    for route in app.routes:
        if isinstance(route, Mount) and route.path == prefix:
            return [r for r in route.routes if isinstance(r, Route)]
    raise AssertionError(f"no {prefix} mount")


def fill(path: str, value: str) -> str:
    return PARAM.sub(value, path)


class Crawler:
    """Sends requests as the customer and the admin, remembering every 5xx and every echo."""

    def __init__(
        self, ctx: Context, app: Any, live: LiveServer, customer_id: int, staff_id: int
    ) -> None:
        self.ctx = ctx
        # The crawl calls the app in-process; raw-socket checks use the live server's URL.
        self.http: httpx.Client = facturo.testing.AppClient(
            app, timeout=30, headers={"Accept-Language": "en"}
        )
        self.live_url = live.url
        self.customer_id = customer_id
        self.staff_id = staff_id
        self.failures: list[str] = []
        self.echoes: list[str] = []
        self.sent = 0
        self._logged_in_as: tuple[Any, ...] | None = None
        self._cookies: dict[str, str] = {}

    def cookies(self) -> dict[str, str]:
        """A fresh login of both accounts, re-enabled first (a form may have disabled one)."""
        with self.ctx.db.transaction() as session:
            customer = session.get(Customer, self.customer_id)
            staff = session.get(StaffUser, self.staff_id)
            assert customer is not None and staff is not None
            customer.disabled = False
            staff.disabled = False
        # a fresh session row each, made after the re-enabling commits
        return logged_in_cookies(self.ctx, customer=customer, staff=staff, csrf=CSRF)

    def accounts_state(self) -> tuple[Any, ...]:
        """What a form can change that would end or refuse the logins: both accounts' flags
        and passwords, and how many session rows exist and how many are revoked."""
        with self.ctx.db.read_session() as session:
            customer = session.get(Customer, self.customer_id)
            staff = session.get(StaffUser, self.staff_id)
            assert customer is not None and staff is not None
            accounts = (
                customer.disabled,
                customer.password_hash,
                staff.disabled,
                staff.password_hash,
            )
            rows = session.execute(select(func.count(), func.count(AuthSession.revoked_at))).one()
            return (*accounts, *rows)

    def send(self, method: str, url: str, label: str = "", **kwargs: Any) -> httpx.Response:
        # Log in again only when the last request may have ended or refused a login (a
        # password change, "sign out everywhere", a disabled account…); the jar is reset
        # every time, so a cookie a response set never carries over.
        if self.accounts_state() != self._logged_in_as:
            self._cookies = self.cookies()
            self._logged_in_as = self.accounts_state()
        self.http.cookies.clear()
        self.http.cookies.update(self._cookies)
        response = self.http.request(method, url, **kwargs)
        self.sent += 1
        what = f"{method} {url} {kwargs.get('params') or ''} {label}".rstrip()
        if response.status_code >= 500:
            self.failures.append(f"{response.status_code} {what}")
        if "<script>alert(" in response.text or "<b onmouseover" in response.text:
            self.echoes.append(what)
        return response


@pytest.fixture
def crawler(make_context: Callable[..., Context]) -> Iterator[tuple[Crawler, Any]]:
    ctx = make_context(plugins=facturo.testing.enabled_test_plugins())
    make_catalog(ctx)
    customer = make_customer(ctx)
    make_customer(ctx, email="other@example.com")
    with ctx.db.transaction() as session:
        staff, _ = create_staff(
            session, "admin@example.com", "Admin", "admin", password="a-long-staff-password-2026"
        )
    from tests.web.conftest import new_proforma

    new_proforma(ctx, customer)
    app = create_app(ctx)
    live = facturo.testing.serve_in_thread(app)
    crawl = Crawler(ctx, app, live, customer.id, staff.id)
    try:
        yield crawl, app
    finally:
        crawl.http.close()
        facturo.testing.stop_server(live)


def test_every_get_route_survives_bad_path_and_query_values(
    crawler: tuple[Crawler, Any],
) -> None:
    crawl, app = crawler
    queries = query_names()
    for prefix in ("/client", "/admin"):
        for route in section_routes(app, prefix):
            if "GET" not in (route.methods or ()):
                continue
            values = ["1", MISSING_ID, NOT_A_NUMBER] if PARAM.search(route.path) else ["1"]
            for value in values:
                url = prefix + fill(route.path, value)
                crawl.send("GET", url)
            url = prefix + fill(route.path, "1")
            for kind in ("not_a_number", "bad_date", "script", "negative"):
                crawl.send("GET", url, params={name: GARBAGE[kind] for name in queries})
    assert crawl.sent > 50
    assert crawl.failures == []
    assert crawl.echoes == []


def test_every_post_route_survives_empty_and_garbage_forms(
    crawler: tuple[Crawler, Any],
) -> None:
    crawl, app = crawler
    names = field_names()
    assert "email" in names and "amount" in names
    posts = [
        (prefix, route)
        for prefix in ("/client", "/admin")
        for route in section_routes(app, prefix)
        if "POST" in (route.methods or ())
    ]
    assert len(posts) > 20
    # destructive routes last, so that a deletion does not hide the other routes' answers
    posts.sort(key=lambda item: any(w in item[1].path for w in ("delete", "logout", "revoke")))
    # Every field gets each garbage in turn: the bodies (4 MB for "long") are encoded once.
    bodies = {
        kind: urlencode({"csrf_token": CSRF, **dict.fromkeys(names, garbage)})
        for kind, garbage in GARBAGE.items()
    }
    for prefix, route in posts:
        for value in [MISSING_ID, NOT_A_NUMBER] if PARAM.search(route.path) else []:
            crawl.send("POST", prefix + fill(route.path, value), data={"csrf_token": CSRF})
        url = prefix + fill(route.path, "1")
        for kind, body in bodies.items():
            crawl.send("POST", url, f"every field {kind}", content=body, headers=FORM)
        crawl.send("POST", url, "no fields", data={"csrf_token": CSRF})
    assert crawl.failures == []
    assert crawl.echoes == []


def raw_request(url: str, head: str, body: bytes = b"") -> int:
    """Send a hand-written request (only part of a body, at most) and return the status."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall(head.replace("\n", "\r\n").encode() + b"\r\n" + body)
        answer = b""
        while b"\r\n" not in answer:
            chunk = sock.recv(4096)
            if not chunk:
                break
            answer += chunk
    return int(answer.split(b" ", 2)[1])


def multipart_head(path: str, length: int | None, cookie: str) -> str:
    lines = [
        f"POST {path} HTTP/1.1",
        "Host: 127.0.0.1",
        "Content-Type: multipart/form-data; boundary=XyZ",
        f"Cookie: facturo_session={cookie}",
        "Connection: close",
    ]
    lines.append(
        f"Content-Length: {length}" if length is not None else "Transfer-Encoding: chunked"
    )
    return "\n".join(lines) + "\n"


def test_multipart_bodies_are_refused_by_declared_length_before_parsing(
    crawler: tuple[Crawler, Any],
) -> None:
    from facturo_tickets.webcommon import MAX_BODY_BYTES

    crawl, _app = crawler
    url = crawl.live_url
    cookie = crawl.cookies()["facturo_session"]
    part = b'--XyZ\r\nContent-Disposition: form-data; name="body"\r\n\r\nhello\r\n'
    chunked = f"{len(part):x}\r\n".encode() + part + b"\r\n"
    # the tickets upload (5 files x 5 MB) refuses anything declared over its limit, before the
    # CSRF token is even looked for (there is none in these bodies)
    for path in ("/client/tickets/new", "/client/tickets/1/reply", "/admin/tickets/1/reply"):
        assert raw_request(url, multipart_head(path, MAX_BODY_BYTES + 1, cookie), part) == 413
        assert raw_request(url, multipart_head(path, None, cookie), chunked) == 411
    # every other endpoint has the 30 MB default
    for path in ("/client/account", "/admin/transfer/statements"):
        assert raw_request(url, multipart_head(path, DEFAULT_MAX_BODY + 1, cookie), part) == 413
        assert raw_request(url, multipart_head(path, None, cookie), chunked) == 411
    # a multipart body within its limit goes on to the usual checks (here: no CSRF token)
    whole = part + b"--XyZ--\r\n"
    head = multipart_head("/client/tickets/new", len(whole), cookie)
    assert raw_request(url, head, whole) == 403
    response = crawl.send(
        "POST",
        "/client/tickets/new",
        data={"csrf_token": CSRF, "subject": "Hi", "body": "Hello"},
        files={"files": ("note.txt", b"hello", "text/plain")},
    )
    assert response.status_code in (303, 400)
