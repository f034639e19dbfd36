"""bench.ray_data's breakdown of where a Ray run's time goes (no Ray needed): the per-block
medians and the time one or more tasks were running, read from Ray Data's block stats, the
kernel's CPU time on the same blocks, and the results page's tables."""

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


def fake_result(blocks: list[tuple[float, float, float, float]]) -> SimpleNamespace:
    """A materialized dataset whose blocks have (task CPU, function wall, start, end) s."""

    def entry(cpu: float, function: float, start: float, end: float) -> SimpleNamespace:
        stats = SimpleNamespace(cpu_time_s=cpu, function_body_time_s=function,
                                start_time_s=start, end_time_s=end)  # fmt: skip
        return SimpleNamespace(metadata=SimpleNamespace(exec_stats=stats))

    bundles = [SimpleNamespace(blocks=[entry(*b) for b in blocks[:2]]),
               SimpleNamespace(blocks=[entry(*b) for b in blocks[2:]])]  # fmt: skip
    return SimpleNamespace(iter_internal_ref_bundles=lambda: iter(bundles))


def test_block_times_are_medians_per_block_and_shares_of_tasks_running_at_once() -> None:
    # blocks made over 10.00-10.02, 10.01-10.05 and 10.06-10.09: one task running for
    # 0.01 + 0.03 + 0.03 s, two for 0.01 s, of a 0.1 s run
    result = fake_result([(0.010, 0.008, 10.00, 10.02), (0.030, 0.020, 10.01, 10.05),
                          (0.020, 0.012, 10.06, 10.09)])  # fmt: skip
    times = ray_data.block_times(result, seconds=0.1)
    assert times == pytest.approx({"cpu": 20.0, "function": 12.0, "one": 0.7, "two": 0.1})


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


def page_for(systems: tuple[str, ...], agree: float | None) -> str:
    times = {"cpu": 40.0, "function": 38.5, "one": 0.6, "two": 0.25}
    result = {
        "workload": "trump_tweets", "rows": 1000, "blocks": 4,
        "seconds": {run: [0.5, 0.25] for run in [*systems, ray_data.IN_PROCESS]},
        "times": {run: [times, times] for run in systems}, "kernel_cpu": [36.0, 38.0],
        "max_abs_diff_sorted": agree, "equal_in_process": True,
    }  # fmt: skip
    return ray_data.markdown([result], cpus=2, batch_size=65536)


def test_the_results_page_says_where_the_time_goes() -> None:
    page = page_for(ray_data.SYSTEMS, 1e-15)
    assert "| trump_tweets | willump-mlir | 3,000 | 40.0 ms | 38.5 ms | 60% | 25% |" in page
    assert "on one thread: trump_tweets 37.0 (36.0–38.0) ms" in page
    assert "max abs difference: trump_tweets 1.0e-15" in page


def test_a_run_of_some_systems_leaves_the_others_blank() -> None:
    page = page_for(("no-op", "willump-mlir"), None)
    row = next(line for line in page.splitlines() if line.startswith("| trump_tweets | 1,000"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[3] == cells[5] == cells[7] == cells[8] == "–"  # scikit-learn and wide
    assert cells[6] == "100%"  # willump-mlir over the no-op, both run
    assert "max abs difference" not in page
