"""bench.ray_data's breakdown of where a Ray run's time goes (no Ray needed): the per-block
medians and busy task slots read from Ray Data's block stats, the kernel's CPU time on
the same blocks, and the results page's table."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

import willump_mlir as wm

REPO = Path(__file__).resolve().parents[3]
if str(REPO) not in sys.path:  # `bench` is a top-level directory, not an installed package
    sys.path.insert(0, str(REPO))

from bench import ray_data  # noqa: E402


def fake_result(blocks: list[tuple[float, float, float]]) -> SimpleNamespace:
    """A materialized dataset whose blocks have (task CPU, function wall, task wall) s."""

    def entry(cpu: float, function: float, task: float) -> SimpleNamespace:
        stats = SimpleNamespace(cpu_time_s=cpu, function_body_time_s=function)
        task_stats = SimpleNamespace(task_wall_time_s=task)
        metadata = SimpleNamespace(exec_stats=stats, task_exec_stats=task_stats)
        return SimpleNamespace(metadata=metadata)

    bundles = [SimpleNamespace(blocks=[entry(*b) for b in blocks[:2]]),
               SimpleNamespace(blocks=[entry(*b) for b in blocks[2:]])]  # fmt: skip
    return SimpleNamespace(iter_internal_ref_bundles=lambda: iter(bundles))


def test_block_times_are_medians_per_block_and_the_busy_share_of_the_slots() -> None:
    result = fake_result([(0.010, 0.008, 0.02), (0.030, 0.020, 0.04), (0.020, 0.012, 0.03)])
    times = ray_data.block_times(result, seconds=0.1, slots=2)
    assert times == pytest.approx({"cpu": 20.0, "function": 12.0, "busy": 0.45})


def positive(docs: list[str], vectorizer: TfidfVectorizer, model: LogisticRegression) -> Any:
    return model.predict_proba(vectorizer.transform(docs))[:, 1]


def test_kernel_cpu_runs_one_thread_and_restores_the_setting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rng = np.random.default_rng(0)
    words = ["good", "bad", "plot", "fun", "é", "long"]
    docs = [" ".join(rng.choice(words, 5)) for _ in range(120)]
    vectorizer = TfidfVectorizer().fit(docs)
    model = LogisticRegression().fit(vectorizer.transform(docs), rng.integers(0, 2, 120))
    compiled = wm.compile(positive, example=(docs, vectorizer, model))
    table = pa.Table.from_pandas(pd.DataFrame({"docs": docs}), preserve_index=False)
    monkeypatch.setenv("WILLUMP_MLIR_THREADS", "2")
    assert ray_data.kernel_cpu(compiled, [table.slice(0, 50), table.slice(50)]) > 0
    assert os.environ["WILLUMP_MLIR_THREADS"] == "2"
    monkeypatch.delenv("WILLUMP_MLIR_THREADS")
    ray_data.kernel_cpu(compiled, [table])
    assert "WILLUMP_MLIR_THREADS" not in os.environ


def test_the_results_page_says_where_the_time_goes() -> None:
    runs = [ray_data.label(s, True) for s in ray_data.SYSTEMS]
    runs += [ray_data.label(s, False) for s in ray_data.STEADY]
    times = {"cpu": 40.0, "function": 38.5, "busy": 0.6}
    result = {
        "workload": "trump_tweets", "rows": 1000, "blocks": 4,
        "seconds": {run: [0.5, 0.25] for run in [*runs, ray_data.IN_PROCESS]},
        "times": {run: [times, times] for run in runs}, "kernel_cpu": [36.0, 38.0],
        "max_abs_diff_sorted": 0.0, "equal_in_process": True,
    }  # fmt: skip
    page = ray_data.markdown([result], cpus=2, batch_size=65536)
    assert "| trump_tweets | willump-mlir steady | 3,000 | 40.0 ms | 38.5 ms | 60% |" in page
    assert "on one thread: trump_tweets 37.0 (36.0–38.0) ms" in page
