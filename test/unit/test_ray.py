"""Ray smoke test: ``wm.ray.predict`` on one local Ray instance (2 CPUs, a small object
store, usage stats off, a hard timeout) gives the in-process results (tabular, text, a
cascade); tasks get the threads Ray assigned them; ``willump predict --ray local``."""

from __future__ import annotations

import faulthandler
import os
import pickle
import re
import socket
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import serve_pipelines as sp
from tamper_pipelines import build, optimized_frame, optimized_linear
from test_ray_arrow_inputs import rows, upper_state

import willump_mlir as wm

ray = pytest.importorskip("ray")
#: seconds for the whole module (about 40 s; 240 s ran out beside another test worker on a busy
#: machine): a hung Ray must not hang CI
HARD_TIMEOUT = 600
#: seconds for one ``willump predict --ray`` subprocess (a few seconds on a quiet machine; 60 s
#: ran out at a load average of 25): a guard against a hang, not a speed test
HANG = 300
HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="module", autouse=True)
def local_ray() -> Iterator[None]:
    os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
    threads = os.environ.pop("WILLUMP_MLIR_THREADS", None)  # it would override Ray's CPUs
    # workers import the test's pipeline functions (pickled by reference) from HERE and test/
    paths = [str(HERE), str(HERE.parent), os.environ.get("PYTHONPATH")]
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in paths if p)
    # a timer of our own: faulthandler's one ``dump_traceback_later`` is re-armed and cancelled
    # around every test by pytest's ``faulthandler_timeout`` (``make test`` sets it)
    watchdog = threading.Timer(HARD_TIMEOUT, hung_ray)
    watchdog.daemon = True
    watchdog.start()
    ray.init(
        address="local", num_cpus=2, object_store_memory=80 * 1024**2, include_dashboard=False,
        log_to_driver=False,
    )  # fmt: skip
    ray.data.DataContext.get_current().enable_progress_bars = False
    try:
        yield
    finally:
        ray.shutdown()  # stops the processes this init started (by PID, not ``ray stop``)
        if threads is not None:
            os.environ["WILLUMP_MLIR_THREADS"] = threads
        watchdog.cancel()


def hung_ray() -> None:
    """Print every thread's stack and end the test process."""
    sys.stderr.write(f"test_ray: still running after {HARD_TIMEOUT} s; stopping the process\n")
    faulthandler.dump_traceback(all_threads=True)
    os._exit(1)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def scored(dataset: ray.data.Dataset, column: str = "prediction") -> np.ndarray:
    """The appended column in the rows' original order (``row`` numbers them)."""
    frame = dataset.to_pandas().sort_values("row")
    return frame[column].to_numpy()


def blocks(frame: pd.DataFrame, count: int = 3) -> ray.data.Dataset:
    """``frame`` with a ``row`` column, as a dataset of ``count`` Arrow blocks."""
    table = pa.Table.from_pandas(frame.assign(row=np.arange(len(frame))), preserve_index=False)
    cuts = np.linspace(0, len(frame), count + 1).astype(int)
    pieces = zip(cuts[:-1], cuts[1:], strict=True)
    return ray.data.from_arrow([table.slice(a, b - a) for a, b in pieces])


def test_tabular_and_text_equal_in_process_results() -> None:
    fn, example, (frame, scaler, model) = build("tabular")
    compiled = wm.compile(fn, example=example)
    out = wm.ray.predict(blocks(frame), compiled, batch_size=150)
    np.testing.assert_array_equal(scored(out), compiled(frame, scaler, model))

    fn, example, (docs, vectorizer, model) = build("text")
    compiled = wm.compile(fn, example=example)
    dataset = blocks(pd.DataFrame({"body": docs}))
    out = wm.ray.predict(dataset, compiled, inputs={"docs": "body"}, output="p")
    np.testing.assert_array_equal(scored(out, "p"), compiled(docs, vectorizer, model))


