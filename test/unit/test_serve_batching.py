"""``serve.batching``: requests coalesced into one call, a bad request failing alone, the
bounded queue; with a stand-in call and with real pipelines served from a repository."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pandas as pd
import pytest
import serve_pipelines as sp

import willump_mlir as wm
from willump_mlir.serve.batching import Batcher, BatchPolicy, BatchRecord, CostModel
from willump_mlir.serve.errors import Overloaded, ServeError
from willump_mlir.serve.protocol import decode_request
from willump_mlir.serve.repository import Repository


class Doubler:
    """A stand-in pipeline call: each payload is a list of numbers, doubled; a payload
    holding -1 makes the whole call raise. ``gate`` holds the worker until it is set."""

    def __init__(self) -> None:
        self.calls: list[list[Any]] = []
        self.gate = threading.Event()
        self.gate.set()

    def __call__(self, payloads: list[Any]) -> list[Any]:
        self.gate.wait(10)
        self.calls.append(payloads)
        if any(-1 in p for p in payloads):
            raise ValueError("a -1 row")
        return [[2 * v for v in p] for p in payloads]


def batcher(call: Doubler, records: list[BatchRecord], **policy: Any) -> Batcher:
    return Batcher("m", "1", call, BatchPolicy(**policy), lambda: (0, None), records.append)


def test_requests_that_arrive_while_a_batch_runs_go_together() -> None:
    call, records = Doubler(), []

    async def main() -> None:
        b = batcher(call, records, objective=100.0)  # the held call must not cap batches
        call.gate.clear()
        first = asyncio.ensure_future(b.submit([0], 1))
        await asyncio.sleep(0.05)  # the first request runs alone: the model was idle
        rest = [asyncio.ensure_future(b.submit([k, k], 2)) for k in range(1, 6)]
        await asyncio.sleep(0.01)
        call.gate.set()
        assert await first == [0]
        assert await asyncio.gather(*rest) == [[2 * k, 2 * k] for k in range(1, 6)]
        await b.close()

    asyncio.run(main())
    assert [len(c) for c in call.calls] == [1, 5]
    assert [(r.requests, r.rows, r.errors) for r in records] == [(1, 1, 0), (5, 10, 0)]
    assert all(len(r.queue_seconds) == r.requests and r.compute_seconds > 0 for r in records)


def test_a_bad_request_fails_alone() -> None:
    call, records = Doubler(), []

    async def main() -> list[Any]:
        b = batcher(call, records, objective=100.0)
        call.gate.clear()
        blocker = asyncio.ensure_future(b.submit([0], 1))
        await asyncio.sleep(0.05)
        payloads = [[1], [2], [-1], [3], [4], [-1, 5], [6]]
        jobs = [asyncio.ensure_future(b.submit(p, len(p))) for p in payloads]
        await asyncio.sleep(0.01)
        call.gate.set()
        await blocker
        return await asyncio.gather(*jobs, return_exceptions=True)

    answers = asyncio.run(main())
    assert [a if isinstance(a, list) else "error" for a in answers] == \
        [[2], [4], "error", [6], [8], "error", [12]]  # fmt: skip
    assert str(answers[2]) == "a -1 row"
    assert records[-1].requests == 7 and records[-1].errors == 2


def test_requests_that_must_run_alone_are_never_combined() -> None:
    call, records = Doubler(), []

    async def main() -> None:
        b = batcher(call, records, max_batch=3, objective=100.0)
        call.gate.clear()
        blocker = asyncio.ensure_future(b.submit([0], 1))
        await asyncio.sleep(0.05)
        jobs = [
            b.submit([1], 1), b.submit([2], 1, alone=True), b.submit([3], 1), b.submit([4], 1),
            b.submit([5], 1), b.submit([6], 1),
        ]  # fmt: skip
        tasks = [asyncio.ensure_future(j) for j in jobs]
        await asyncio.sleep(0.01)
        call.gate.set()
        await blocker
        await asyncio.gather(*tasks)

    asyncio.run(main())
    # FIFO; an alone request splits the queue; max_batch=3 rows caps a batch
    assert call.calls == [[[0]], [[1]], [[2]], [[3], [4], [5]], [[6]]]


def test_a_full_queue_is_overloaded_with_a_retry_after() -> None:
    call, records = Doubler(), []

    async def main() -> None:
        b = batcher(call, records, queue_limit=2, max_wait=100.0)
        call.gate.clear()
        running = asyncio.ensure_future(b.submit([0], 1))
        await asyncio.sleep(0.05)
        queued = [asyncio.ensure_future(b.submit([k], 1)) for k in (1, 2)]
        await asyncio.sleep(0.01)
        with pytest.raises(Overloaded, match="2 requests queued") as refused:
            await b.submit([3], 1)
        assert refused.value.status == 503 and refused.value.retry_after > 0
        call.gate.set()
        assert await asyncio.gather(running, *queued) == [[0], [2], [4]]
        assert await b.submit([3], 1) == [6]  # room again

    asyncio.run(main())


def test_a_predicted_wait_past_the_budget_is_overloaded() -> None:
    call, records = Doubler(), []

    async def main() -> None:
        b = batcher(call, records, max_wait=0.01)
        for _ in range(3):
            b.cost.observe(1, 0.05)  # calls measured at 50 ms
        call.gate.clear()
        running = asyncio.ensure_future(b.submit([0], 1))
        await asyncio.sleep(0.001)
        with pytest.raises(Overloaded, match="predicted wait") as refused:
            await b.submit([1], 1)
        assert 0.0 < refused.value.retry_after <= 0.06
        call.gate.set()
        await running

    asyncio.run(main())


class TenMillisecondsARow(CostModel):
    def observe(self, rows: int, seconds: float) -> None:
        pass

    def terms(self) -> tuple[float, float]:
        return 0.0, 0.01


def test_a_batch_fits_half_the_latency_objective() -> None:
    call, records = Doubler(), []

    async def main() -> None:
        b = batcher(call, records, objective=0.05, max_wait=100.0)
        b.cost = TenMillisecondsARow()  # 25 ms, half the objective, is 2 rows
        call.gate.clear()
        blocker = asyncio.ensure_future(b.submit([0], 1))
        await asyncio.sleep(0.05)
        tasks = [asyncio.ensure_future(b.submit([k], 1)) for k in range(1, 6)]
        await asyncio.sleep(0.01)
        call.gate.set()
        await asyncio.gather(blocker, *tasks)

    asyncio.run(main())
    assert [len(c) for c in call.calls[:3]] == [1, 2, 2]


def test_the_cost_model_separates_the_call_from_the_rows() -> None:
    cost = CostModel()
    assert cost.predict(10) is None
    for rows in (1, 10, 100, 1, 50):
        cost.observe(rows, 0.001 + 0.0001 * rows)
    fixed, per_row = cost.terms() or (0, 0)
    assert fixed == pytest.approx(0.001) and per_row == pytest.approx(0.0001)
    same = CostModel()
    for _ in range(5):
        same.observe(4, 0.002)  # one size only: proportional to the rows
    assert same.predict(8) == pytest.approx(0.004)


def test_an_outlier_call_moves_the_cost_model_only_so_far() -> None:
    cost = CostModel()
    for k in range(40):
        rows = 1 + (k * 7) % 64
        cost.observe(rows, 0.0005 + 0.00001 * rows)  # 0.5 ms a call and 10 µs a row
    before = cost.predict(64) or 0
    assert before == pytest.approx(0.00114)
    cost.observe(3, 0.05)  # a call the machine paused for 50 ms: counted as 4x its prediction
    assert cost.predict(64) < 1.5 * before
    for _ in range(10):
        cost.observe(64, 0.02)  # genuinely slower: followed within a few calls
    assert cost.predict(64) > 0.01


def burn(seconds: float) -> None:
    """Hold the GIL (pure Python) for ``seconds`` of this thread's CPU time."""
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        sum(range(100))


