"""Demo data: three departments and a sample ticket for the demo customer."""

from __future__ import annotations

from sqlalchemy.orm import Session

from facturo.plugin import Context, Customer

from .service import open_ticket, save_department

DEPARTMENTS = (
    ("Soporte técnico", "soporte@facturo.es", "medium", ("support",)),
    ("Facturación", "facturacion@facturo.es", "high", ("billing",)),
    ("Licencias", "licencias@facturo.es", "medium", ("support", "billing")),
)


def seed(ctx: Context, session: Session, customer: Customer) -> None:
    """Create the demo departments and one open ticket of ``customer``."""
    made = [
        save_department(session, name=name, email=email, default_priority=prio, roles=roles)
        for name, email, prio, roles in DEPARTMENTS
    ]
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
