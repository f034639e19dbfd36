"""A worker's first call after unpickling a compiled pipeline (issue 15: at most 50 ms,
imports warm, no LLVM run).

    python -m bench.first_call [--workloads lending_club,trump_tweets,synthetic_xgb]
        [--repeats 7] [--out bench/results/first_call.md]

The pipeline is compiled and pickled once here. Each repeat is a fresh process with an
empty object cache, as a new Ray or Dask worker has: it imports willump-mlir, numpy, pandas,
scikit-learn, LightGBM and XGBoost and loads the compiler's dialects (the imports a warm
worker has done),
then times ``pickle.loads`` and the first call on one row (wall clock, and the CPU time of
both: on a loaded machine the wall clock also counts waits for a core), and counts the
modules LLVM compiled. The table gives medians and ranges over the repeats.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

from bench import timing, workloads

RESULTS = Path(__file__).resolve().parent / "results"

CHILD = textwrap.dedent(
    """
    import json, pickle, sys, time
    import numpy as np, pandas as pd, sklearn, lightgbm, xgboost
    from willump_mlir import compiler, persist
    from willump_mlir.runtime import jit

    compiler.context()  # the dialects, imported
    runs = []
    optimise = jit._optimise
    jit._optimise = lambda llvm_ir: (runs.append(1), optimise(llvm_ir))[1]
    state, row, expected = pickle.load(open(sys.argv[1], "rb"))
    cpu, started = time.process_time(), time.perf_counter()
    pipeline = pickle.loads(state)
    unpickled = time.perf_counter()
    result = pipeline(row)
    called, cpu = time.perf_counter(), time.process_time() - cpu
    assert np.array_equal(np.asarray(result), np.asarray(expected), equal_nan=True)
    print(json.dumps({"unpickle_ms": 1e3 * (unpickled - started),
                      "call_ms": 1e3 * (called - unpickled),
                      "total_ms": 1e3 * (called - started), "cpu_ms": 1e3 * cpu,
                      "llvm_runs": len(runs)}))
    """
)


def measure(name: str, repeats: int, work: Path) -> dict[str, list[float]]:
    """Compile ``name``, pickle it, and time ``repeats`` fresh processes unpickling it."""
    import willump_mlir as wm

    workload = workloads.get(name)
    data = workload.build()
    fn = workload.score_fn(standalone=False)
    example = workloads.head(data.test, workload.example_rows)
    compiled = wm.compile(fn, example=(example, data.model))
    row = workloads.one_row(data.test, 0)
    payload = work / f"{name}.pkl"
    state = pickle.dumps(compiled)
    payload.write_bytes(pickle.dumps((state, row, compiled(row, data.model))))
    found: dict[str, list[float]] = {"bytes": [float(len(state))]}
    for repeat in range(repeats):
        cache = work / f"cache-{name}-{repeat}"  # empty: a new worker's
        env = os.environ | {"WILLUMP_MLIR_CACHE_DIR": str(cache)}
        proc = subprocess.run([sys.executable, "-c", CHILD, str(payload)], env=env,
                              capture_output=True, text=True, timeout=600)  # fmt: skip
        if proc.returncode != 0:
            raise RuntimeError(f"{name}: the child failed:\n{proc.stderr}")
        for key, value in json.loads(proc.stdout.splitlines()[-1]).items():
            found.setdefault(key, []).append(float(value))
    return found


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--workloads", default="lending_club,trump_tweets,synthetic_xgb")
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--out", type=Path, default=RESULTS / "first_call.md")
    args = ap.parse_args(argv)
    rows = []
    load = [os.getloadavg()[0]]
    with tempfile.TemporaryDirectory(prefix="willump-first-call-") as work:
        for name in args.workloads.split(","):
            print(f"{name}: {args.repeats} fresh processes", file=sys.stderr)
            found = measure(name, args.repeats, Path(work))
            load.append(os.getloadavg()[0])
            rows.append(
                f"| {name} | {found['bytes'][0] / 1024:.0f} KB | "
                f"{timing.spread(found['unpickle_ms'])} | {timing.spread(found['call_ms'])} | "
                f"{timing.spread(found['total_ms'])} | {timing.spread(found['cpu_ms'])} | "
                f"{int(max(found['llvm_runs']))} |"
            )
    lines = [
        "# First call after unpickling, in a fresh worker process",
        "",
        "`python -m bench.first_call`: each repeat is a new process with an empty object cache "
        "and its imports done (willump-mlir, numpy, pandas, scikit-learn, LightGBM, XGBoost, the "
        "dialects); it "
        "unpickles the pipeline and calls it on one row. Milliseconds, median (range) over "
        f"{args.repeats} processes. 1-minute load average during the runs: "
        f"{min(load):.1f}–{max(load):.1f} on {os.cpu_count()} cores. Target (issue 15): "
        "at most 50 ms, no LLVM run. CPU ms: the process's CPU time over both (under load, "
        "the wall clock also counts waits for a core).",
        "",
        "| workload | pickle | unpickle ms | first call ms | total ms | CPU ms | LLVM runs |",
        "|---|---|---|---|---|---|---|",
        *rows,
    ]
    args.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