def test_a_call_in_the_worker_thread_costs_its_cpu_not_the_gil_waits() -> None:
    """The event loop's thread holding the GIL while a call runs in the worker thread
    lengthens the call, but not its measured cost (else the next batch would be predicted
    longer and sent to the worker thread too)."""
    records: list[BatchRecord] = []

    def call(payloads: list[Any]) -> list[Any]:
        burn(0.05)
        return payloads

    async def main() -> float:
        b = Batcher("m", "1", call, BatchPolicy(inline=0.0), lambda: (0, None), records.append)
        answer = asyncio.ensure_future(b.submit([1], 1))
        await asyncio.sleep(0.002)  # the call starts in the worker thread
        burn(0.2)  # the event loop's thread parses requests meanwhile
        await answer
        await b.close()
        return b.cost.predict(1) or 0.0

    # The premise: the event loop's thread took the GIL from the call, so the call's wall time
    # grew. A 10 ms call could end before the GIL changed hands (a 2 ms sleep can last 5 ms
    # here, and CPython asks for the GIL after 5 ms); and when the OS does not run that thread
    # meanwhile (another test process on the same cores), the call runs alone: run it again.
    for _ in range(5):
        records.clear()
        measured = asyncio.run(main())
        if records[0].compute_seconds > 0.07:
            break
    assert records[0].compute_seconds > 0.07, "the call never waited for the GIL"
    assert 0.04 < measured < 0.75 * records[0].compute_seconds


