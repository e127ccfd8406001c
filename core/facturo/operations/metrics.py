"""Prometheus metrics (``prometheus-client``).

Two kinds of figure:

* **per process**: the latency of every request by method, route template and status class
  (``facturo_http_request_duration_seconds``) and how often a kept page was served without
  rendering (``facturo_page_cache_lookups_total``, by page and ``hit``/``miss``). With several web processes on one machine set
  ``PROMETHEUS_MULTIPROC_DIR`` (an empty folder, before the processes start): the client's
  multiprocess mode then adds up every process's samples in whichever process answers the
  scrape. Without it each process reports only its own requests.
* **from the database**, read at each scrape, so any process (or machine) reports the same
  figures however many there are: the outbox backlog and the age of its oldest due row,
  failed emails and events, refunds left in doubt, each periodic job's last duration, status
  and age, the worker's heartbeat age, and what plugins report through ``operations_gauges``
  (a gateway's payment attempts left pending).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from facturo.models import JobRun, OutboxEvent, OutboxMessage, Refund

if TYPE_CHECKING:
    from facturo.context import Context

REQUEST_SECONDS = Histogram(
    "facturo_http_request_duration_seconds",
    "Time to answer an HTTP request, by route template.",
    ("method", "route", "status"),
    registry=None,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
PAGE_CACHE_LOOKUPS = Counter(
    "facturo_page_cache_lookups",
    "Lookups of a kept rendered page, by page and result (hit: served without rendering).",
    ("page", "result"),
    registry=None,
)


def multiprocess_dir() -> str | None:
    """The multiprocess folder when the prometheus client is in multiprocess mode."""
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or os.environ.get("prometheus_multiproc_dir")


class DatabaseCollector(Collector):
    """The figures read from the database at scrape time (see the module)."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def collect(self) -> Iterator[Metric]:
        now = self.ctx.now()
        outbox = GaugeMetricFamily(
            "facturo_outbox_rows",
            "Outbox rows not yet done (pending, sending, failed) by kind and status.",
            labels=("kind", "status"),
        )
        oldest = GaugeMetricFamily(
            "facturo_outbox_oldest_due_seconds",
            "Age of the oldest outbox row that is due and not yet done (0 when none).",
            labels=("kind",),
        )
        jobs = GaugeMetricFamily(
            "facturo_job_last_duration_seconds",
            "How long each periodic job's last run took.",
            labels=("job", "status"),
        )
        job_age = GaugeMetricFamily(
            "facturo_job_last_finished_seconds",
            "Seconds since each job last finished (worker: the heartbeat).",
            labels=("job",),
        )
        in_doubt = GaugeMetricFamily(
            "facturo_refunds_reserved", "Refunds reserved whose gateway answer is not recorded."
        )
        with self.ctx.db.read_session() as session:
            for kind, model in (("email", OutboxMessage), ("event", OutboxEvent)):
                counts = session.execute(  # not the done rows: the index answers, no scan
                    select(model.status, func.count())
                    .where(model.status.in_(("pending", "sending", "failed")))
                    .group_by(model.status)
                ).all()
                for status, count in counts:
                    outbox.add_metric((kind, str(status)), float(count))
                first_due = session.scalar(
                    select(func.min(model.created_at)).where(
                        model.status.in_(("pending", "sending")), model.next_attempt_at <= now
                    )
                )
                age = (now - first_due).total_seconds() if first_due is not None else 0.0
                oldest.add_metric((kind,), max(age, 0.0))
            for run in session.scalars(select(JobRun)):
                if run.last_finished_at is None:
                    continue
                if run.last_started_at is not None:
                    took = (run.last_finished_at - run.last_started_at).total_seconds()
                    jobs.add_metric((run.name, run.last_status or "ok"), max(took, 0.0))
                job_age.add_metric((run.name,), (now - run.last_finished_at).total_seconds())
            in_doubt.add_metric(
                (),
                float(
                    session.scalar(
                        select(func.count()).select_from(Refund).where(Refund.status == "reserved")
                    )
                    or 0
                ),
            )
            contributed = [
                sample
                for samples in self.ctx.hook.operations_gauges(ctx=self.ctx, session=session)
                for sample in samples or ()
            ]
        yield from (outbox, oldest, jobs, job_age, in_doubt)
        yield from _plugin_families(contributed)


def _plugin_families(samples: list[Any]) -> Iterator[Metric]:
    families: dict[str, GaugeMetricFamily] = {}
    for sample in samples:
        name = sample.name if sample.name.startswith("facturo_") else f"facturo_{sample.name}"
        labels = tuple(sorted(sample.labels))
        family = families.get(name)
        if family is None:
            family = families[name] = GaugeMetricFamily(name, sample.help, labels=labels)
        family.add_metric(tuple(sample.labels[k] for k in labels), float(sample.value))
    yield from families.values()


def metrics_registry(ctx: Context) -> CollectorRegistry:
    """The registry ``/metrics`` exposes: request latency and kept-page lookups (all
    processes' in multiprocess mode) and the database figures."""
    registry = CollectorRegistry(auto_describe=False)
    folder = multiprocess_dir()
    if folder:
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry, path=folder)  # type: ignore[no-untyped-call]
    else:
        registry.register(REQUEST_SECONDS)
        registry.register(PAGE_CACHE_LOOKUPS)
    registry.register(DatabaseCollector(ctx))
    return registry


def exposition(registry: CollectorRegistry) -> bytes:
    """The registry in Prometheus's text format."""
    return generate_latest(registry)
