"""Benchmark driver: ``python -m bench.run [--workload NAME|all] [--quick] [--repeats N]``.

The parent builds the workload once, pickles the model and the rows into a work directory and
computes scikit-learn's reference answer.  Then, for each repeat and each system, it starts a
fresh child (:mod:`bench.child`) so no two systems ever share a process or its thread pools.
Results go to ``<out>/<workload>.{md,json,png}``; the table is also printed on stdout and
progress on stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench import report
from bench.child import INPUTS_FILE, MARKER, STAGE
from bench.systems import CACHE_ENV, SYSTEMS
from bench.workloads import WORKLOADS, get, tile_rows

REPO = Path(__file__).resolve().parent.parent
DEFAULT_OUT = Path(__file__).resolve().parent / "results"
DEFAULT_SYSTEMS = ("sklearn", "onnxruntime", "willump-mlir")
DEFAULT_WORKLOAD = "lending_club"
MIN_SINGLE_CALLS = 200


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line (also used by ``willump bench``)."""
    ap = argparse.ArgumentParser(
        prog="python -m bench.run",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument(
        "--workload",
        default=DEFAULT_WORKLOAD,
        choices=[*sorted(WORKLOADS), "all"],
        help=f"workload to run, or 'all' (one after another; default {DEFAULT_WORKLOAD})",
    )
    ap.add_argument(
        "--systems",
        help=f"comma-separated subset of {','.join(SYSTEMS)} "
        f"(default: the workload's own list, else {','.join(DEFAULT_SYSTEMS)})",
    )
    ap.add_argument(
        "--quick",
        action="store_true",
        help="smoke run: 1 repeat, 3 timed batch calls, 200 single-row calls",
    )
    ap.add_argument("--repeats", type=int, help="fresh child processes per system (default 3)")
    ap.add_argument("--batch-rows", type=int, default=10_000, help="batch size (default 10k)")
    ap.add_argument("--batch-runs", type=int, help="timed batch calls per child (default 5)")
    ap.add_argument(
        "--single-calls",
        type=int,
        help=f"timed single-row calls per child (default 1000, >= {MIN_SINGLE_CALLS})",
    )
    ap.add_argument("--batch-threads", type=int, default=2, help="threads for batch runs")
    ap.add_argument("--seed", type=int, default=0, help="seed for the model split and resampling")
    ap.add_argument(
        "--limit",
        type=int,
        help="fit and test on only this many sampled data rows (smoke tests; text workloads)",
    )
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="directory for .md/.json/.png")
    ap.add_argument(
        "--work-dir",
        type=Path,
        help="scratch directory (kept); default: a temporary one, removed at the end",
    )
    ap.add_argument("--timeout", type=float, default=1800.0, help="seconds per child process")
    ap.add_argument("--no-plot", action="store_true", help="skip the PNG")
    ap.add_argument("--verbose", action="store_true", help="forward each child's stderr")
    args = ap.parse_args(argv)
    if args.systems is not None:
        args.systems = [s.strip() for s in args.systems.split(",") if s.strip()]
        unknown = [s for s in args.systems if s not in SYSTEMS]
        if unknown or not args.systems:
            ap.error(f"unknown system(s) {unknown}; choose from {', '.join(SYSTEMS)}")
    if args.repeats is None:
        args.repeats = 1 if args.quick else 3
    if args.batch_runs is None:
        args.batch_runs = 3 if args.quick else 5
    if args.single_calls is None:
        args.single_calls = MIN_SINGLE_CALLS if args.quick else 1000
    if args.single_calls < MIN_SINGLE_CALLS:
        ap.error(f"--single-calls must be >= {MIN_SINGLE_CALLS} for a meaningful p99")
    if min(args.repeats, args.batch_runs, args.batch_rows, args.batch_threads) < 1:
        ap.error("--repeats, --batch-runs, --batch-rows and --batch-threads must be >= 1")
    if args.limit is not None and args.limit < 10:
        ap.error("--limit must be >= 10")
    return args


def systems_for(args: argparse.Namespace, workload: str) -> list[str]:
    """``--systems`` if given, else the workload's own default list."""
    if args.systems is not None:
        return list(args.systems)
    return list(get(workload).systems or DEFAULT_SYSTEMS)


def progress(message: str) -> None:
    """One line of progress on stderr."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def child_env(args: argparse.Namespace, extra: dict[str, str]) -> dict[str, str]:
    """Environment for a child: repo importable, native thread pools capped at the batch size."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH")) if p)
    threads = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "WILLUMP_MLIR_THREADS")
    for var in threads:
        env.setdefault(var, str(args.batch_threads))
    env.update(extra)
    return env


