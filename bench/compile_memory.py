"""Memory kept per compile and per load/unload cycle (issue 13: a server that reloads
models must not grow without bound).

    python -m bench.compile_memory [--compiles 1000] [--repeats 3]
        [--out bench/results/compile_memory.md]

Each repeat runs two child processes, each with an empty object-code cache: one with
LLVM in compile workers (the default), one with LLVM in the process
(``$WILLUMP_MLIR_COMPILE_WORKERS=0``, as before workers). A child compiles ``--compiles``
distinct small pipelines (a StandardScaler and a LogisticRegression of its own random
coefficients, so every compile misses the cache), calls and drops each; then compiles them
again (cache hits: the object code is loaded without LLVM), calls and drops each. Resident
memory (``/proc/self/statm``) is read after a warm-up of 50 cycles and after the last; the
growth divided by the count is the memory each compile or load keeps.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

from bench import timing

RESULTS = Path(__file__).resolve().parent / "results"
WARM_UP = 50

CHILD = r"""
import gc, json, os, sys
import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
import willump_mlir as wm

count, warm_up = int(sys.argv[1]), int(sys.argv[2])
page = os.sysconf("SC_PAGE_SIZE")
rng = np.random.default_rng(0)
X = rng.normal(size=(64, 4))
y = (X[:, 0] > 0).astype(int)

def resident():
    gc.collect()
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * page

def model(i):
    pipe = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
    pipe[-1].coef_ = np.random.default_rng(i).normal(size=(1, 4))
    return pipe

def predict(x, model):
    return model.predict_proba(x)[:, 1]

def cycle(i):
    m = model(i)
    compiled = wm.compile(predict, (X, m))
    assert not compiled.traced.python_calls
    assert np.allclose(compiled(X, m), predict(X, m), rtol=0, atol=1e-9)
    hit = compiled.library.cache_hit
    del compiled, m
    return hit

result = {}
for phase in ("compile", "load"):
    for i in range(warm_up):
        cycle(i)
    before = resident()
    hits = sum(cycle(i) for i in range(warm_up, warm_up + count))
    after = resident()
    result[phase] = {"rss_per_cycle": (after - before) / count, "cache_hits": hits}
print(json.dumps(result))
"""


def run_child(count: int, llvm_in_process: bool) -> dict[str, dict[str, float]]:
    """One child process with a fresh, empty cache directory; LLVM runs in compile workers
    or, with ``llvm_in_process``, in the child itself (``$WILLUMP_MLIR_COMPILE_WORKERS=0``)."""
    with tempfile.TemporaryDirectory() as work:
        script = Path(work) / "child.py"  # a file: wm.compile reads the function's source
        script.write_text(CHILD)
        env = dict(os.environ, WILLUMP_MLIR_CACHE_DIR=str(Path(work) / "cache"))
        env["WILLUMP_MLIR_COMPILE_WORKERS"] = "0" if llvm_in_process else "1"
        out = subprocess.run(
            [sys.executable, str(script), str(count), str(WARM_UP)],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    return json.loads(out.strip().splitlines()[-1])


def kb(values: list[float]) -> str:
    """Median (min–max) in KB."""
    return timing.spread([v / 1024 for v in values], ".1f")


MODES = {"LLVM in compile workers (default)": False, "LLVM in process (before)": True}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--compiles", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=RESULTS / "compile_memory.md")
    args = parser.parse_args()
    runs: dict[str, list[dict[str, dict[str, float]]]] = {mode: [] for mode in MODES}
    for repeat in range(args.repeats):
        for mode, in_process in MODES.items():
            runs[mode].append(run_child(args.compiles, in_process))
            print(f"repeat {repeat + 1}/{args.repeats}, {mode}: {runs[mode][-1]}", file=sys.stderr)
    lines = [
        "# Memory kept per compile and per load",
        "",
        f"`python -m bench.compile_memory --compiles {args.compiles} --repeats {args.repeats}`"
        f" on {platform.machine()} Python {platform.python_version()}, load average "
        f"{os.getloadavg()[0]:.1f} at the end. Each repeat and mode: a new process, an empty "
        f"cache; {args.compiles} distinct StandardScaler + LogisticRegression pipelines "
        "compiled (cache misses), called and dropped, then compiled again (cache hits: the "
        "object code is loaded without LLVM), called and dropped. Resident memory kept per "
        f"cycle, between the end of {WARM_UP} warm-up cycles and the last; median (min–max) "
        "over repeats.",
        "",
        "| mode | compile (miss) KB per cycle | load (hit) KB per cycle |",
        "|---|---|---|",
    ]
    for mode, results in runs.items():
        miss = kb([run["compile"]["rss_per_cycle"] for run in results])
        hit = kb([run["load"]["rss_per_cycle"] for run in results])
        lines.append(f"| {mode} | {miss} | {hit} |")
    args.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
