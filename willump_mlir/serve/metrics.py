"""Prometheus metrics of ``willump serve``, per model and version: requests, errors by status,
request latency, and from each batch (:class:`~willump_mlir.serve.batching.BatchRecord`) the
queue and compute times, batch sizes, rows run in Python and the cascade's settled rows; at
each scrape, the rows and calls each loaded version handed to Python by reason."""

from __future__ import annotations

import os
from collections import Counter as Counts
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Protocol

from prometheus_client import (
    GC_COLLECTOR,
    PLATFORM_COLLECTOR,
    PROCESS_COLLECTOR,
    CollectorRegistry,
    Counter,
    Histogram,
)
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from willump_mlir.serve.batching import BatchRecord

LABELS = ("model", "version")
#: the environment variable of prometheus_client's multiprocess mode
METRICS_DIR = "PROMETHEUS_MULTIPROC_DIR"
#: seconds: 50 µs to 10 s
TIME_BUCKETS = (
    5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 1e-2, 2.5e-2, 5e-2, 0.1, 0.25, 0.5, 1, 2.5, 10,
)  # fmt: skip
ROW_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096, 16384, 65536)


class Served(Protocol):
    """A loaded model version, as the handoff metrics read it."""

    name: str
    version: str

    def handoffs(self) -> tuple[Counts[str], Counts[str]]: ...


Handoffs = list[tuple[str, str, Counts[str], Counts[str]]]


class HandoffCollector(Collector):
    """``willump_handoff_rows_total`` and ``willump_handoff_calls_total`` by model, version
    and reason, read from the loaded versions' pipelines at each scrape (their counters
    since the version loaded: nothing is counted per request), or with ``--workers N``
    from every worker's (``gathered``, set before the scrape)."""

    def __init__(self, served: Callable[[], Iterable[Served]]) -> None:
        self.served = served
        self.gathered: Handoffs | None = None

    def counts(self) -> Handoffs:
        """(model, version, rows by reason, calls by reason) of each loaded version."""
        if self.gathered is not None:
            return self.gathered
        return [(m.name, m.version, *m.handoffs()) for m in self.served()]

    def collect(self) -> Iterator[Metric]:
        labels = [*LABELS, "reason"]
        rows = CounterMetricFamily(
            "willump_handoff_rows", "Rows the compiled pipeline handed back to Python, by "
            "reason (a row flagged for two reasons counts under both)", labels=labels,
        )  # fmt: skip
        calls = CounterMetricFamily(
            "willump_handoff_calls", "Calls the original function ran on a whole batch, by "
            "reason", labels=labels,
        )  # fmt: skip
        for name, version, by_rows, by_calls in self.counts():
            for reason, count in sorted(by_rows.items()):
                rows.add_metric([name, version, reason], count)
            for reason, count in sorted(by_calls.items()):
                calls.add_metric([name, version, reason], count)
        yield rows
        yield calls