def test_a_cascade_and_an_array_argument() -> None:
    fast, fresh = optimized_frame()
    assert fast.cascaded, fast.report()
    np.testing.assert_array_equal(scored(wm.ray.predict(blocks(fresh), fast)), fast(fresh))

    linear, x, _ = optimized_linear()
    columns = [f"x{j}" for j in range(x.shape[1])]
    out = wm.ray.predict(blocks(pd.DataFrame(x, columns=columns)), linear, inputs={"x": columns})
    np.testing.assert_array_equal(scored(out), linear(x))


def test_a_block_larger_than_batch_size_is_scored_in_slices() -> None:
    """Ray hands ``predict`` whole blocks (so it can fuse the read with the scoring); the
    Scorer cuts them into ``batch_size`` rows itself: one value per row and k values per row
    alike, and a last short slice."""
    fn, example, (frame, scaler, model) = build("tabular")
    compiled = wm.compile(fn, example=example)
    table = pa.Table.from_pandas(frame, preserve_index=False)
    plan = wm.ray.feeds(compiled, table.column_names)
    expected = compiled(frame, scaler, model)
    out = wm.ray.Scorer(compiled, plan, "p", batch_size=7)(table)
    np.testing.assert_array_equal(out["p"].to_numpy(), expected)
    assert out.num_rows == len(frame) and len(frame) % 7

    def two(part: pd.DataFrame) -> pd.DataFrame:
        return pd.DataFrame({"p": compiled(part), "a": part["a"].to_numpy()})

    out = wm.ray.Scorer(two, plan, ["p", "a2"], batch_size=7)(table)
    np.testing.assert_array_equal(out["p"].to_numpy(), expected)
    np.testing.assert_array_equal(out["a2"].to_numpy(), frame["a"].to_numpy())


def test_an_actor_pool_scores_as_tasks_do() -> None:
    """``compute=ActorPoolStrategy``: Ray Data builds the Scorer in each actor (from the
    pipeline's pickled state), which scores the blocks as tasks do; one actor leaves the
    other CPU free (an actor pool taking every CPU can starve Ray Data's other work)."""
    fn, example, (docs, vectorizer, model) = build("text")
    compiled = wm.compile(fn, example=example)
    pool = ray.data.ActorPoolStrategy(size=1)
    out = wm.ray.predict(blocks(pd.DataFrame({"docs": docs}), 4), compiled, compute=pool)
    np.testing.assert_array_equal(scored(out), compiled(docs, vectorizer, model))


@ray.remote
def unpickled_once(state: wm.ray.Shipped) -> bool:
    """Whether the worker process's pipeline is then found by the state's digest, without
    fetching the state, and is the one a second call gives."""
    from willump_mlir import persist

    first = state.pipeline()
    return persist.unpickled(state.digest) is first and state.pipeline() is first


def test_jobs_after_the_first_ship_nothing() -> None:
    """A second job with the same pipeline puts nothing in the object store: its Scorer
    carries the reference the first put there (``wm.ray.shipped``), and a worker process
    finds the pipeline it unpickled by the state's digest."""
    fn, example, (docs, vectorizer, model) = build("text")
    compiled = wm.compile(fn, example=example)
    first = wm.ray.shipped(compiled)
    dataset = blocks(pd.DataFrame({"docs": docs}), 4)
    out = wm.ray.predict(dataset, compiled)
    np.testing.assert_array_equal(scored(out), compiled(docs, vectorizer, model))
    again = wm.ray.shipped(compiled)
    assert again.state == first.state and again.digest == first.digest
    assert len(pickle.dumps(wm.ray.Scorer(again, [], "p"))) < 4096  # a reference, not the state
    assert ray.get(unpickled_once.remote(again), timeout=120)
    np.testing.assert_array_equal(scored(wm.ray.predict(dataset, compiled)), scored(out))


def both_probabilities(frame: pd.DataFrame, scaler: Any, model: Any) -> Any:
    x = scaler.transform(frame[["a", "b", "c"]].to_numpy())
    return model.predict_proba(np.hstack([x, np.log1p(np.abs(x))]))