# region Real pipelines


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any, pd.DataFrame, Any]:
    """A repository holding the loan pipeline (unknown categories refused) and a cascade."""
    frame, y = sp.loans()
    model = sp.loan_model(frame[:400], y[:400], unknown="error")
    compiled = wm.compile(sp.score_loans, example=(frame[:200], model))
    fast, cascade_model, cascade_rows = sp.cascade()
    root = tmp_path_factory.mktemp("repository")
    compiled.save(root / "loans" / "1")
    fast.save(root / "cascade" / "1")
    return root, compiled, frame[400:].reset_index(drop=True), (fast, cascade_model, cascade_rows)


def request(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    return {name: column.to_numpy() for name, column in frame.items()}


async def opened(root: Path, records: list[BatchRecord]) -> Repository:
    """The repository at ``root``, its models loaded, its batches recorded in ``records``."""
    repository = Repository(root, on_batch=records.append)
    while not repository.ready():
        await asyncio.sleep(0.01)
    return repository


def concurrently(root: Path, name: str, parts: list[pd.DataFrame]) -> tuple[list[Any], Any]:
    """Every part sent at once to model ``name``: the answers (or errors) and the batches."""
    records: list[BatchRecord] = []

    async def main() -> list[Any]:
        repository = await opened(root, records)
        model = repository.get(name)
        answers = await asyncio.gather(
            *(model.infer(request(p), parameters={}, outputs=None) for p in parts),
            return_exceptions=True,
        )
        await repository.close()
        return answers

    return asyncio.run(main()), records


def test_concurrent_requests_coalesce_and_each_gets_its_own_rows(served: Any) -> None:
    root, compiled, fresh, _ = served
    parts = [fresh.iloc[k : k + 1 + k % 4] for k in range(0, 120, 4)]
    answers, records = concurrently(root, "loans", parts)
    for part, answer in zip(parts, answers, strict=True):
        np.testing.assert_array_equal(answer["predict"], compiled(part))
    assert max(r.requests for r in records) > 1
    assert sum(r.requests for r in records) == len(parts)
    assert sum(r.rows for r in records) == sum(len(p) for p in parts)
    assert all(r.rows_in_python == 0 and r.settled_fraction is None for r in records)


def test_one_bad_request_inside_a_batch_fails_alone(served: Any) -> None:
    root, compiled, fresh, _ = served
    parts = [fresh.iloc[k : k + 3] for k in range(0, 60, 3)]
    parts[7] = parts[7].assign(grade=["A", "Z", "B"])  # an unknown category: refused
    answers, records = concurrently(root, "loans", parts)
    assert isinstance(answers[7], ServeError) and "'Z'" in str(answers[7])
    with pytest.raises(ValueError, match="'Z'"):
        compiled(parts[7])  # in-process, the same rows are refused
    for k, (part, answer) in enumerate(zip(parts, answers, strict=True)):
        if k != 7:
            np.testing.assert_array_equal(answer["predict"], compiled(part))
    assert sum(r.errors for r in records) == 1 and max(r.requests for r in records) > 1


def test_requests_converted_with_their_batch_fail_alone_naming_their_own_row(
    served: Any,
) -> None:
    """Requests whose inputs are of the columns' dtypes are converted once per batch (text
    checked and decoded for all of them together); one whose text does not convert fails
    alone, naming its own row. A request that needs its own conversion (integers for the
    int64 column sent as floats, text as bytes) goes in the same batch, exactly."""
    root, compiled, fresh, _ = served
    parts = [fresh.iloc[k : k + 2 + k % 3] for k in range(0, 80, 4)]
    requests = [request(p) for p in parts]
    requests[5]["state"] = requests[5]["state"].copy()
    requests[5]["state"][1] = b"\xffNY"
    requests[9]["years"] = requests[9]["years"].astype(np.float64)  # integral: exact
    requests[11]["grade"] = np.array([g.encode() for g in parts[11]["grade"]], dtype=object)
    records: list[BatchRecord] = []

    async def main() -> list[Any]:
        repository = await opened(root, records)
        model = repository.get("loans")
        assert model.signature.columns(requests[0]) is not None  # the batch's conversion
        assert model.signature.columns(requests[9]) is None  # its own
        answers = await asyncio.gather(
            *(model.infer(r, parameters={}, outputs=None) for r in requests),
            return_exceptions=True,
        )
        await repository.close()
        return answers

    answers = asyncio.run(main())
    assert isinstance(answers[5], ServeError)
    assert "input 'state', row 1: not UTF-8 text" in str(answers[5])
    for k, (part, answer) in enumerate(zip(parts, answers, strict=True)):
        if k != 5:
            np.testing.assert_array_equal(answer["predict"], compiled(part))
    assert sum(r.errors for r in records) == 1 and max(r.requests for r in records) > 1


def json_body(frame: pd.DataFrame, **changes: Any) -> bytes:
    """A one-table JSON request for ``frame`` (NaN as null), with ``changes`` to its input
    specs by name."""
    specs = []
    for name, column in frame.items():
        values = column.astype(object).where(column.notna(), None).tolist()
        datatype = {"f": "FP64", "i": "INT64"}.get(column.dtype.kind, "BYTES")
        specs.append({"name": name, "shape": [len(frame)], "datatype": datatype, "data": values}
                     | changes.get(name, {}))  # fmt: skip
    return orjson.dumps({"parameters": {"content_type": "pd"}, "inputs": specs})


def test_json_tables_batch_with_arrays_and_each_bad_request_fails_alone(served: Any) -> None:
    """JSON requests kept as parsed (``Table``) join their batch as lists, with requests
    decoded input by input (years as floats: converted alone), and each gets the
    in-process result of its own rows: NaN (null), one row or several; one that the
    pipeline refuses (an unknown category), one with a value not of its datatype (a bool
    for BYTES) and one with a missing column fail alone, by their own message."""
    root, compiled, fresh, _ = served
    parts = [fresh.iloc[k : k + 1 + k % 3] for k in range(0, 90, 3)]
    bodies = [json_body(p) for p in parts]
    bodies[4] = json_body(parts[4].assign(grade=["Z"] * len(parts[4])))
    bodies[8] = json_body(parts[8], years={"datatype": "FP64",
                                           "data": parts[8]["years"].astype(float).tolist()})
    bodies[12] = json_body(parts[12], state={"data": [True] * len(parts[12])})
    bodies[16] = json_body(parts[16].drop(columns="rate"))
    records: list[BatchRecord] = []

    async def main() -> list[Any]:
        repository = await opened(root, records)
        model = repository.get("loans")

        async def infer(body: bytes) -> Any:
            request = decode_request(body, table=model.table)
            return await model.infer(request.inputs, parameters={}, outputs=None,
                                     table=request.table)  # fmt: skip

        decoded = [decode_request(b, table=model.table) for b in bodies[:9]]
        assert [r.table is not None for r in decoded[:9]] == [True] * 8 + [False]
        answers = await asyncio.gather(*(infer(b) for b in bodies), return_exceptions=True)
        await repository.close()
        return answers

    answers = asyncio.run(main())
    assert isinstance(answers[4], ServeError) and "'Z'" in str(answers[4])
    assert isinstance(answers[12], ServeError) and "'state'" in str(answers[12])
    assert isinstance(answers[16], ServeError) and "'rate'" in str(answers[16])
    assert any(np.isnan(p["amount"]).any() for p in parts)
    for k, (part, answer) in enumerate(zip(parts, answers, strict=True)):
        if k not in (4, 12, 16):
            np.testing.assert_array_equal(answer["predict"], compiled(part))
    assert sum(r.errors for r in records) == 1 and max(r.requests for r in records) > 1


def test_a_cascade_batches_and_reports_its_settled_fraction(served: Any) -> None:
    root, _, _, (fast, cascade_model, rows) = served
    parts = [rows.iloc[k : k + 5] for k in range(0, 100, 5)]
    answers, records = concurrently(root, "cascade", parts)
    for part, answer in zip(parts, answers, strict=True):
        np.testing.assert_array_equal(answer["predict"], fast(part, cascade_model))
    assert max(r.requests for r in records) > 1
    assert all(r.settled_fraction is not None and 0 <= r.settled_fraction <= 1 for r in records)


# endregion


def test_a_batch_predicted_short_runs_on_the_event_loop_thread() -> None:
    threads: list[str] = []

    def call(payloads: list[Any]) -> list[Any]:
        threads.append(threading.current_thread().name)
        if any(-1 in p for p in payloads):
            raise ValueError("a -1 row")
        return [[2 * v for v in p] for p in payloads]

    async def main() -> None:
        records: list[BatchRecord] = []
        b = Batcher("m", "1", call, BatchPolicy(inline=0.5), lambda: (0, None), records.append)
        assert await b.submit([1], 1) == [2]  # not measured yet: the worker thread
        assert await b.submit([3], 1) == [6]  # measured far under 0.5 s: on the loop
        with pytest.raises(ValueError, match="a -1 row"):
            await b.submit([-1], 1)  # an error inline fails its request as in the worker
        never = Batcher("m", "1", call, BatchPolicy(inline=0.0), lambda: (0, None))
        assert [await never.submit([k], 1) for k in range(3)] == [[0], [2], [4]]
        assert [r.errors for r in records] == [0, 0, 1]
        await b.close()
        await never.close()

    asyncio.run(main())
    loop = threading.main_thread().name
    assert threads[0] != loop and threads[1:3] == [loop, loop]
    assert loop not in threads[3:]


async def exchange(port: int, body: bytes) -> tuple[bytes, bytes]:
    """One keep-alive infer request to ``willump serve``'s own server: the reply's head and
    body."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    head = b"POST /v2/models/loans/infer HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n"
    writer.write(head % len(body) + body)
    head = await reader.readuntil(b"\r\n\r\n")
    length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
    reply = await reader.readexactly(length)
    writer.close()
    return head, reply


def test_the_servers_infer_path_answers_as_respond_does(served: Any) -> None:
    """Concurrent JSON requests to the own HTTP server (``App.infer_now``: no task or future
    a request, answered from their batch) get the bytes ``App.respond`` (the general path,
    one request at a time) gives: status, headers, ids echoed, each its own rows; a request
    the pipeline refuses, one not of its datatype and one malformed fail alone; the metrics
    count every request, and the errors by code."""
    from willump_mlir.serve.app import App
    from willump_mlir.serve.http import Server

    root, _, fresh, _ = served
    parts = [fresh.iloc[k : k + 1 + k % 2] for k in range(0, 96, 2)]
    bodies = [json_body(p) for p in parts]
    bodies[3] = json_body(parts[3].assign(grade=["Z"] * len(parts[3])))
    bodies[9] = json_body(parts[9], state={"data": [True] * len(parts[9])})
    bodies[20] = b'{"inputs": [' + bodies[20]
    for k in (1, 9, 30):  # with an id to echo
        bodies[k] = bodies[k][:-1] + b', "id": "r%d \\u00e9"}' % k

    records: list[BatchRecord] = []

    def recorded(on_batch: Any) -> Repository:
        return Repository(root, on_batch=lambda r: (records.append(r), on_batch(r)))

    async def main() -> tuple[list[Any], list[Any], bytes]:
        app = App(recorded)
        app.open()
        assert app.repository is not None
        while not app.repository.ready():
            await asyncio.sleep(0.01)
        alone = [await app.respond("POST", "/v2/models/loans/infer", {}, b) for b in bodies]
        records.clear()
        server = Server(app, asyncio.get_running_loop())
        (_, port), *_ = await server.start("127.0.0.1", 0)
        answers = await asyncio.gather(*(exchange(port, b) for b in bodies))
        metrics = app.metrics.render()
        await server.stop(1.0)
        await app.close()
        return alone, answers, metrics

    alone, answers, metrics = asyncio.run(main())
    for k, ((reply, _), (head, body)) in enumerate(zip(alone, answers, strict=True)):
        assert head.startswith(b"HTTP/1.1 %d " % reply.status), k
        assert body == reply.body, k
        assert b"content-type: application/json\r\n" in head
    assert max(r.requests for r in records) > 1 and sum(r.errors for r in records) == 1
    statuses = [r.status for r, _ in alone]
    assert statuses.count(400) == 3 and [statuses[k] for k in (3, 9, 20)] == [400] * 3
    assert b'"id":"r30 \xc3\xa9"' in answers[30][1]
    requests = f'willump_requests_total{{model="loans",version="1"}} {len(bodies)}.0'
    assert requests in metrics.decode()  # (respond alone counts nothing: the server does)
    assert 'willump_request_errors_total{code="400",model="loans",version="1"} 3.0' in \
        metrics.decode()  # fmt: skip
