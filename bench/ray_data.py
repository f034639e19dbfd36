"""Rows/s of Ray Data batch scoring: ``wm.ray.predict`` against scikit-learn's original
function in the same ``map_batches`` and a no-op ``map_batches`` (Ray's own floor), on one
local Ray instance, the same materialized dataset and blocks.

    python -m bench.ray_data                          # lending_club and trump_tweets
    python -m bench.ray_data --workloads lending_club --rows 200000 --repeats 3

Every system gets the same whole Arrow blocks (``map_batches(batch_size=None)``, as
``wm.ray.predict`` asks for them) with ``num_cpus=1`` per task; the two scorers run in the
same ``wm.ray.Scorer``, which reads the arguments the same way (``wm.ray.Feed``) and calls
the function on at most ``--batch-size`` rows at a time. Each repeat runs every system of
1-CPU tasks once under Ray Data's default settings, after one warm-up round (worker
processes started, pipeline unpickled); then the wide system's repeats, after a warm-up
round of their own (runs of the two task shapes in turn make Ray start fresh workers).
Writes ``bench/results/ray_data.md`` (median rows/s and min-max over repeats), with where
each run's time went (task CPU and map function wall time per block, and how much of the
run had no task, one task or two or more running: from Ray Data's block stats) beside the
kernel's CPU time on the same blocks without Ray.

    python -m bench.ray_data --workloads trump_tweets --rows 2000000 --blocks 200 \
        --systems no-op,willump-mlir --out bench/results/ray_data_long.md   # a longer job
"""

from __future__ import annotations

import argparse
import functools
import os
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from bench import timing
from bench.report import cpu_model
from bench.workloads import get, tile_rows
from willump_mlir.ray import DEFAULT_BATCH_SIZE

RESULTS = Path(__file__).resolve().parent / "results"
WIDE = "willump-mlir wide"  # wm.ray.predict with tasks of every CPU (kernels on that many threads)
SYSTEMS = ("no-op", "scikit-learn", "willump-mlir", WIDE)
IN_PROCESS = "in-process"  # the compiled call on all rows in the driver, every core


def dataset_for(name: str, rows: int, blocks: int) -> tuple[Any, Any, Any, Any]:
    """The workload's compiled pipeline, its original function bound to the model, and
    ``rows`` resampled test rows as a materialized dataset of ``blocks`` Arrow blocks."""
    import ray

    import willump_mlir as wm

    workload = get(name)
    module = __import__(workload.module, fromlist=["_"])
    data = getattr(module, workload.builder)(0)
    score = getattr(module, workload.score)
    test = data.test if workload.input_kind == "frame" else pd.DataFrame({"texts": data.test})
    compiled = wm.compile(score, example=(data.test[: workload.example_rows], data.model))
    table = pa.Table.from_pandas(tile_rows(test, rows), preserve_index=False)
    cuts = np.linspace(0, rows, blocks + 1).astype(int)
    pieces = [table.slice(a, b - a) for a, b in zip(cuts[:-1], cuts[1:], strict=True)]
    dataset = ray.data.from_arrow([pa.Table.from_batches(p.to_batches()) for p in pieces])
    original = functools.partial(score, model=data.model)
    return compiled, original, dataset.materialize(), workload


def scored(
    system: str, dataset: Any, compiled: Any, original: Any, batch_size: int, cpus: int
) -> Any:
    """The dataset ``system`` gives (lazy); ``WIDE`` asks for tasks of ``cpus`` CPUs."""
    import willump_mlir as wm

    if system == "no-op":  # whole blocks, as wm.ray.predict's map_batches gets them
        return dataset.map_batches(lambda batch: batch, batch_format="pyarrow",
                                   batch_size=None, num_cpus=1, zero_copy_batch=True)  # fmt: skip
    if system == "willump-mlir":
        return wm.ray.predict(dataset, compiled, batch_size=batch_size)
    if system == WIDE:
        return wm.ray.predict(dataset, compiled, batch_size=batch_size, num_cpus=cpus)
    feeds = wm.ray.feeds(compiled, dataset.schema().names)
    return dataset.map_batches(wm.ray.Scorer(original, feeds, "prediction", batch_size),
                               batch_format="pyarrow", batch_size=None, num_cpus=1,
                               zero_copy_batch=True)  # as wm.ray.predict  # fmt: skip


