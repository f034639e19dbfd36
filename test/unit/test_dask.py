"""Compiled pipelines in ``dask.dataframe.map_partitions``, on threads and on processes
(each process unpickles the pipeline: ``persist.unpickle``)."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
from tamper_pipelines import build

import willump_mlir as wm

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
