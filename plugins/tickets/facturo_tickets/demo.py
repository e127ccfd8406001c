"""Demo data: three departments, two canned replies and a sample ticket for the demo
customer."""

from __future__ import annotations

from sqlalchemy.orm import Session

from facturo.plugin import Context, Customer

from .canned import save_canned_reply
from .service import open_ticket, save_department

DEPARTMENTS = (
    ("Soporte técnico", "soporte@facturo.es", "medium", ("support",)),
    ("Facturación", "facturacion@facturo.es", "high", ("billing",)),
    ("Licencias", "licencias@facturo.es", "medium", ("support", "billing")),
)
CANNED = (
    (
        "Reinstalar la última versión",
        "Hola, {name}:\n\nDescarga la última versión desde tu área de cliente, instálala encima "
        "de la actual y vuelve a probar. Si sigue fallando, respóndenos en {ticket}.\n\n{staff}",
    ),
    (
        "Renovar la licencia",
        "Hola, {name}:\n\nTu licencia se renueva desde Mis servicios, en tu área de cliente. "
        "En cuanto se registre el pago se activa sola.\n\n{staff}",
    ),
)


def seed(ctx: Context, session: Session, customer: Customer) -> None:
    """Create the demo departments, canned replies and one open ticket of ``customer``."""
    made = [
        save_department(session, name=name, email=email, default_priority=prio, roles=roles)
        for name, email, prio, roles in DEPARTMENTS
    ]
    for title, body in CANNED:
        save_canned_reply(session, ctx, title, body)
    open_ticket(
        session,
        ctx,
        department=made[0],
        subject="No consigo importar el catálogo de Ingram",
        body="Hola, al importar el catálogo de Ingram la barra de progreso se queda al 40 %. "
        "¿Podéis ayudarme?",
        source="web",
        customer=customer,
    )