def test_an_empty_block_scores_to_no_rows() -> None:
    """A dataset's rows are scored one by one: an empty block (Ray 2.60 skips those it
    makes from an empty table, file or map_batches result, but an engine may hand one)
    gets the output column(s) of the pipeline's result type with no rows, where the
    pipeline called on 0 rows raises as scikit-learn does. A dataset with an empty block,
    and a text block of only empty strings, score as in process."""
    fn, example, (frame, scaler, model) = build("tabular")
    compiled = wm.compile(fn, example=example)
    table = pa.Table.from_pandas(frame.assign(row=np.arange(len(frame))), preserve_index=False)
    plan = wm.ray.feeds(compiled, table.column_names)
    with pytest.raises(wm.InputError, match="0 rows"):
        compiled(frame[:0], scaler, model)
    out = wm.ray.Scorer(compiled, plan, "p")(table.slice(0, 0))
    assert out.num_rows == 0 and out.schema.field("p").type == pa.float64()
    dataset = ray.data.from_arrow([table.slice(0, 150), table.slice(0, 0), table.slice(150)])
    out = wm.ray.predict(dataset, compiled)
    np.testing.assert_array_equal(scored(out), compiled(frame, scaler, model))

    both = wm.compile(both_probabilities, example=example)
    out = wm.ray.Scorer(both, plan, "p")(table.slice(0, 0))
    assert out.column_names[-2:] == ["p_0", "p_1"] and out.num_rows == 0

    fn, example, (docs, vectorizer, model) = build("text")
    compiled = wm.compile(fn, example=example)
    docs = ["", *docs[:50], "", ""]
    out = wm.ray.predict(blocks(pd.DataFrame({"docs": docs}), 4), compiled)
    np.testing.assert_array_equal(scored(out), compiled(docs, vectorizer, model))
    blank = pa.table({"docs": [""] * 40})
    out = wm.ray.Scorer(compiled, wm.ray.feeds(compiled, ["docs"]), "p")(blank)
    np.testing.assert_array_equal(out["p"].to_numpy(), compiled([""] * 40, vectorizer, model))


def worker_thread(batch: pa.Table) -> pa.Table:
    who = f"{os.getpid()} {threading.get_ident()}"
    return pa.table({"who": [who] * batch.num_rows})


def test_successive_tasks_keep_the_pipeline_and_its_word_cache() -> None:
    """Each Ray task gets the Scorer deserialized; its first batch unpickles the pipeline,
    which is the worker process's one pipeline again (``persist.unpickle``), and Ray Data
    runs a worker's map tasks on one thread: so the thread's scratch buffers, the char_wb
    word cache among them, live on from task to task (issue 15: not emptied per task)."""
    fn, example, (docs, vectorizer, model) = build("text")
    compiled = wm.compile(fn, example=example)
    state = pickle.dumps(wm.ray.Scorer(compiled, wm.ray.feeds(compiled, ["docs"]), "p"))
    table = pa.table({"docs": docs[:50]})
    first, second = pickle.loads(state), pickle.loads(state)
    first(table)
    scratch = first.pipeline.scratch.sets
    assert scratch
    kept = {name: found.addresses for name, found in scratch.items()}
    second(table)
    assert second.pipeline is first.pipeline
    assert {name: found.addresses for name, found in scratch.items()} == kept
    tasks = blocks(pd.DataFrame({"x": np.arange(80)}), 8).map_batches(
        worker_thread, batch_format="pyarrow", batch_size=None, num_cpus=1
    )
    threads: dict[str, set[str]] = {}
    for who in tasks.to_pandas()["who"]:
        process, thread = who.split()
        threads.setdefault(process, set()).add(thread)
    assert all(len(idents) == 1 for idents in threads.values()), threads


