"""The grouped staff menu and the error pages inside each section's layout (#20.2, #20.5)."""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx

from facturo.context import Context
from facturo.contributions import MenuItem
from facturo.testing import logged_in_cookies, make_customer
from facturo.web.admin_nav import staff_navigation
from tests.web.conftest import new_staff

PLUGINS = ("transfer", "tickets", "prestaimport_license", "verifactu")


def english(message: str) -> str:
    return message


def groups_of(html: str) -> dict[str, list[str]]:
    """Menu heading → link texts, read from the page's <details> groups."""
    found: dict[str, list[str]] = {}
    for title, body in re.findall(r"<summary[^>]*>([^<]+)</summary>\s*<ul>(.*?)</ul>", html, re.S):
        found[title] = re.findall(r"<a [^>]*>([^<]+)</a>", body)
    return found


def test_menu_groups_core_and_plugin_links_by_role() -> None:
    plugin = [
        MenuItem({"en": "Tickets"}, "/admin/tickets", 40, (), "support"),
        MenuItem({"en": "Card notices"}, "/admin/card", 62, ("admin", "billing"), "sales"),
        MenuItem({"en": "Old style"}, "/admin/old", 5),  # no group: under "More"
    ]
    admin = staff_navigation("admin", plugin, "en", english, "/admin/payments/review")
    titles = [group.title for group in admin]
    assert titles == ["Sales", "Customers", "Support", "Taxes", "Settings", "More"]
    sales = admin[0]
    assert [link.text for link in sales.links][-1] == "Card notices"  # core links first
    assert [link.text for link in sales.links if link.current] == ["Review queue"]
    assert sales.current and not admin[1].current
    assert [link.url for link in admin[-1].links] == ["/admin/old"]

    support = staff_navigation("support", plugin, "en", english, "/admin/")
    assert [group.title for group in support] == ["Customers", "Support", "Settings", "More"]
    texts = [link.text for group in support for link in group.links]
    assert "Card notices" not in texts and "Documents" not in texts and "Plugins" not in texts


def test_staff_menu_is_grouped_in_both_languages_without_javascript(
    make_context: Callable[..., Context], serve: Callable[[Context], str]
) -> None:
    ctx = make_context(plugins=PLUGINS)
    url = serve(ctx)
    staff = new_staff(ctx, "admin")
    cookies = logged_in_cookies(ctx, staff=staff)
    with httpx.Client(base_url=url, cookies=cookies, timeout=30) as client:
        client.get("/lang/es?next=/admin/")
        html = client.get("/admin/customers").text
        assert "<script" not in html.split("<main")[0]
        groups = groups_of(html)
        assert list(groups) == ["Ventas", "Clientes", "Soporte", "Impuestos", "Ajustes"]
        assert "Extractos bancarios" in groups["Ventas"]
        assert "Licencias" in groups["Clientes"] and "Tickets" in groups["Soporte"]
        assert "VERI*FACTU" in groups["Impuestos"]
        assert re.search(r'<a href="/admin/customers" aria-current="page">', html)
        client.get("/lang/en?next=/admin/")
        groups = groups_of(client.get("/admin/").text)
        assert list(groups) == ["Sales", "Customers", "Support", "Taxes", "Settings"]
        assert "Bank statements" in groups["Sales"] and "Licences" in groups["Customers"]


def test_error_pages_speak_the_visitors_language_inside_the_sections_layout(
    make_context: Callable[..., Context], serve: Callable[[Context], str]
) -> None:
    ctx = make_context(plugins=("transfer",))
    url = serve(ctx)
    support = new_staff(ctx, "support")
    customer = make_customer(ctx)
    staff_cookies = logged_in_cookies(ctx, staff=support)
    with httpx.Client(base_url=url, cookies=staff_cookies, timeout=30) as client:
        client.get("/lang/es?next=/admin/")
        missing = client.get("/admin/no-such-page")
        assert missing.status_code == 404
        assert "<h1>Página no encontrada</h1>" in missing.text
        assert 'class="menu-group"' in missing.text and "/admin/logout" in missing.text
        assert '<a href="/admin/">Ir a la página de inicio</a>' in missing.text
        refused = client.get("/admin/documents")  # billing only
        assert refused.status_code == 403
        assert "<h1>Acceso denegado</h1>" in refused.text and 'class="menu-group"' in refused.text
        client.get("/lang/en?next=/admin/")
        missing = client.get("/admin/no-such-page")
        assert "<h1>Not found</h1>" in missing.text and ">Sales<" not in missing.text
        assert ">Customers<" in missing.text  # the support role's menu
    with httpx.Client(
        base_url=url, cookies=logged_in_cookies(ctx, customer=customer), timeout=30
    ) as client:
        client.get("/lang/en?next=/client/")
        missing = client.get("/client/no-such-page")
        assert missing.status_code == 404
        assert "<h1>Not found</h1>" in missing.text
        assert 'href="/client/services"' in missing.text and "/client/logout" in missing.text
        assert '<a href="/client/">Go to the start page</a>' in missing.text
        wrong_method = client.post("/client/services", data={"csrf_token": "test-csrf-token"})
        assert wrong_method.status_code == 405
        assert "<h1>Method not allowed</h1>" in wrong_method.text
    with httpx.Client(base_url=url, headers={"Accept-Language": "es"}, timeout=30) as client:
        missing = client.get("/no-such-page")
        assert missing.status_code == 404
        assert "<h1>Página no encontrada</h1>" in missing.text
        assert "/admin/logout" not in missing.text and "/client/logout" not in missing.text
        assert '<a href="/">Ir a la página de inicio</a>' in missing.text
