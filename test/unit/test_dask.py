"""Compiled pipelines in ``dask.dataframe.map_partitions``, on threads, on processes (each
process unpickles the pipeline: ``persist.unpickle``) and on a distributed LocalCluster;
a task in a Dask worker runs its kernels on the worker's threads it is given."""

from __future__ import annotations

import os
import pickle
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from tamper_pipelines import build

import willump_mlir as wm
from willump_mlir.runtime.compiled import usable_cores, worker_count

dd = pytest.importorskip("dask.dataframe")
dask_base = pytest.importorskip("dask.base")


@pytest.fixture(scope="module")
def scored() -> tuple[wm.CompiledPipeline, pd.DataFrame, np.ndarray]:
    fn, example, (frame, scaler, model) = build("tabular")
    compiled = wm.compile(fn, example=example)
    return compiled, frame, compiled(frame, scaler, model)


@pytest.mark.parametrize("scheduler", ["threads", "processes"])
def test_map_partitions(scored: tuple, scheduler: str) -> None:
    compiled, frame, expected = scored

    def score(part: pd.DataFrame) -> pd.Series:
        return pd.Series(compiled(part), index=part.index)

    parts = dd.from_pandas(frame, npartitions=4)
    out = parts.map_partitions(score, meta=(None, "f8")).compute(scheduler=scheduler)
    np.testing.assert_array_equal(out.to_numpy(), expected)


def test_the_token_is_the_compiled_code(scored: tuple) -> None:
    compiled, _, _ = scored
    restored = pickle.loads(pickle.dumps(compiled))
    assert dask_base.tokenize(compiled) == dask_base.tokenize(restored)
    fn, example, _ = build("trees")
    assert dask_base.tokenize(compiled) != dask_base.tokenize(wm.compile(fn, example=example))


@pytest.fixture
def importable_tests(monkeypatch: pytest.MonkeyPatch) -> None:
    """Worker processes import the pipelines' functions (pickled by reference) from here."""
    here = str(Path(__file__).resolve().parent)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [here, os.environ.get(
        "PYTHONPATH")])))  # fmt: skip


@pytest.mark.parametrize("processes", [False, True])
def test_map_partitions_on_a_local_cluster(
    scored: tuple, processes: bool, importable_tests: None
) -> None:
    distributed = pytest.importorskip("distributed")
    compiled, frame, expected = scored

    def score(part: pd.DataFrame) -> pd.Series:
        return pd.Series(compiled(part), index=part.index)

    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=2, processes=processes, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        parts = dd.from_pandas(frame, npartitions=4)
        out = client.compute(parts.map_partitions(score, meta=(None, "f8"))).result(timeout=60)
    np.testing.assert_array_equal(out.to_numpy(), expected)


BOTH = threading.Barrier(2, timeout=20)  # the tasks below run on in-process workers


def threads_of_two_tasks() -> int:
    """``worker_count`` while two tasks run at once on the same worker."""
    BOTH.wait()
    threads = worker_count()
    BOTH.wait()
    return threads


def test_a_dask_task_uses_the_worker_threads_it_is_given(monkeypatch: pytest.MonkeyPatch) -> None:
    distributed = pytest.importorskip("distributed")
    monkeypatch.delenv("WILLUMP_MLIR_THREADS", raising=False)  # it would override the worker's
    threads = min(2, usable_cores())

    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        assert client.submit(worker_count, pure=False).result(timeout=30) == threads
        pair = [client.submit(threads_of_two_tasks, pure=False) for _ in range(2)]
        assert [f.result(timeout=30) for f in pair] == [1, 1]
    assert worker_count() == usable_cores()  # outside a worker: every usable core
