"""The staff menu: the core's links and the plugins' ``admin_menu_items`` grouped under a few
headings (Sales, Customers, Support, Taxes, Settings, More), filtered by the staff role."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from facturo.contributions import MenuItem

#: Menu headings in display order: code → English message id. Unknown groups go to "more".
GROUPS: tuple[tuple[str, str], ...] = (
    ("sales", "Sales"),
    ("customers", "Customers"),
    ("support", "Support"),
    ("taxes", "Taxes"),
    ("settings", "Settings"),
    ("more", "More"),
)
BILLING = ("admin", "billing")
ADMIN = ("admin",)

#: The core's own staff links; labels are English message ids.
CORE_ITEMS: tuple[MenuItem, ...] = (
    MenuItem({"en": "Customers"}, "/admin/customers", 10, (), "customers"),
    MenuItem({"en": "Documents"}, "/admin/documents", 10, BILLING, "sales"),
    MenuItem({"en": "Payments"}, "/admin/payments", 20, BILLING, "sales"),
    MenuItem({"en": "Review queue"}, "/admin/payments/review", 25, BILLING, "sales"),
    MenuItem({"en": "Gateway notifications"}, "/admin/notifications", 27, BILLING, "sales"),
    MenuItem({"en": "Catalog"}, "/admin/products", 90, BILLING, "sales"),
    MenuItem({"en": "VAT reports"}, "/admin/reports", 10, BILLING, "taxes"),
    MenuItem({"en": "Audit log"}, "/admin/audit", 50, BILLING, "settings"),
    MenuItem({"en": "Plugins"}, "/admin/plugins", 10, ADMIN, "settings"),
    MenuItem({"en": "Staff"}, "/admin/staff", 20, ADMIN, "settings"),
    MenuItem({"en": "API tokens"}, "/admin/tokens", 30, ADMIN, "settings"),
    MenuItem({"en": "My account"}, "/admin/account", 90, (), "settings"),
)


@dataclass
class NavLink:
    """One link of the rendered menu."""

    text: str
    url: str
    current: bool = False


@dataclass
class NavGroup:
    """One heading of the rendered menu and its links."""

    code: str
    title: str
    links: list[NavLink] = field(default_factory=list)

    @property
    def current(self) -> bool:
        """True when the page shown is one of this group's links."""
        return any(link.current for link in self.links)


def _is_current(url: str, path: str) -> bool:
    base = url.split("?", 1)[0].rstrip("/")
    return bool(base) and (path == base or path.startswith(base + "/"))


def staff_navigation(
    role: str,
    plugin_items: Iterable[MenuItem],
    language: str,
    gettext: Callable[[str], str],
    path: str,
) -> list[NavGroup]:
    """The groups of links a staff user with ``role`` sees, core links first in each group,
    empty groups left out; the link of the page at ``path`` is marked current (the longest
    matching link only, so /admin/payments/review does not also mark /admin/payments)."""
    known = {code for code, _title in GROUPS}
    by_group: dict[str, list[tuple[int, int, NavLink]]] = {code: [] for code in known}
    for item in CORE_ITEMS:
        if item.roles and role not in item.roles:
            continue
        text = gettext(item.label["en"])
        by_group[item.group].append((0, item.order, NavLink(text, item.url)))
    for item in plugin_items:
        if item.roles and role not in item.roles:
            continue
        group = item.group if item.group in known else "more"
        by_group[group].append((1, item.order, NavLink(item.text(language), item.url)))
    links = [link for entries in by_group.values() for _s, _o, link in entries]
    matching = [link for link in links if _is_current(link.url, path)]
    if matching:
        max(matching, key=lambda link: len(link.url)).current = True
    groups: list[NavGroup] = []
    for code, title in GROUPS:
        entries = sorted(by_group[code], key=lambda entry: (entry[0], entry[1]))
        if entries:
            groups.append(NavGroup(code, gettext(title), [link for _s, _o, link in entries]))
    return groups
