"""Facturo plugin ``exampleprovisioner``: one account per service of its products, kept in
its own table, following the service through create, renew, suspend, unsuspend, terminate."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Date, ForeignKey, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from facturo.plugin import Base, Context, Service, hookimpl

PLUGIN = "exampleprovisioner"


class Account(Base):
    """The account a service gives its customer (what a real provisioner creates remotely)."""

    __tablename__ = "exampleprovisioner_accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"), unique=True)
    username: Mapped[str] = mapped_column(String(40))
    state: Mapped[str] = mapped_column(String(16))  # active, suspended, closed
    paid_until: Mapped[Any] = mapped_column(Date(), nullable=True)


# region: provision
@hookimpl
def provision_product(
    ctx: Context, session: Session, service: Service, action: str
) -> dict[str, Any] | None:
    """Keep the service's account in step with it; idempotent (an action may arrive twice)."""
    if service.product.provisioner != PLUGIN:
        return None  # another plugin's product: not ours to answer
    account = session.scalar(select(Account).where(Account.service_id == service.id))
    if account is None:
        account = Account(service_id=service.id, username=f"svc{service.id}", state="active")
        session.add(account)
    if action in ("create", "unsuspend"):
        account.state = "active"
    elif action == "suspend":
        account.state = "suspended"
    elif action == "terminate":
        account.state = "closed"
    elif action != "renew":
        return {}  # an action this provisioner ignores: done, nothing to remember
    account.paid_until = service.next_due_date  # already moved for create and renew
    session.flush()
    return {"username": account.username}  # merged into service.provisioner_data


# endregion