def block_times(result: Any, seconds: float) -> dict[str, float]:
    """Where a run of ``seconds`` went, from the stats Ray Data keeps for each block it
    made (``BlockExecStats``, measured in the worker), in ms per block (medians): the task's
    CPU time (its process, every thread), the map function's wall time; and the shares of
    the run during which one task (``one``) and two or more tasks (``two``) were making a
    block (the rest: none, Ray between tasks). The blocks' start and end times are the
    workers' ``time.perf_counter``, one clock on one machine."""
    stats = [entry.metadata.exec_stats for bundle in result.iter_internal_ref_bundles()
             for entry in bundle.blocks]  # fmt: skip
    events = sorted([(s.start_time_s, 1) for s in stats] + [(s.end_time_s, -1) for s in stats])
    at_once = {1: 0.0, 2: 0.0}  # seconds with exactly one, and with two or more, running
    running, since = 0, events[0][0]
    for moment, change in events:
        if running:
            at_once[min(running, 2)] += moment - since
        running, since = running + change, moment
    return {
        "cpu": 1e3 * statistics.median(s.cpu_time_s for s in stats),
        "function": 1e3 * statistics.median(s.function_body_time_s for s in stats),
        "one": at_once[1] / seconds,
        "two": at_once[2] / seconds,
    }


def kernel_cpu(compiled: Any, blocks: list[pa.Table]) -> float:
    """Median thread CPU time (ms) of the compiled call on one block, in the driver on one
    thread: the work each Ray task's kernel call does, without Ray."""
    import willump_mlir as wm

    feeds = wm.ray.feeds(compiled, blocks[0].schema.names)
    threads = os.environ.get("WILLUMP_MLIR_THREADS")
    os.environ["WILLUMP_MLIR_THREADS"] = "1"
    try:
        cpu = []
        for block in blocks:
            args = [feed.value(block) for feed in feeds]
            started = time.thread_time()
            compiled(*args)
            cpu.append(time.thread_time() - started)
    finally:
        if threads is None:
            del os.environ["WILLUMP_MLIR_THREADS"]
        else:
            os.environ["WILLUMP_MLIR_THREADS"] = threads
    return 1e3 * statistics.median(cpu)


def run_workload(
    name: str, rows: int, blocks: int, repeats: int, batch_size: int, cpus: int,
    systems: tuple[str, ...] = SYSTEMS,
) -> dict:
    import ray

    compiled, original, dataset, workload = dataset_for(name, rows, blocks)
    import willump_mlir as wm

    pieces = ray.get(dataset.to_arrow_refs())
    table = pa.concat_tables(pieces)
    args = [feed.value(table) for feed in wm.ray.feeds(compiled, table.schema.names)]
    seconds: dict[str, list[float]] = {s: [] for s in systems} | {IN_PROCESS: []}
    times: dict[str, list[dict[str, float]]] = {s: [] for s in systems}
    kernel: list[float] = []
    outputs = {}
    # 1-CPU tasks and WIDE's 2-CPU tasks do not alternate: after a run of the other shape
    # Ray starts fresh worker processes, and a fresh worker imports, unpickles and fills its
    # word cache again (a 200k-tweet run went 137k -> 37k rows/s when alternated with WIDE)
    phases = [[s for s in systems if s != WIDE], [s for s in systems if s == WIDE]]
    for phase in filter(None, phases):
        for repeat in range(repeats + 1):  # round 0 warms the workers up
            for system in phase:
                started = time.perf_counter()
                result = scored(system, dataset, compiled, original, batch_size, cpus).materialize()
                elapsed = time.perf_counter() - started
                if repeat:
                    seconds[system].append(elapsed)
                    times[system].append(block_times(result, elapsed))
                elif system != "no-op":
                    outputs[system] = np.sort(result.to_pandas()["prediction"].to_numpy())
                del result
    for _ in range(repeats):
        started = time.perf_counter()
        in_process = compiled(*args)
        seconds[IN_PROCESS].append(time.perf_counter() - started)
        kernel.append(kernel_cpu(compiled, pieces))
    agree = (float(np.max(np.abs(outputs["willump-mlir"] - outputs["scikit-learn"])))
             if {"willump-mlir", "scikit-learn"} <= outputs.keys() else None)  # fmt: skip
    exact = all(np.array_equal(outputs[s], np.sort(np.asarray(in_process)))
                for s in ("willump-mlir", WIDE) if s in outputs)  # fmt: skip
    return {"workload": name, "kind": workload.input_kind, "rows": rows, "blocks": blocks,
            "seconds": seconds, "times": times, "kernel_cpu": kernel,
            "max_abs_diff_sorted": agree, "equal_in_process": exact}  # fmt: skip