class Metrics:
    """One registry per server (not the process-global one), with the process, platform and
    garbage-collector metrics too; or, in a worker of ``--workers N`` (``worker``: its slot),
    counters and histograms kept by prometheus_client's multiprocess mode in the directory
    ``$PROMETHEUS_MULTIPROC_DIR`` the parent made, rendered summed over every worker (those
    that exited too), plus ``willump_worker_requests_total`` by worker, without the
    per-process metrics (they would be one worker's)."""

    content_type = CONTENT_TYPE_LATEST.encode()

    def __init__(self, worker: int | None = None) -> None:
        self.registry = CollectorRegistry()
        self.worker_requests: Counter | None = None
        self.handoffs: HandoffCollector | None = None
        if worker is None:
            registry: CollectorRegistry | None = self.registry
            for collector in (PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR):
                self.registry.register(collector)
        else:
            registry = None  # the files of every worker are rendered instead
            MultiProcessCollector(self.registry, os.environ[METRICS_DIR])
            self.worker_requests = Counter(
                "willump_worker_requests", "Requests answered by each worker process (every "
                "route)", ["worker"], registry=None,
            ).labels(str(worker))  # fmt: skip
        self.requests = Counter(
            "willump_requests", "Inference requests answered", LABELS, registry=registry
        )
        self.errors = Counter(
            "willump_request_errors", "Inference requests answered with an error status",
            (*LABELS, "code"), registry=registry,
        )  # fmt: skip

        def histogram(name: str, text: str, buckets: tuple[float, ...]) -> Histogram:
            return Histogram(name, text, LABELS, buckets=buckets, registry=registry)

        self.latency = histogram(
            "willump_request_duration_seconds", "Server time of an inference request", TIME_BUCKETS
        )
        self.queue = histogram(
            "willump_queue_duration_seconds", "Time a request waited for its batch", TIME_BUCKETS
        )
        self.compute = histogram(
            "willump_compute_duration_seconds", "Time of one batch's pipeline call", TIME_BUCKETS
        )
        self.batch_rows = histogram("willump_batch_rows", "Rows in one batch", ROW_BUCKETS)
        self.batch_requests = histogram(
            "willump_batch_requests", "Requests coalesced into one batch", ROW_BUCKETS
        )
        self.rows = Counter("willump_rows", "Rows computed", LABELS, registry=registry)
        self.rows_in_python = Counter(
            "willump_rows_in_python", "Rows the compiled pipeline handed back to Python",
            LABELS, registry=registry,
        )  # fmt: skip
        self.cascade_rows = Counter(
            "willump_cascade_rows", "Rows run by a cascade", LABELS, registry=registry
        )
        self.cascade_settled = Counter(
            "willump_cascade_settled_rows",
            "Rows a cascade's cheap model settled (settled fraction = this / willump_cascade_rows)",
            LABELS, registry=registry,
        )  # fmt: skip
        self.batch_errors = Counter(
            "willump_batch_failed_requests", "Requests failed inside a batch (alone)", LABELS,
            registry=registry,
        )  # fmt: skip
        #: (requests, latency) children of each (model, version) served
        self._children: dict[tuple[str, str], tuple[Counter, Histogram]] = {}

    def watch(self, served: Callable[[], Iterable[Served]]) -> None:
        """Export the handoffs of the versions ``served()`` gives at each scrape."""
        self.handoffs = HandoffCollector(served)
        self.registry.register(self.handoffs)

    def observe_request(self, model: str, version: str, status: int, seconds: float) -> None:
        """One answered request to a known model."""
        children = self._children.get((model, version))
        if children is None:  # a label lookup costs more than the update: once per version
            children = (self.requests.labels(model, version), self.latency.labels(model, version))
            self._children[model, version] = children
        children[0].inc()
        children[1].observe(seconds)
        if status >= 400:
            self.errors.labels(model, version, str(status)).inc()

    def observe_batch(self, record: BatchRecord) -> None:
        """The repository's ``on_batch`` hook: one batch's record."""
        labels = (record.model, record.version)
        queue = self.queue.labels(*labels)
        for seconds in record.queue_seconds:
            queue.observe(seconds)
        self.compute.labels(*labels).observe(record.compute_seconds)
        self.batch_rows.labels(*labels).observe(record.rows)
        self.batch_requests.labels(*labels).observe(record.requests)
        self.rows.labels(*labels).inc(record.rows)
        self.rows_in_python.labels(*labels).inc(record.rows_in_python)
        if record.errors:
            self.batch_errors.labels(*labels).inc(record.errors)
        if record.settled_fraction is not None:
            self.cascade_rows.labels(*labels).inc(record.rows)
            self.cascade_settled.labels(*labels).inc(record.settled_fraction * record.rows)

    def render(self, handoffs: Handoffs | None = None) -> bytes:
        """The text exposition format (with ``handoffs`` gathered from every worker)."""
        if self.handoffs is not None:
            self.handoffs.gathered = handoffs
        return generate_latest(self.registry)
