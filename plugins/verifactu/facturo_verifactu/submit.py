"""The sender job: submit pending records to the AEAT, in chain order, as flow control allows.

Per issuer: when ``next_send_at`` has passed (or a full batch is waiting) send up to
``batch_size`` (≤ 1 000) pending or retryable records, oldest first; store the answer on each
record (accepted, accepted_with_errors, rejected — final, left for staff — or retry), and set
``next_send_at`` to now + the TiempoEsperaEnvio answered (60 s when there was no answer).
Records already tried once go out flagged as a technical incident (Incidencia=S).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import httpx
from sqlalchemy import func, select

from facturo.plugin import Context

from .chain import lock_head, rebuild
from .models import ChainHead, ChainRecord
from .records import Record, verifactu_end_date
from .sender import Outcome, client_tls_context, send_batch
from .settings import Config, config

DEFAULT_WAIT = 60
SENDABLE = ("pending", "retry")


@dataclass
class SendReport:
    """What one run did: records sent and their outcomes, or why it sent nothing."""

    sent: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    skipped: str = ""


def make_client(cfg: Config) -> httpx.Client:
    """An httpx client for the AEAT: mutual TLS when a certificate is configured (a PKCS#12
    ``.p12``/``.pfx`` file with its password, or PEM files); the server is checked against
    ``ca_bundle`` when set. Raises CertificateError when the certificate cannot be loaded."""
    if cfg.certificate_path:
        context = client_tls_context(
            cfg.certificate_path,
            cfg.key_path or None,
            cfg.certificate_password or None,
            cfg.ca_bundle or None,
        )
        return httpx.Client(verify=context, timeout=60.0)
    return httpx.Client(verify=cfg.ca_bundle or True, timeout=60.0)


def pending_count(ctx: Context, issuer_nif: str) -> int:
    """How many records of the issuer still wait to be sent."""
    with ctx.db.read_session() as session:
        return int(
            session.scalar(
                select(func.count(ChainRecord.id)).where(
                    ChainRecord.issuer_nif == issuer_nif, ChainRecord.status.in_(SENDABLE)
                )
            )
            or 0
        )


def _batch(ctx: Context, issuer_nif: str, size: int) -> tuple[list[int], list[Record], bool]:
    with ctx.db.read_session() as session:
        rows = list(
            session.scalars(
                select(ChainRecord)
                .where(ChainRecord.issuer_nif == issuer_nif, ChainRecord.status.in_(SENDABLE))
                .order_by(ChainRecord.sequence)
                .limit(size)
            )
        )
        records: list[Record] = []
        for row in rows:
            previous = None
            if row.sequence > 1:
                previous = session.scalar(
                    select(ChainRecord).where(
                        ChainRecord.issuer_nif == issuer_nif,
                        ChainRecord.sequence == row.sequence - 1,
                    )
                )
            records.append(rebuild(row, previous))
        incident = any(row.attempts > 0 for row in rows)
        return [row.id for row in rows], records, incident


def send_pending(ctx: Context, client: httpx.Client | None = None) -> SendReport:
    """Submit what is due for the configured issuer; see the module docstring."""
    cfg = config(ctx)
    report = SendReport()
    if not cfg.submission_enabled:
        report.skipped = "submission disabled"
        return report
    own_client = client is None
    http = client or make_client(cfg)
    try:
        while True:
            waiting = pending_count(ctx, cfg.issuer_nif)
            if waiting == 0:
                report.skipped = report.skipped or "nothing to send"
                return report
            with ctx.db.read_session() as session:
                head = session.scalar(
                    select(ChainHead).where(ChainHead.issuer_nif == cfg.issuer_nif)
                )
                next_at = head.next_send_at if head else None
            if next_at is not None and ctx.now() < next_at and waiting < cfg.batch_size:
                report.skipped = f"waiting until {next_at.isoformat()}"
                return report
            ids, records, incident = _batch(ctx, cfg.issuer_nif, cfg.batch_size)
            result = send_batch(
                http,
                cfg.endpoint_url,
                cfg.issuer_name,
                cfg.issuer_nif,
                records,
                incident=incident,
                end_date=verifactu_end_date(ctx.today()) if cfg.leave_verifactu else None,
            )
            now = ctx.now()
            with ctx.db.transaction() as session:
                for record_id, item in zip(ids, result.outcomes, strict=True):
                    row = session.get(ChainRecord, record_id)
                    assert row is not None
                    row.status = item.outcome.value
                    row.attempts += 1
                    row.error_code = item.error_code
                    row.error_description = (item.error_description or "")[:2000]
                    if item.outcome is not Outcome.RETRY:
                        row.submitted_at = now
                        row.csv = result.csv
                    report.outcomes[row.status] = report.outcomes.get(row.status, 0) + 1
                head = lock_head(ctx, session, cfg.issuer_nif)
                wait = result.wait_seconds if result.wait_seconds is not None else DEFAULT_WAIT
                head.last_wait_seconds = result.wait_seconds
                head.next_send_at = now + timedelta(seconds=wait)
            report.sent += len(ids)
            if result.retryable or len(ids) < cfg.batch_size:
                return report
    finally:
        if own_client:
            http.close()


def run_job(ctx: Context) -> str:
    """The periodic job ``verifactu_send``: one :func:`send_pending`, summarised."""
    report = send_pending(ctx)
    if report.sent:
        return f"sent {report.sent}: {report.outcomes}"
    return report.skipped