def markdown(results: list[dict], cpus: int, batch_size: int) -> str:
    lines = [
        "# Ray Data batch scoring: wm.ray.predict vs scikit-learn vs a no-op map_batches",
        "",
        f"`python -m bench.ray_data`: one local Ray instance (`num_cpus={cpus}`, "
        f"{cpu_model()}), the same materialized dataset and Arrow blocks for every system. "
        "Batches: every system's `map_batches` gets whole blocks (`batch_size=None`, what "
        "`wm.ray.predict` asks for, so that Ray Data can fuse a read before it and a write "
        "after it into the same task); scikit-learn's function and the compiled pipeline run "
        "in the same `wm.ray.Scorer`, which reads the columns the same way and calls them "
        f"on at most {batch_size:,} rows at a time (here: once per block). `num_cpus=1` per "
        "task (kernels on one thread each), and for willump-mlir also tasks of "
        f"`num_cpus={cpus}` (*wide*: one task at a time, its kernels on {cpus} threads; "
        "the floor stays the no-op's 1-CPU tasks, and its runs come after the others': runs of "
        "the two task shapes in turn made Ray start fresh workers); the other systems alternate "
        "within each repeat after a "
        "warm-up round, under Ray Data's default settings. Rows/s: median over repeats "
        "(min-max). The machine is shared with other jobs: absolute numbers move, the ratios "
        f"within a repeat are the result (load average at the end: {os.getloadavg()[0]:.1f}). "
        f"In-process: the compiled call on all the rows in the driver (outside Ray, {cpus} "
        "threads).",
        "",
        "| workload | rows (blocks) | no-op floor | scikit-learn | willump-mlir | "
        "vs scikit-learn | of the floor | willump-mlir wide | of the floor | in-process | "
        "Ray / in-process |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    rates = [{s: [r["rows"] / t for t in v] for s, v in r["seconds"].items()} for r in results]
    cells = [{s: timing.spread(v, ",.0f") for s, v in rate.items()} for rate in rates]
    mids = [{s: statistics.median(v) for s, v in rate.items()} for rate in rates]

    def ratio(mid: dict[str, float], system: str, base: str, form: str, unit: str = "") -> str:
        """``system``'s rows/s over ``base``'s, or a dash where one of them did not run."""
        if not {system, base} <= mid.keys():
            return "–"
        return format(mid[system] / mid[base], form) + unit

    for r, cell, mid in zip(results, cells, mids, strict=True):
        cell = {s: cell.get(s, "–") for s in (*SYSTEMS, IN_PROCESS)}
        lines.append(
            f"| {r['workload']} | {r['rows']:,} ({r['blocks']}) | {cell['no-op']} | "
            f"{cell['scikit-learn']} | {cell['willump-mlir']} | "
            f"{ratio(mid, 'willump-mlir', 'scikit-learn', '.1f', 'x')} | "
            f"{ratio(mid, 'willump-mlir', 'no-op', '.0%')} | {cell[WIDE]} | "
            f"{ratio(mid, WIDE, 'no-op', '.0%')} | {cell[IN_PROCESS]} | "
            f"{ratio(mid, 'willump-mlir', IN_PROCESS, '.0%')} |"
        )
    lines += [
        "",
        "## Where the time goes",
        "",
        "Per block, from the stats Ray Data keeps for each block it makes (measured in the "
        "worker; median over a run's blocks, then over repeats): the task's CPU time (its "
        "worker process, every thread: the map function and Ray's work inside the task) and "
        "the map function's wall time. Then the share of the run's wall time during which one "
        "task, and two or more tasks, were making a block (from the blocks' start and end "
        "times); the rest, Ray was between tasks. Ray Data 2.60 reads its resource limits as "
        "zero for about the first second of every execution (it caches the autoscaling "
        "coordinator's first, empty answer for 1 s), and while they read zero it starts a task "
        "only when none is running: a short run is mostly one task at a time, whatever the "
        "CPUs. Beside them, "
        "the kernel alone: the compiled call on each of the same blocks in the driver, on one "
        "thread (thread CPU time).",
        "",
        "| workload | run | rows/s | task CPU / block | map function / block | one task running "
        "| two or more |",
        "|---|---|---|---|---|---|---|",
    ]
    for r, mid in zip(results, mids, strict=True):
        for run, times in r["times"].items():
            cell = {k: statistics.median(t[k] for t in times) for k in times[0]}
            lines.append(
                f"| {r['workload']} | {run} | {mid[run]:,.0f} | {cell['cpu']:.1f} ms | "
                f"{cell['function']:.1f} ms | {cell['one']:.0%} | {cell['two']:.0%} |"
            )
    kernels = [f"{r['workload']} {timing.spread(r['kernel_cpu'], '.1f')} ms" for r in results]
    lines += ["", "The kernel alone, CPU / block in-process on one thread: " + ", ".join(kernels)]
    agreeing = [r for r in results if r["max_abs_diff_sorted"] is not None]
    lines += ["", "Agreement (sorted outputs): "
              + ("willump-mlir vs scikit-learn, max abs difference: " + ", ".join(
                  f"{r['workload']} {r['max_abs_diff_sorted']:.1e}" for r in agreeing) + "; "
                 if agreeing else "")
              + "wm.ray.predict equal to the in-process call: " + ", ".join(
                  f"{r['workload']} {r['equal_in_process']}" for r in results)]  # fmt: skip
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workloads", default="lending_club,trump_tweets")
    parser.add_argument("--rows", type=int, help="rows per workload (default: 1M tabular, "
                        "200k text)")  # fmt: skip
    parser.add_argument("--blocks", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE,
                        help="rows per call of a scorer within a block")  # fmt: skip
    parser.add_argument("--cpus", type=int, default=2)
    parser.add_argument("--systems", default=",".join(SYSTEMS),
                        help=f"which of {', '.join(SYSTEMS)} to run")  # fmt: skip
    parser.add_argument("--out", type=Path, default=RESULTS / "ray_data.md")
    options = parser.parse_args(argv)
    systems = tuple(options.systems.split(","))
    if unknown := sorted(set(systems) - set(SYSTEMS)):
        parser.error(f"--systems: unknown {unknown}; choose from {list(SYSTEMS)}")
    os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
    import ray

    ray.init(address="local", num_cpus=options.cpus, object_store_memory=1500 * 1024**2,
             include_dashboard=False, log_to_driver=False)  # fmt: skip
    ray.data.DataContext.get_current().enable_progress_bars = False
    try:
        results = []
        for name in options.workloads.split(","):
            rows = options.rows or (1_000_000 if get(name).input_kind == "frame" else 200_000)
            results.append(run_workload(name, rows, options.blocks, options.repeats,
                                        options.batch_size, options.cpus, systems))  # fmt: skip
            print(markdown(results, options.cpus, options.batch_size), flush=True)
    finally:
        ray.shutdown()
    options.out.write_text(markdown(results, options.cpus, options.batch_size))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
