"""``facturo demo``: a ready-to-try installation under var/demo/ with every bundled plugin."""

from __future__ import annotations

import secrets
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select

from facturo.config import settings_from_mapping
from facturo.context import Context

DEMO_CUSTOMER = ("demo@example.com", "demo-customer-2026")
DEMO_STAFF = ("admin@example.com", "demo-admin-2026")
BUNDLED = (
    "transfer",
    "ruralvia",
    "paypal",
    "prestaimport_license",
    "tickets",
    "verifactu",
    "vies",
    "sepa",
)
SUPPLIER_ADDONS = (
    ("addon-ingram", "Ingram Micro", Decimal("39.00")),
    ("addon-esprinet", "Esprinet", Decimal("29.00")),
    ("addon-techdata", "TD SYNNEX", Decimal("35.00")),
    ("addon-globomatik", "Globomatik", Decimal("25.00")),
)


def demo_settings_mapping(folder: Path, base_url: str) -> dict[str, Any]:
    """The demo's raw settings: SQLite under ``folder``, every installed bundled plugin."""
    from facturo.plugins import installed_plugins, new_manager

    folder.mkdir(parents=True, exist_ok=True)
    secret_file = folder / "secret_key"
    if not secret_file.exists():
        secret_file.write_text(secrets.token_urlsafe(48), encoding="utf-8")
    installed = installed_plugins()
    enabled = [name for name in BUNDLED if name in installed]
    manager = new_manager()
    for name in enabled:
        manager.register(installed[name].load(), name=name)
    tables: dict[str, Any] = {}
    for contribution in manager.hook.demo_settings():
        if contribution:
            tables[contribution["plugin"]] = contribution["settings"]
    return {
        "database_url": f"sqlite:///{folder / 'facturo.db'}",
        "secret_key": secret_file.read_text(encoding="utf-8").strip(),
        "base_url": base_url,
        "data_dir": str(folder),
        "demo": True,
        "seller": {
            "legal_name": "PrestaImport Software S.L.",
            "nif": "B12345674",
            "address": "Calle de Alcalá 1",
            "postal_code": "28014",
            "city": "Madrid",
            "province": "Madrid",
            "country": "ES",
            "email": "facturacion@prestaimport.example",
            "phone": "+34 910 000 000",
        },
        "smtp": {"from_address": "facturacion@prestaimport.example"},
        "plugins": {"enabled": enabled},
        "plugin": tables,
    }


def prepare_demo(
    folder: Path, base_url: str = "http://127.0.0.1:8000"
) -> tuple[Context, list[str]]:
    """Create or reuse the demo: migrate, seed once, return the context and credential lines."""
    from facturo.bootstrap import create_context, upgrade_database

    settings = settings_from_mapping(demo_settings_mapping(folder, base_url))
    ctx = create_context(settings)
    upgrade_database(ctx)
    seed(ctx)
    return ctx, [
        f"demo customer: {DEMO_CUSTOMER[0]} / {DEMO_CUSTOMER[1]}  ({base_url}/client/)",
        f"demo staff:    {DEMO_STAFF[0]} / {DEMO_STAFF[1]}  ({base_url}/admin/)",
    ]


def seed(ctx: Context) -> bool:
    """Seed the catalog, a year of trade by made-up shops (:mod:`facturo.demo_history`), a
    demo customer and staff, and each plugin's demo data; once only."""
    from facturo.accounts.customers import NewCustomer, create_customer, create_staff
    from facturo.demo_history import seed_history
    from facturo.models import Product, ProductPrice, StaffUser

    with ctx.db.transaction() as session:
        if session.scalar(select(StaffUser).where(StaffUser.email == DEMO_STAFF[0])) is not None:
            return False
        create_staff(session, DEMO_STAFF[0], "Demo Admin", "admin", DEMO_STAFF[1])
        licensed = "prestaimport_license" in ctx.settings.enabled_plugins
        licence = Product(
            code="prestaimport-gui",
            name_es="Licencia PrestaImport GUI (una tienda)",
            name_en="PrestaImport GUI licence (one shop)",
            description_es="Importa catálogos de proveedores en tu tienda online. Una licencia por tienda.",
            description_en="Imports supplier catalogs into your online shop. One licence per shop.",
            provisioner="prestaimport_license" if licensed else None,
            position=0,
        )
        licence.prices.append(
            ProductPrice(
                cycle="annual", months=12, currency=ctx.settings.currency, amount=Decimal("149.00")
            )
        )
        licence.prices.append(
            ProductPrice(
                cycle="monthly", months=1, currency=ctx.settings.currency, amount=Decimal("15.00")
            )
        )
        session.add(licence)
        session.flush()
        addons = []
        for position, (code, supplier, price) in enumerate(SUPPLIER_ADDONS, start=1):
            addon = Product(
                code=code,
                name_es=f"Proveedor {supplier}",
                name_en=f"Supplier {supplier}",
                description_es=f"Importación del catálogo de {supplier}.",
                description_en=f"Imports the {supplier} catalog.",
                provisioner="prestaimport_license" if licensed else None,
                provisioner_options=f"supplier={code.removeprefix('addon-')}",
                parent_id=licence.id,
                position=position,
            )
            addon.prices.append(
                ProductPrice(
                    cycle="annual", months=12, currency=ctx.settings.currency, amount=price
                )
            )
            addon.prices.append(
                ProductPrice(
                    cycle="monthly",
                    months=1,
                    currency=ctx.settings.currency,
                    amount=(price / 10).quantize(Decimal("0.01")),
                )
            )
            session.add(addon)
            addons.append(addon)
        session.flush()
        # Before anything dated today: invoice numbers follow their dates.
        seed_history(ctx, session, licence, addons)
        customer = create_customer(
            session,
            ctx,
            NewCustomer(
                email=DEMO_CUSTOMER[0],
                password=DEMO_CUSTOMER[1],
                name="Lucía Martín",
                company="Tienda Demo S.L.",
                tax_id="B76543214",
                address="Calle Mayor 10",
                postal_code="28013",
                city="Madrid",
                region="Madrid",
                country="ES",
                language="es",
            ),
            verified=True,
        )
        ctx.hook.demo_seed(ctx=ctx, session=session, customer=customer)
    return True