def test_read_score_and_write_run_as_one_task_per_file(tmp_path: Path) -> None:
    """``wm.ray.read_parquet`` -> ``predict`` -> ``write_parquet`` is one fused Ray task per
    file (before, a batch_size kept the read apart and Ray's Parquet reader put several
    files in one task, so a second node got little of the job)."""
    fn, example, (frame, scaler, model) = build("tabular")
    compiled = wm.compile(fn, example=example)
    table = pa.Table.from_pandas(frame.assign(row=np.arange(len(frame))), preserve_index=False)
    source = tmp_path / "rows"
    source.mkdir()
    for k, start in enumerate(range(0, len(frame), 150)):
        pq.write_table(table.slice(start, 150), source / f"part-{k}.parquet")
    files = len(list(source.iterdir()))
    out = wm.ray.predict(wm.ray.read_parquet(str(source)), compiled, batch_size=64)
    out.write_parquet(str(tmp_path / "out"))
    assert re.search(rf"Read\w*->MapBatches\(Scorer\)->Write: {files} tasks", out.stats())
    context = ray.data.DataContext.get_current()
    reserving = context.op_resource_reservation_enabled
    wm.ray.score_files(str(source), compiled, str(tmp_path / "again"), output="p",
                       batch_size=64)  # fmt: skip
    assert context.op_resource_reservation_enabled == reserving  # only for the job
    again = pq.read_table(tmp_path / "again").to_pandas().sort_values("row")
    np.testing.assert_array_equal(again["p"].to_numpy(), compiled(frame, scaler, model))
    written = pq.read_table(tmp_path / "out").to_pandas().sort_values("row")
    np.testing.assert_array_equal(written["prediction"].to_numpy(),
                                  compiled(frame, scaler, model))  # fmt: skip


def test_parquet_rows_with_nulls_score_as_pandas_reads_them(tmp_path: Path) -> None:
    """Parquet files with missing, empty and Unicode strings and a categorical column,
    without the label column of the frame the pipeline was compiled on, score as the original
    function on each file's ``to_pandas()``; a str result with missing values is appended
    (test_ray_arrow_inputs tries many more blocks in process)."""
    frame, y = rows(600)
    model = sp.loan_model(frame[:400], y[:400], unknown="ignore")
    compiled = wm.compile(sp.score_loans, example=(frame.assign(label=y)[:200], model))
    upper = wm.compile(upper_state, example=(frame[:200],))
    fresh = frame[400:].assign(row=np.arange(200), grade=frame["grade"][400:].astype("category"))
    fresh.loc[fresh.index[[3, 90, 160]], "state"] = [None, "", "Zürich"]
    source = tmp_path / "rows"
    source.mkdir()
    for k, start in enumerate(range(0, len(fresh), 70)):
        fresh[start : start + 70].to_parquet(source / f"part-{k}.parquet", row_group_size=32)
    table = pq.read_table(source)
    expected = sp.score_loans(table.to_pandas(), model)
    out = wm.ray.predict(wm.ray.read_parquet(str(source)), compiled, batch_size=50)
    np.testing.assert_allclose(scored(out), expected[np.argsort(table["row"])], rtol=0, atol=1e-9)
    out = wm.ray.predict(wm.ray.read_parquet(str(source)), upper, output="up")
    got = out.to_pandas().sort_values("row")["up"]
    want = upper_state(table.to_pandas()).to_numpy()[np.argsort(table["row"])]
    assert got.isna().tolist() == pd.isna(want).tolist() and got.isna().sum() == 1
    assert got.dropna().tolist() == [w for w in want if isinstance(w, str)]


def test_clear_errors() -> None:
    fn, example, (frame, _, _) = build("tabular")
    compiled = wm.compile(fn, example=example)
    with pytest.raises(wm.InputError, match=r"no column\(s\) \['c'\]"):
        wm.ray.predict(blocks(frame.drop(columns="c")), compiled)
    with pytest.raises(wm.InputError, match=r"output column\(s\) \['a'\] already"):
        wm.ray.predict(blocks(frame), compiled, output="a")


