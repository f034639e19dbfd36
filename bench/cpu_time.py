"""CPU time of the library's own predict beside the compiled pipeline, one thread each.

    python -m bench.cpu_time synthetic_xgb_9class synthetic_xgb_1000 [--limit 10000]
        [--rounds 7] [--out bench/results/large_trees.md]

For a machine too loaded for wall-clock timing: both run in one process, alternating call by
call, on one thread (the library's ``n_jobs=1``, ``WILLUMP_MLIR_THREADS=1``), timed with the
process's CPU clock, which other processes do not advance (they still share the caches).
Batch: ``--batch-rows`` rows resampled from the held-out rows, min and median of
``--rounds`` calls each; single row: median over ``--single-calls`` one-row calls, best of
three passes. The compiled output is checked against the library's on the batch.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from bench import trees
from bench.workloads import get, one_row, tile_rows

RESULTS = Path(__file__).resolve().parent / "results"


def load() -> str:
    """The 1, 5 and 15-minute load averages."""
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def cpu_seconds(call: Callable[[], Any]) -> float:
    started = time.process_time()
    call()
    return time.process_time() - started


def measure(name: str, args: argparse.Namespace) -> dict[str, Any]:
    """One workload's row of the table."""
    import willump_mlir as wm

    workload = get(name)
    data = workload.build(limit=args.limit)
    score = workload.score_fn()
    model = trees.with_threads(data.model, 1)
    compiled = wm.compile(score, (data.test[:50], model))
    batch = tile_rows(data.test, args.batch_rows, seed=0)
    expected, got = np.asarray(score(batch, model)), np.asarray(compiled(batch, model))
    library, ours = [], []
    for _ in range(args.rounds):
        library.append(cpu_seconds(lambda: score(batch, model)))
        ours.append(cpu_seconds(lambda: compiled(batch, model)))
    rows = [one_row(data.test, i) for i in range(args.single_calls)]

    def single(fn: Callable[[Any, Any], Any]) -> float:
        return min(
            statistics.median(cpu_seconds(lambda r=r: fn(r, model)) for r in rows) for _ in range(3)
        )

    return {
        "workload": name,
        "native": not compiled.traced.python_calls,
        "max_diff": float(np.max(np.abs(got - expected))),
        "library_ms": (min(library) * 1e3, statistics.median(library) * 1e3),
        "ours_ms": (min(ours) * 1e3, statistics.median(ours) * 1e3),
        "library_us": single(score) * 1e6,
        "ours_us": single(compiled) * 1e6,
    }


def table(results: list[dict[str, Any]], args: argparse.Namespace, loads: list[str]) -> str:
    lines = [
        "# Large tree ensembles: CPU time beside the library's own predict (one thread each)",
        "",
        f"`python -m bench.cpu_time {' '.join(args.workloads)} --limit {args.limit}`: models "
        f"fitted on {args.limit:,} rows; batch of {args.batch_rows:,} rows, min / median of "
        f"{args.rounds} calls each, alternating; single row: median of {args.single_calls} "
        "one-row calls (best of three passes). CPU time of the process, so other processes' "
        f"load does not count (they still share the caches). Load average at start / end: "
        f"{loads[0]} / {loads[1]} on 2 cores.",
        "",
        "| workload | library batch ms (min / median) | **willump-mlir batch ms** | batch "
        "speedup (min) | library 1-row µs | **willump-mlir 1-row µs** | 1-row speedup | "
        "native | max \\|diff\\| |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        (lib_min, lib_med), (our_min, our_med) = r["library_ms"], r["ours_ms"]
        lines.append(
            f"| {r['workload']} | {lib_min:.1f} / {lib_med:.1f} | **{our_min:.1f} / "
            f"{our_med:.1f}** | {lib_min / our_min:.2f}x | {r['library_us']:,.0f} | "
            f"**{r['ours_us']:,.0f}** | {r['library_us'] / r['ours_us']:.1f}x | {r['native']} "
            f"| {r['max_diff']:.3g} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("workloads", nargs="+")
    ap.add_argument("--limit", type=int, default=10_000)
    ap.add_argument("--batch-rows", type=int, default=10_000)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--single-calls", type=int, default=200)
    ap.add_argument("--out", type=Path, default=RESULTS / "large_trees.md")
    args = ap.parse_args(argv)
    os.environ["WILLUMP_MLIR_THREADS"] = "1"
    start = load()
    results = []
    for name in args.workloads:
        results.append(measure(name, args))
        print(table(results, args, [start, load()]), flush=True)
    args.out.write_text(table(results, args, [start, load()]))


if __name__ == "__main__":
    main()
