"""One-row calls of lending_club from decoded request columns: with and without a DataFrame.

A server decodes a table request into one array per column. Before ``marshal.Columns`` it had
to build a DataFrame from them (each column of the example's dtype) to call the pipeline; now
it passes the columns and the kernels read the arrays. Each variant runs in a process of its
own, in alternating rounds; every call takes a different row (cycling over 200 test rows).

    python -m bench.columnar [--rounds 3] [--calls 3000]

writes ``bench/results/columnar.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench import timing

VARIANTS = {
    "frame": "DataFrame built from the columns (each of the example's dtype), then the call",
    "dict": "`pd.DataFrame(dict of the arrays)`, then the call (str columns become pandas' "
            "str dtype, not the example's object)",
    "columns": "marshal.Columns of the arrays, then the call (no DataFrame)",
    "prebuilt": "the call on a DataFrame built beforehand (reference, not a request path)",
}
RESULTS = Path(__file__).parent / "results" / "columnar.md"


def requests(rows: int = 200) -> tuple[Any, Any, list[dict[str, np.ndarray]], list[Any]]:
    """The compiled pipeline, its model, one decoded request per test row (float64 arrays and
    object arrays of str, as ``willump serve`` decodes them) and the rows as frames."""
    import willump_mlir as wm
    from willump_mlir.workloads import lending_club as lc

    work = lc.build()
    compiled = wm.compile(lc.score, example=(work.test.iloc[:200], work.model))
    frames = [work.test.iloc[[i]].reset_index(drop=True) for i in range(rows)]
    decoded = [{name: column.to_numpy() for name, column in f.items()} for f in frames]
    return compiled, work.model, decoded, frames


def child(variant: str, calls: int) -> dict[str, Any]:
    """Seconds per call of ``variant`` over ``calls`` one-row calls, in this process."""
    import pandas as pd

    from willump_mlir.runtime.marshal import Columns

    compiled, _, decoded, frames = requests()
    calls_of = {
        "frame": lambda i: compiled(Columns(decoded[i]).frame()),
        "dict": lambda i: compiled(pd.DataFrame(decoded[i])),
        "columns": lambda i: compiled(Columns(decoded[i])),
        "prebuilt": lambda i: compiled(frames[i]),
    }
    call = calls_of[variant]
    for i in range(len(decoded)):  # every path gives the same numbers
        expected = compiled(frames[i])
        assert all(np.array_equal(f(i), expected) for f in calls_of.values())
    times = timing.time_single(call, [i % len(decoded) for i in range(calls)], warmup=200)
    return {"variant": variant, "times": times}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.columnar", description=__doc__)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--calls", type=int, default=3000)
    ap.add_argument("--child", choices=sorted(VARIANTS))
    args = ap.parse_args(argv)
    if args.child:
        sys.stdout.write(json.dumps(child(args.child, args.calls)) + "\n")
        return
    times: dict[str, list[float]] = {v: [] for v in VARIANTS}
    load = []
    for _ in range(args.rounds):
        for variant in VARIANTS:
            load.append(os.getloadavg()[0])
            out = subprocess.run(
                [sys.executable, "-m", "bench.columnar", "--child", variant,
                 "--calls", str(args.calls)],
                check=True, capture_output=True, text=True, timeout=600,
            )  # fmt: skip
            times[variant] += json.loads(out.stdout.strip().splitlines()[-1])["times"]
    lines = [
        "# One-row calls from decoded request columns (lending_club)",
        "",
        f"`python -m bench.columnar --rounds {args.rounds} --calls {args.calls}`, "
        f"{time.strftime('%Y-%m-%d')}, {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} cores, load average {min(load):.1f}-{max(load):.1f} during the run "
        "(the machine is shared: read the spread). Each variant in its own process, rounds "
        "alternating; every call a different row; results equal on every row.",
        "",
        "| path | median µs | p10 | p90 | p99 | calls |",
        "|---|---|---|---|---|---|",
    ]
    for variant, description in VARIANTS.items():
        t = [s * 1e6 for s in times[variant]]
        lines.append(
            f"| {description} | {timing.median(t):.1f} | {timing.percentile(t, 10):.1f} | "
            f"{timing.percentile(t, 90):.1f} | {timing.percentile(t, 99):.1f} | {len(t)} |"
        )
    RESULTS.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
