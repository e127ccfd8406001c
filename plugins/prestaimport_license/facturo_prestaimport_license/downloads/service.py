"""Releases and their downloads: publishing (files kept by hash, customers told once), who may
download, and the signed short-lived links that serve the files."""

from __future__ import annotations

import hashlib
import hmac
import re
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import Select, delete, or_, select
from sqlalchemy.orm import Session

from facturo.plugin import Context, Customer, audit_record, enqueue_email

from ..models import Licence
from .models import Release, ReleaseEmailOptOut, ReleaseFile

#: How long a download link works (⚠ our choice: long enough to start a download manager).
LINK_LIFETIME = timedelta(minutes=15)
VERSION = re.compile(r"[0-9A-Za-z][0-9A-Za-z.+\-]{0,39}")


class ReleaseError(Exception):
    """A release that cannot be published; ``field`` names the input at fault."""

    def __init__(self, detail: str, field: str | None = None) -> None:
        super().__init__(detail)
        self.field = field


class DownloadRefused(Exception):
    """A download link that does not (or no longer) give access to its file."""


@dataclass(frozen=True)
class StoredFile:
    """An uploaded file kept under the data folder, named by its SHA-256."""

    filename: str
    size: int
    sha256: str


def storage_dir(ctx: Context) -> Path:
    """Where release files live: ``<data_dir>/downloads``."""
    return Path(ctx.settings.data_dir) / "downloads"


def store_file(ctx: Context, stream: BinaryIO, filename: str) -> StoredFile:
    """Copy ``stream`` into the store (once per content) and describe it."""
    name = Path(filename.replace("\\", "/")).name.strip()[:200]
    if not name:
        raise ReleaseError("Choose a file to upload.", "file")
    folder = storage_dir(ctx)
    folder.mkdir(parents=True, exist_ok=True)
    digest, size = hashlib.sha256(), 0
    with tempfile.NamedTemporaryFile(dir=folder, delete=False) as out:
        while chunk := stream.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
            out.write(chunk)
    if size == 0:
        Path(out.name).unlink()
        raise ReleaseError("The file is empty.", "file")
    shutil.move(out.name, folder / digest.hexdigest())
    return StoredFile(name, size, digest.hexdigest())


def publish_release(
    session: Session,
    ctx: Context,
    version: str,
    notes_es: str,
    notes_en: str,
    files: Iterable[StoredFile],
    actor: str,
) -> Release:
    """Publish ``version`` with its files and changelog; queue the "new version available"
    email for every customer with an active licence who has not turned it off. ReleaseError
    (nothing written) on a bad or repeated version or a release without files."""
    version = version.strip()
    if not VERSION.fullmatch(version):
        raise ReleaseError("Give the version as letters, digits, dots or dashes.", "version")
    if session.scalar(select(Release.id).where(Release.version == version)) is not None:
        raise ReleaseError("That version is already published.", "version")
    stored = list(files)
    if not stored:
        raise ReleaseError("Choose a file to upload.", "file")
    release = Release(
        version=version,
        notes_es=notes_es.strip(),
        notes_en=notes_en.strip(),
        published_at=ctx.now(),
        published_by=actor,
    )
    session.add(release)
    session.flush()
    for item in stored:
        session.add(
            ReleaseFile(
                release_id=release.id, filename=item.filename, size=item.size, sha256=item.sha256
            )
        )
    audit_record(session, actor, "release.publish", release, after={"version": version})
    _announce(session, ctx, release)
    return release


def _announce(session: Session, ctx: Context, release: Release) -> None:
    opted_out = select(ReleaseEmailOptOut.customer_id)
    customers = session.scalars(
        select(Customer)
        .where(Customer.id.in_(_active_licence_owners(ctx)), Customer.id.not_in(opted_out))
        .order_by(Customer.id)
    )
    for customer in customers:
        enqueue_email(
            session,
            ctx,
            "licence_new_version",
            customer.email,
            customer.language,
            {
                "customer": customer,
                "release": release,
                "notes": release.notes(customer.language),
                "downloads_url": ctx.url("/client/licences/downloads"),
            },
            dedupe_key=f"licence:release:{release.id}:{customer.id}",
            customer_id=customer.id,
        )


def _active_licence_owners(ctx: Context) -> Select[tuple[int]]:
    return select(Licence.customer_id).where(
        Licence.status == "ACTIVE",
        or_(Licence.expires_at.is_(None), Licence.expires_at > ctx.now()),
    )


def may_download(session: Session, ctx: Context, customer_id: int) -> bool:
    """True while ``customer_id`` holds an active, unexpired licence."""
    owners = _active_licence_owners(ctx).where(Licence.customer_id == customer_id).limit(1)
    return session.scalar(owners) is not None


def releases(session: Session) -> list[tuple[Release, list[ReleaseFile]]]:
    """Every release, newest first, with its files."""
    found = list(session.scalars(select(Release).order_by(Release.published_at.desc())))
    files = session.scalars(select(ReleaseFile).order_by(ReleaseFile.id)).all()
    by_release: dict[int, list[ReleaseFile]] = {}
    for item in files:
        by_release.setdefault(item.release_id, []).append(item)
    return [(release, by_release.get(release.id, [])) for release in found]


def _signature(ctx: Context, file_id: int, customer_id: int, expires: int) -> str:
    key = hashlib.sha256(f"{ctx.settings.secret_key}:licence-downloads".encode()).digest()
    message = f"{file_id}:{customer_id}:{expires}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def signed_link(ctx: Context, file_id: int, customer_id: int) -> str:
    """A link to the file for ``customer_id`` that works for ``LINK_LIFETIME``."""
    expires = int((ctx.now() + LINK_LIFETIME).timestamp())
    signature = _signature(ctx, file_id, customer_id, expires)
    return f"/public/licence-downloads/{file_id}?c={customer_id}&e={expires}&s={signature}"


def open_link(
    session: Session, ctx: Context, file_id: int, customer_id: int, expires: int, signature: str
) -> tuple[ReleaseFile, Path]:
    """The file a link gives and where it is stored; DownloadRefused when the signature is
    wrong, the link has expired, the customer's licence is no longer active or the file is
    gone. The licence is checked now, not when the link was made."""
    expected = _signature(ctx, file_id, customer_id, expires)
    if not hmac.compare_digest(expected, signature):
        raise DownloadRefused("This download link is not valid.")
    if datetime.fromtimestamp(expires, tz=ctx.now().tzinfo) < ctx.now():
        raise DownloadRefused("This download link has expired: open the downloads page again.")
    if not may_download(session, ctx, customer_id):
        raise DownloadRefused("Downloads are available while your licence is active.")
    item = session.get(ReleaseFile, file_id)
    path = storage_dir(ctx) / item.sha256 if item is not None else None
    if item is None or path is None or not path.is_file():
        raise DownloadRefused("This file is no longer available.")
    return item, path


def wants_release_emails(session: Session, customer_id: int) -> bool:
    """False once the customer turned the "new version available" email off."""
    return session.get(ReleaseEmailOptOut, customer_id) is None


def set_release_emails(session: Session, ctx: Context, customer_id: int, wanted: bool) -> None:
    """Turn the customer's "new version available" email on or off."""
    session.execute(delete(ReleaseEmailOptOut).where(ReleaseEmailOptOut.customer_id == customer_id))
    if not wanted:
        session.add(ReleaseEmailOptOut(customer_id=customer_id, at=ctx.now()))
