"""One benchmark run of one system, in a fresh process.  Internal: started by :mod:`bench.run`.

Prints exactly one line ``BENCH_RESULT {json}`` on stdout.  Failures (import, convert, compile,
run) become a record with ``ok: false`` and the message; the process still exits 0 so the parent
can tell a recorded failure from a crash.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import sys
import time
import traceback
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from bench import timing
from bench.systems import SYSTEMS, Context, StageError
from bench.workloads import WorkloadData, get, one_row

MARKER = "BENCH_RESULT "
INPUTS_FILE = "inputs.pkl"
STAGE = "BENCH_STAGE "  # stderr line naming the stage a child has reached


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command line of a child run."""
    ap = argparse.ArgumentParser(prog="python -m bench.child", description=__doc__)
    ap.add_argument("--workload", required=True)
    ap.add_argument("--system", required=True, choices=sorted(SYSTEMS))
    ap.add_argument("--work-dir", required=True, type=Path)
    ap.add_argument("--tag", required=True, help="names this run's files in the work dir")
    ap.add_argument("--mode", choices=("full", "compile", "probe"), default="full")
    ap.add_argument("--batch-runs", type=int, default=5)
    ap.add_argument("--single-calls", type=int, default=200)
    ap.add_argument("--batch-threads", type=int, default=2)
    return ap.parse_args(argv)


def emit(record: dict[str, Any]) -> None:
    """Write the result line the parent looks for."""
    record["peak_mb"] = round(timing.peak_rss_mb(), 1)
    sys.stdout.write(MARKER + json.dumps(record) + "\n")
    sys.stdout.flush()


def single_rows(rows: Any, n: int) -> list[Any]:
    """``n`` distinct one-row inputs (``frame.iloc[[i]]``, or ``[text]`` for text workloads),
    cycling if there are fewer than ``n`` rows."""
    return [one_row(rows, i % len(rows)) for i in range(n)]


def run(args: argparse.Namespace, record: dict[str, Any]) -> None:
    """Prepare the system and fill ``record`` with its measurements."""
    from threadpoolctl import threadpool_limits

    workload, system = get(args.workload), SYSTEMS[args.system]
    workload.load()  # the pickled model may hold classes of the standalone workload module
    with open(args.work_dir / INPUTS_FILE, "rb") as fh:
        inputs = pickle.load(fh)
    data = WorkloadData(model=inputs["model"], test=inputs["test"])
    ctx = Context(workload, data, args.work_dir, args.tag, args.batch_threads)

    if args.mode == "probe":
        if system.probe is not None:
            record.update(system.probe(ctx))
        return
    if args.mode == "compile":
        if system.warm_compile is None:
            raise StageError("compile", ValueError(f"{system.name} has no compile step"))
        with threadpool_limits(args.batch_threads):
            record["compile_s"] = system.warm_compile(ctx)
        return

    print(f"{STAGE}compile", file=sys.stderr, flush=True)  # where a timed-out child was
    with threadpool_limits(args.batch_threads):
        prepared = system.prepare(ctx)
    print(f"{STAGE}run", file=sys.stderr, flush=True)
    record["compile_s"] = prepared.compile_s
    record["notes"] = prepared.notes
    record.update(prepared.extra)

    batch = inputs["batch"]
    rows = single_rows(data.test, args.single_calls)
    try:
        with threadpool_limits(args.batch_threads):
            out = np.asarray(prepared.batch_fn(batch))  # warm-up; its answer is checked
            output_path = args.work_dir / f"{args.tag}.npy"
            np.save(output_path, out)
            record["output_path"] = str(output_path)
            batch_s = timing.time_batch(prepared.batch_fn, batch, args.batch_runs)
        with threadpool_limits(1):
            single_s = timing.time_single(prepared.single_fn, rows)
            if prepared.single_native is not None:
                to_native, run_native = prepared.single_native
                native_s = timing.time_single(run_native, [to_native(r) for r in rows])
                record["single_native_p50_us"] = timing.percentile(native_s, 50) * 1e6
    except Exception as exc:  # noqa: BLE001
        raise StageError("run", exc) from exc

    med = timing.median(batch_s)
    record.update(
        batch_rows=len(batch),
        batch_s=[round(t, 6) for t in batch_s],
        rows_per_s=len(batch) / med,
        single_calls=len(single_s),
        single_p50_us=timing.percentile(single_s, 50) * 1e6,
        single_p99_us=timing.percentile(single_s, 99) * 1e6,
    )


def main(argv: list[str] | None = None) -> int:
    """Run one system once; always prints a result line unless the interpreter dies."""
    args = parse_args(argv)
    warnings.filterwarnings("ignore")
    record: dict[str, Any] = {
        "workload": args.workload,
        "system": args.system,
        "tag": args.tag,
        "mode": args.mode,
        "pid": os.getpid(),
        "ok": False,
    }
    start = time.perf_counter()
    try:
        run(args, record)
        record["ok"] = True
    except StageError as exc:
        record.update(stage=exc.stage, error=str(exc)[:2000])
        traceback.print_exception(exc.cause, file=sys.stderr)
    except Exception as exc:  # noqa: BLE001 - harness bugs are still reported, not raised
        record.update(stage="harness", error=f"{type(exc).__name__}: {exc}"[:2000])
        traceback.print_exc(file=sys.stderr)
    record["wall_s"] = round(time.perf_counter() - start, 3)
    emit(record)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