def run_child(
    args: argparse.Namespace,
    work: Path,
    system: str,
    tag: str,
    mode: str,
    env_extra: dict[str, str],
) -> dict[str, Any]:
    """Start one child and return its result record (a failure record if it crashed)."""
    cmd = [
        PYTHONS.get(system, sys.executable),
        "-m",
        "bench.child",
        "--workload",
        args.workload,
        "--system",
        system,
        "--work-dir",
        str(work),
        "--tag",
        tag,
        "--mode",
        mode,
        "--batch-runs",
        str(args.batch_runs),
        "--single-calls",
        str(args.single_calls),
        "--batch-threads",
        str(args.batch_threads),
    ]
    base = {"workload": args.workload, "system": system, "tag": tag, "mode": mode, "ok": False}
    proc = subprocess.Popen(
        cmd,
        cwd=REPO,
        env=child_env(args, env_extra),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group: a timeout ends what it started too
    )
    try:
        stdout, stderr = proc.communicate(timeout=args.timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # the child and e.g. the compiler it runs
        _, err = proc.communicate()
        stages = [line[len(STAGE) :] for line in err.splitlines() if line.startswith(STAGE)]
        during = f" during its {stages[-1]} stage" if stages else ""
        return {**base, "stage": "timeout",
                "error": f"child exceeded {args.timeout:g} s{during}"}  # fmt: skip
    if args.verbose and stderr:
        sys.stderr.write(stderr)
    for line in reversed(stdout.splitlines()):
        if line.startswith(MARKER):
            record = json.loads(line[len(MARKER) :])
            if not record.get("ok"):
                record["stderr_tail"] = stderr[-2000:]
            return record
    tail = stderr.strip().splitlines()[-1:] or ["no output"]
    return {
        **base,
        "stage": "crash",
        "error": f"exit code {proc.returncode}: {tail[0][:500]}",
        "stderr_tail": stderr[-2000:],
    }


def run_repeat(
    args: argparse.Namespace, work: Path, system: str, repeat: int, reference: np.ndarray
) -> dict[str, Any]:
    """One repeat of one system: a full child, then (if it has one) a warm-compile child."""
    spec = SYSTEMS[system]
    tag = f"{system}-r{repeat}"
    env_extra: dict[str, str] = {}
    if spec.uses_cache_dir:
        cache = work / f"cache-{tag}"
        shutil.rmtree(cache, ignore_errors=True)
        cache.mkdir(mode=0o700)  # a cache others can write is not used
        env_extra[CACHE_ENV] = str(cache)
    record = run_child(args, work, system, tag, "full", env_extra)
    record["repeat"] = repeat
    if not record.get("ok"):
        return record
    if spec.warm_compile is not None:
        warm = run_child(args, work, system, tag, "compile", env_extra)
        if warm.get("ok"):
            record["compile_warm_s"] = warm["compile_s"]
            record["compile_warm_peak_mb"] = warm.get("peak_mb")
        else:
            record["warm_error"] = f"{warm.get('stage')}: {warm.get('error')}"[:500]
    output = np.load(record["output_path"], allow_pickle=True)
    record.update(report.compare(reference, output))
    return record


PYTHONS: dict[str, str] = {}  # system -> interpreter for its children (default: this one)


def setup_interpreters(args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    """Set up the interpreter of each selected system that has its own (e.g. lleaves' venv);
    returns a failure record (stage ``install``) per system whose setup failed."""
    failed = {}
    for system in args.systems:
        python = SYSTEMS[system].python
        if python is None or system in PYTHONS:
            continue
        progress(f"{system}: setting up its environment ...")
        try:
            PYTHONS[system] = python()
        except Exception as exc:  # noqa: BLE001 - recorded in the results, the others still run
            failed[system] = {"workload": args.workload, "system": system, "ok": False,
                              "stage": "install", "error": f"{system}: {exc}"[:2000]}  # fmt: skip
            progress(f"{system}: {exc}")
    return failed


def run_probes(args: argparse.Namespace, work: Path) -> dict[str, dict[str, Any]]:
    """Run each selected system's one-off probe (e.g. ORT precision choice) in its own child;
    a system whose environment could not be set up gets its failure record instead."""
    probes = setup_interpreters(args)
    for system in args.systems:
        if SYSTEMS[system].probe is None or system in probes:
            continue
        progress(f"{system}: probing (untimed) ...")
        probes[system] = probe = run_child(args, work, system, f"{system}-probe", "probe", {})
        outcome = f"ok {probe.get('precision', '')}" if probe.get("ok") else describe(probe)
        progress(f"{system}: probe {outcome}")
    return probes


def describe(record: dict[str, Any]) -> str:
    """A one-line progress summary of a child record."""
    if not record.get("ok"):
        return f"FAILED ({record.get('stage')}): {str(record.get('error'))[:200]}"
    parts = [
        f"{record['rows_per_s']:,.0f} rows/s",
        f"p50 {record['single_p50_us']:,.0f} µs",
        f"p99 {record['single_p99_us']:,.0f} µs",
    ]
    if record.get("compile_s") is not None:
        parts.append(f"compile {record['compile_s']:.3f} s")
    if record.get("compile_warm_s") is not None:
        parts.append(f"warm {record['compile_warm_s']:.3f} s")
    if "max_abs_diff" in record:
        parts.append(f"max|diff| {record['max_abs_diff']:.2g}")
    return ", ".join(parts)


def prepare_inputs(args: argparse.Namespace, work: Path) -> tuple[np.ndarray, str]:
    """Build the workload, pickle model + rows for the children, return sklearn's answer."""
    workload = get(args.workload)
    progress(f"building workload {workload.name}")
    data = workload.build(args.seed, limit=args.limit)
    batch = tile_rows(data.test, args.batch_rows, args.seed)
    with open(work / INPUTS_FILE, "wb") as fh:
        pickle.dump({"model": data.model, "test": data.test, "batch": batch}, fh)
    reference = np.asarray(workload.score_fn(standalone=True)(batch, data.model))
    np.save(work / "reference.npy", reference)
    progress(f"{len(data.test):,} test rows resampled to a {len(batch):,}-row batch")
    return reference, workload.description


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; returns 0 when the report(s) were written (failures are rows in them)."""
    args = parse_args(argv)
    if args.workload != "all":
        return run_workload(args)
    for name in sorted(WORKLOADS):
        one = argparse.Namespace(**vars(args))
        one.workload = name
        if args.work_dir is not None:
            one.work_dir = args.work_dir / name
        run_workload(one)
    return 0


def run_workload(args: argparse.Namespace) -> int:
    """Run one workload on its systems and write ``<out>/<workload>.{md,json,png}``."""
    args.systems = systems_for(args, args.workload)
    work = (args.work_dir or Path(tempfile.mkdtemp(prefix="willump-bench-"))).resolve()
    work.mkdir(parents=True, exist_ok=True)
    args.out.mkdir(parents=True, exist_ok=True)
    try:
        reference, description = prepare_inputs(args, work)
        load_start = [round(x, 2) for x in os.getloadavg()]
        progress(f"load average at start: {load_start}")
        probes = run_probes(args, work)
        runs: list[dict[str, Any]] = []
        timed_out: dict[str, dict[str, Any]] = {}  # not run again in later repeats
        total, step = args.repeats * len(args.systems), 0
        for repeat in range(1, args.repeats + 1):  # repeat-major: noise spreads over all systems
            for system in args.systems:
                step += 1
                progress(f"({step}/{total}) {system}: repeat {repeat}/{args.repeats} ...")
                started = time.perf_counter()
                probe = probes.get(system)
                if probe is not None and not probe.get("ok"):
                    record = {**probe, "mode": "full", "repeat": repeat}
                elif system in timed_out:
                    record = {**timed_out[system], "repeat": repeat}
                else:
                    record = run_repeat(args, work, system, repeat, reference)
                    if record.get("stage") == "timeout":
                        timed_out[system] = record
                runs.append(record)
                progress(
                    f"({step}/{total}) {system}: {describe(record)} "
                    f"[{time.perf_counter() - started:.1f} s]"
                )
        rows = report.summarize(runs, args.systems)
        machine = report.machine_info(REPO)
        machine["load_average_at_start"] = load_start
        config = {k: v for k, v in vars(args).items() if k not in ("out", "work_dir", "verbose")}
        targets = get(args.workload).targets
        page = report.markdown(args.workload, description, machine, config, rows, targets)
        stem = args.out / args.workload
        stem.with_suffix(".md").write_text(page)
        payload = {
            "workload": args.workload,
            "description": description,
            "machine": machine,
            "config": config,
            "summary": rows,
            "targets": targets,
            "probes": probes,
            "runs": runs,
        }
        stem.with_suffix(".json").write_text(json.dumps(payload, indent=2, default=str) + "\n")
        if not args.no_plot:
            report.plot(
                rows,
                f"{args.workload} ({machine['cpu']}, {machine['cores']} cores)",
                stem.with_suffix(".png"),
            )
        print(report.table(rows))
        progress(f"wrote {stem}.md, .json" + ("" if args.no_plot else ", .png"))
    finally:
        if args.work_dir is None:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
