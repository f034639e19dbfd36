"""Adaptive batching: concurrent requests for one model version run as one native call.

One worker thread per model version runs its calls, one batch at a time (a pipeline call
is mostly Python marshalling under the GIL; its kernels release it, but two calls of one
pipeline would only contend); a batch the cost model predicts to be short
(``BatchPolicy.inline``) runs on the event loop's thread instead, without the handoff.
A request for an idle model is dispatched at once; requests that arrive while a batch runs
wait in a bounded queue and go together in the next one, up to ``max_batch`` rows and to as
many rows as the measured cost model (``CostModel``) says finish within half the latency
objective. A request whose predicted wait for its batch to start passes the budget
``max_wait``, or that finds the queue full, is refused with ``Overloaded`` (Retry-After:
the predicted time to drain the queue).

A bad request fails alone: if the combined call raises, the batch is split in halves and
each half run again (bisection) until the failing requests are alone; every other request
gets its result from a call on rows that include its own, which for a row-wise pipeline is
its own rows' result. Requests that must run alone (a pipeline that is not row-wise, an
empty request, top-K) are never combined.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import Any

from willump_mlir.serve.errors import Overloaded

log = logging.getLogger(__name__)


@dataclass
class BatchRecord:
    """One native call (or bisection of one) of a model version, for metrics."""

    model: str
    version: str
    requests: int
    rows: int
    queue_seconds: list[float]  # per request: from arrival to the start of its batch
    compute_seconds: float
    rows_in_python: int  # rows the native code handed back to Python during the batch
    settled_fraction: float | None  # of a cascade: rows the cheap model settled
    errors: int  # requests answered with an error


@dataclass(frozen=True)
class BatchPolicy:
    """How a model version batches (``ModelConfig`` gives these per model)."""

    max_batch: int = 4096  # rows per call
    max_wait: float = 1.0  # seconds a request may wait (predicted) for its batch to start
    objective: float = 0.05  # seconds: the latency objective a batch's compute fits half of
    queue_limit: int = 1024  # requests waiting
    enabled: bool = True  # False: every request is its own call
    #: seconds: a batch predicted to take at most this long runs on the event loop's thread
    #: (it holds the GIL anyway; the handoff to the worker thread would cost more than it
    #: frees), a longer one (or one not predicted yet) in the worker thread; 0: never inline
    inline: float = 0.002


class CostModel:
    """Seconds a call of ``rows`` rows takes, ``fixed + per_row * rows``, fitted by least
    squares over recent calls (exponentially weighted: each call weighs ``1 - decay`` of the
    one after it). A call is measured as the CPU time of the thread it runs on, not its
    wall time: in the worker thread that counts the GIL the call waited for while the event
    loop's thread parsed requests, which feeds back (a longer prediction sends the next
    batch to the worker thread too, where it waits again), and on either thread the time
    the machine gave other processes, which is no cost of the batch's size. (A kernel split
    over several threads, ``PARALLEL_ROWS`` rows or more, counts only its calling thread's
    share: such batches are predicted short. Not the process's CPU time: reading it costs
    up to milliseconds on some machines.) A call measured at more than ``outlier`` times its
    prediction (one a collection paused) counts as that much: it moves the fit as far as a
    genuinely slower call would at first, without making the next batches small or sending
    them to the worker thread for the many calls it takes to fade. While all recent calls
    had about the same size the two terms cannot be told apart, and the cost is taken as
    proportional to the rows (an overestimate for larger batches: they are sized
    conservatively)."""

    def __init__(self, decay: float = 0.05, outlier: float = 4.0):
        self.decay = decay
        self.outlier = outlier
        self.calls = 0
        self.sums = [0.0] * 5  # weight, x, y, xx, xy

    def observe(self, rows: int, seconds: float) -> None:
        keep = 1.0 - self.decay
        predicted = self.predict(rows)
        if predicted is not None:
            seconds = min(seconds, self.outlier * predicted)
        x, y = float(max(rows, 1)), seconds
        self.sums = [s * keep + v for s, v in zip(self.sums, (1.0, x, y, x * x, x * y),
                                                  strict=True)]  # fmt: skip
        self.calls += 1

    def terms(self) -> tuple[float, float] | None:
        """(fixed, per_row) seconds, or None before any call."""
        weight, sx, sy, sxx, sxy = self.sums
        if not self.calls:
            return None
        mean_x, mean_y = sx / weight, sy / weight
        variance = sxx / weight - mean_x * mean_x
        if variance > 0.01 * mean_x * mean_x:
            slope = (sxy / weight - mean_x * mean_y) / variance
            fixed = mean_y - slope * mean_x
            if slope > 0 and fixed >= 0:
                return fixed, slope
        return 0.0, mean_y / mean_x

    def predict(self, rows: int) -> float | None:
        terms = self.terms()
        return None if terms is None else terms[0] + terms[1] * max(rows, 1)


#: told a request's answer on the event loop's thread: (True, result) or (False, exception)
Done = Callable[[bool, Any], None]


class Job:
    """One request in the queue: its payload, rows, whether it runs alone, what to tell its
    answer (``done``), the future ``submit`` awaits (None: ``enqueue``'s caller has none)
    and when it arrived (``time.perf_counter``)."""

    __slots__ = ("payload", "rows", "alone", "done", "future", "arrived")

    def __init__(
        self, payload: Any, rows: int, alone: bool, done: Done,
        future: asyncio.Future[Any] | None,
    ):  # fmt: skip
        self.payload = payload
        self.rows = rows
        self.alone = alone
        self.done = done
        self.future = future
        self.arrived = time.perf_counter()


def _settle(future: asyncio.Future[Any], ok: bool, value: Any) -> None:
    """``submit``'s ``done``: its future's result or exception (unless it was cancelled)."""
    if future.done():
        return
    if ok:
        future.set_result(value)
    else:
        future.set_exception(value)


Call = Callable[[list[Any]], list[Any]]  # payloads -> their results; raises if any is bad


class Batcher:
    """Batches the requests of one model version (see the module docstring).

    ``call(payloads)`` runs in the worker thread and returns one result per payload, in
    order, or raises; ``counters()`` (also in the worker thread) gives the pipeline's rows
    run in Python so far and, for a cascade, (rows, settled rows) so far, or None.
    """

    def __init__(
        self,
        model: str,
        version: str,
        call: Call,
        policy: BatchPolicy,
        counters: Callable[[], tuple[int, tuple[int, int] | None]],
        on_batch: Callable[[BatchRecord], None] | None = None,
    ):
        self.model = model
        self.version = version
        self.call = call
        self.policy = policy
        self.counters = counters
        self.on_batch = on_batch
        self.cost = CostModel()
        self.queue: deque[Job] = deque()
        self.queued_rows = 0
        self.running: tuple[float, float] | None = None  # (started, predicted seconds)
        self.task: asyncio.Task[None] | None = None
        self.executor: ThreadPoolExecutor | None = None
        self.loop: asyncio.AbstractEventLoop | None = None  # of the first request
        self.retired = False

    async def submit(self, payload: Any, rows: int, *, alone: bool = False) -> Any:
        """The result of ``call([payload])``, run with other requests' payloads; its
        exception if the payload is bad; ``Overloaded`` if the queue is full or the
        predicted wait passes the budget."""
        future = asyncio.get_running_loop().create_future()
        self.enqueue(payload, rows, partial(_settle, future), alone=alone, future=future)
        return await future

    def enqueue(
        self, payload: Any, rows: int, done: Done, *, alone: bool = False,
        future: asyncio.Future[Any] | None = None,
    ) -> None:  # fmt: skip
        """Queue ``payload`` (on the event loop's thread): ``done`` is told the result of
        ``call([payload])``, run with other requests' payloads, or its exception, on the
        event loop's thread after its batch (``submit`` without a task or future per
        request); ``Overloaded`` at once if the queue is full or the predicted wait passes
        the budget. ``future``: a request whose future is done (cancelled) is dropped."""
        policy = self.policy
        if len(self.queue) >= policy.queue_limit:
            raise Overloaded(
                f"model {self.model!r} version {self.version}: {len(self.queue)} requests "
                "queued, the limit", retry_after=self.drain_seconds(),
            )  # fmt: skip
        wait = self.wait_seconds() if self.running is not None else 0.0
        if wait > policy.max_wait:
            raise Overloaded(
                f"model {self.model!r} version {self.version}: the predicted wait "
                f"({wait * 1000:.1f} ms) passes the budget ({policy.max_wait * 1000:.1f} ms)",
                retry_after=wait,
            )
        loop = self.loop = asyncio.get_running_loop()
        self.queue.append(Job(payload, rows, alone or not policy.enabled, done, future))
        self.queued_rows += rows
        if self.task is None or self.task.done():
            self.task = loop.create_task(self.drain())

    def wait_seconds(self) -> float:
        """Predicted seconds until a request arriving now starts: the rest of the running
        batch and the batches queued before it (0 before any call was measured)."""
        terms = self.cost.terms()
        if terms is None:
            return 0.0
        fixed, per_row = terms
        started, predicted = self.running or (0.0, 0.0)
        left = max(0.0, predicted - (time.perf_counter() - started)) if self.running else 0.0
        if not self.queue:
            return left
        batches = math.ceil(self.queued_rows / max(self.policy.max_batch, 1)) \
            if self.policy.enabled else len(self.queue)  # fmt: skip
        return left + batches * fixed + self.queued_rows * per_row

    def drain_seconds(self) -> float:
        """Predicted seconds until the queue is empty (at least 10 ms)."""
        terms = self.cost.terms()
        if terms is None:
            return 0.01
        return max(0.01, self.wait_seconds() + terms[0] + terms[1])

    def take(self) -> list[Job]:
        """The next batch: the oldest request, then the next ones while they fit."""
        queue = self.queue
        first = queue.popleft()
        batch = [first]
        rows = first.rows
        if not first.alone:
            limit = self.policy.max_batch
            terms = self.cost.terms()
            if terms is not None and terms[1] > 0:  # the rows predicted to fit the objective
                limit = min(limit, math.floor((self.policy.objective / 2 - terms[0]) / terms[1]))
            while queue and not queue[0].alone and rows + queue[0].rows <= limit:
                rows += queue[0].rows
                batch.append(queue.popleft())
        self.queued_rows -= rows
        return batch

    async def drain(self) -> None:
        """Run batches until the queue is empty."""
        loop = asyncio.get_running_loop()
        while self.queue:
            batch = self.take()
            batch = [j for j in batch if j.future is None or not j.future.done()]  # cancelled
            if not batch:
                continue
            rows = sum(j.rows for j in batch)
            started = time.perf_counter()
            predicted = self.cost.predict(rows)
            self.running = (started, predicted or 0.0)
            try:
                if predicted is not None and predicted <= self.policy.inline:
                    answers, record = self.run(batch)  # shorter than a handoff is worth
                else:
                    if self.executor is None:
                        name = f"willump-serve-{self.model}-{self.version}"
                        self.executor = ThreadPoolExecutor(1, thread_name_prefix=name)
                    answers, record = await loop.run_in_executor(self.executor, self.run, batch)
            except Exception as error:  # the batcher's own failure: no request may hang on it
                log.exception("batch of %s version %s failed", self.model, self.version)
                answers, record = [(False, error)] * len(batch), None
            finally:
                self.running = None
            for job, (ok, value) in zip(batch, answers, strict=True):
                try:
                    job.done(ok, value)
                except Exception:  # one request's answer: the others still get theirs
                    log.exception("answering a request to %s version %s failed", self.model,
                                  self.version)  # fmt: skip
            if self.on_batch is not None and record is not None:
                try:
                    self.on_batch(record)
                except Exception:
                    log.exception("on_batch failed for %s version %s", self.model, self.version)
        if self.retired:
            self.shutdown()

    def run(self, batch: list[Job]) -> tuple[list[tuple[bool, Any]], BatchRecord]:
        """Answer every job of ``batch`` (in the worker thread, or inline), and the batch's
        record."""
        started = time.perf_counter()
        in_python, cascade = self.counters()
        answers = self.answer(batch, measure=True)
        compute = time.perf_counter() - started
        after_python, after_cascade = self.counters()
        settled = None
        if cascade is not None and after_cascade is not None:
            rows = after_cascade[0] - cascade[0]
            settled = (after_cascade[1] - cascade[1]) / rows if rows else None
        record = BatchRecord(
            self.model, self.version, len(batch), sum(j.rows for j in batch),
            [started - j.arrived for j in batch], compute, after_python - in_python, settled,
            sum(1 for ok, _ in answers if not ok),
        )  # fmt: skip
        return answers, record

    def answer(self, jobs: list[Job], measure: bool = False) -> list[tuple[bool, Any]]:
        """(True, result) or (False, exception) per job: one call for all of them, else
        each half again, down to the requests that fail alone."""
        started = time.thread_time()
        try:
            results = self.call([j.payload for j in jobs])
        except Exception as error:
            if len(jobs) == 1:
                return [(False, error)]
            middle = len(jobs) // 2
            return self.answer(jobs[:middle]) + self.answer(jobs[middle:])
        if measure:  # its thread's CPU time: see ``CostModel``
            self.cost.observe(sum(j.rows for j in jobs), time.thread_time() - started)
        return [(True, r) for r in results]

    def retire(self) -> None:
        """Stop the worker thread once the queue is empty (the version was replaced or
        unloaded; a request that still reaches it is served, on a new thread). Safe to
        call from any thread."""
        if self.loop is not None and not self.loop.is_closed():
            self.loop.call_soon_threadsafe(self._retire)
        else:
            self._retire()

    def _retire(self) -> None:
        self.retired = True
        if self.task is None or self.task.done():
            self.shutdown()

    def shutdown(self) -> None:
        if self.executor is not None:
            self.executor.shutdown(wait=False)
            self.executor = None

    async def close(self) -> None:
        """Wait until every queued request is answered, then stop the worker thread."""
        while self.task is not None and not self.task.done():
            await asyncio.shield(self.task)
        self.shutdown()