def test_a_pipeline_module_the_workers_cannot_import(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "driver_only.py").write_text(textwrap.dedent("""
        import numpy as np

        def score(frame, scaler, model):
            x = scaler.transform(frame[["a", "b", "c"]].to_numpy())
            return model.predict_proba(np.hstack([x, np.log1p(np.abs(x))]))[:, 1]

        def reversing(frame, scaler, model):
            x = scaler.transform(np.fliplr(frame[["c", "b", "a"]].to_numpy()))  # a Python call
            return model.predict_proba(np.hstack([x, np.log1p(np.abs(x))]))[:, 1]
    """))  # fmt: skip
    monkeypatch.syspath_prepend(str(tmp_path))  # the driver's path only: not the workers'
    # (a module's function is pickled by reference)
    import driver_only

    _, example, (frame, scaler, model) = build("tabular")
    compiled = wm.compile(driver_only.score, example=example)
    # fully native: the workers never unpickle the function (runtime.pickled)
    out = wm.ray.predict(blocks(frame), compiled)
    np.testing.assert_array_equal(scored(out), compiled(frame, scaler, model))
    with_a_call = wm.compile(driver_only.reversing, example=example)
    assert with_a_call.traced.python_calls  # its workers need the module
    with pytest.raises(Exception, match="must be importable on every node"):
        wm.ray.predict(blocks(frame), with_a_call).materialize()  # not retried


@ray.remote
def threads_and_copies(pipeline_ref: list) -> tuple[int, bool]:
    """What a task sees: the threads its kernels run on, and whether a second fetch of the
    pipeline gives the worker's unpickled object again."""
    from willump_mlir.runtime.compiled import worker_count

    first, again = ray.get(pipeline_ref[0]), ray.get(pipeline_ref[0])
    return worker_count(), first is again


def test_tasks_use_the_cpus_ray_assigned_and_one_unpickled_pipeline() -> None:
    fn, example, _ = build("tabular")
    ref = [ray.put(wm.compile(fn, example=example))]  # in a list: not resolved before the call
    one = threads_and_copies.options(num_cpus=1).remote(ref)
    two = threads_and_copies.options(num_cpus=2).remote(ref)
    assert ray.get([one, two], timeout=60) == [(1, True), (2, True)]


def test_willump_predict_ray_local(tmp_path: Path) -> None:
    fn, example, (frame, scaler, model) = build("tabular")
    compiled = wm.compile(fn, example=example)
    compiled.save(tmp_path / "model", pickle=True)
    source = tmp_path / "rows"
    source.mkdir()
    table = pa.Table.from_pandas(frame.assign(row=np.arange(len(frame))), preserve_index=False)
    pq.write_table(table.slice(0, 200), source / "part-0.parquet")
    pq.write_table(table.slice(200), source / "part-1.parquet")
    env = {**os.environ, "PYTHONPATH": str(HERE), "RAY_USAGE_STATS_ENABLED": "0"}
    command = [sys.executable, "-m", "willump_mlir.cli", "predict", "--ray", "local",
               "--local-cpus", "1", "--no-progress", str(tmp_path / "model"),
               str(source)]  # fmt: skip

    def refused(*arguments: str) -> str:
        run = subprocess.run([*arguments, str(tmp_path / "refused")], env=env, timeout=HANG,
                             capture_output=True, text=True)  # fmt: skip
        assert run.returncode == 2, run.stderr
        return run.stderr

    assert "--trust" in refused(*command)
    wrong = tmp_path / "wrong.parquet"
    pq.write_table(table.drop_columns(["b"]), wrong)
    assert "no column(s) ['b']" in refused(*command[:-1], str(wrong), "--trust")
    unreachable = [*command[:5], f"127.0.0.1:{free_port()}", *command[6:], "--trust"]
    assert "cannot reach a Ray cluster at 127.0.0.1:" in refused(*unreachable)

    done = subprocess.run([*command, str(tmp_path / "out"), "--trust", "--column", "p"],
                          env=env, timeout=HANG, capture_output=True, text=True)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "scored 400 rows" in done.stdout
    out = pq.read_table(tmp_path / "out").to_pandas().sort_values("row")
    np.testing.assert_array_equal(out["p"].to_numpy(), compiled(frame, scaler, model))
