"""willump-mlir at an earlier commit beside this checkout, on the bench's workloads.

    python -m bench.before_after --before 4a039f3 [--workloads lending_club,synthetic_xgb]
        [--rounds 3] [--out bench/results/before_after.md]

A refactor must not make the README's numbers stale. This checks out ``--before`` into a
git worktree with its own virtual environment (made by its own ``make``; reused when it
exists), then runs ``python -m bench.run --systems sklearn,willump-mlir --repeats 1`` for
every workload, alternating the two checkouts ``--rounds`` times, so both see the same
machine load. Each run is the usual bench: every system in a fresh child process. The table
gives willump-mlir's batch rows/s and single-row p50 for both, as medians with their range
over rounds, and the ratio of the medians; scikit-learn's rows show how much the machine
itself moved between runs.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from bench import timing

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results"
WORKLOADS = ("lending_club", "lending_club_hgb", "synthetic_gb", "synthetic_xgb",
             "synthetic_lgbm", "movielens", "trump_tweets")  # fmt: skip
METRICS = (("rows_per_s", "batch rows/s", True), ("single_p50_us", "1-row p50 µs", False))


def checkout(revision: str) -> Path:
    """A worktree of ``revision`` with its virtual environment, made once and reused."""
    commit = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "--short", revision],
        check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    tree = Path(tempfile.gettempdir()) / f"willump-mlir-before-{commit}"
    if not tree.exists():
        print(f"checking out {commit} into {tree}", file=sys.stderr)
        subprocess.run(
            ["git", "-C", str(REPO), "worktree", "add", "--detach", str(tree), commit], check=True
        )
    print(f"installing {tree}/.venv (once)", file=sys.stderr)
    subprocess.run(["make", "-s", ".venv/.installed-stamp"], cwd=tree, check=True)
    return tree


def run(tree: Path, workload: str, out: Path, extra: list[str]) -> dict[str, dict[str, float]]:
    """One ``bench.run`` of ``workload`` in ``tree``; its summary rows by system."""
    command = [str(tree / ".venv" / "bin" / "python"), "-m", "bench.run", "--workload", workload,
               "--systems", "sklearn,willump-mlir", "--repeats", "1", "--no-plot",
               "--out", str(out), *extra]  # fmt: skip
    subprocess.run(command, cwd=tree, check=True, stdout=subprocess.DEVNULL,
                   env=os.environ | {"PYTHONDONTWRITEBYTECODE": "1"})  # fmt: skip
    summary = json.loads((out / f"{workload}.json").read_text())["summary"]
    return {row["system"]: row for row in summary}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.before_after", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    ap.add_argument("--before", required=True, help="the earlier commit (any git revision)")
    ap.add_argument("--workloads", default=",".join(WORKLOADS))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--out", type=Path, default=RESULTS / "before_after.md")
    ap.add_argument(
        "--bench-args",
        default="--batch-runs 3 --single-calls 300",
        help="passed to every bench.run (default: %(default)s)",
    )
    args = ap.parse_args(argv)
    before = checkout(args.before)
    trees = {"before": before, "after": REPO}
    extra = args.bench_args.split()
    found: dict[tuple[str, str, str, str], list[float]] = {}
    load = [os.getloadavg()[0]]
    with tempfile.TemporaryDirectory(prefix="willump-before-after-") as work:
        for workload in args.workloads.split(","):
            for round_ in range(args.rounds):
                for side, tree in trees.items():
                    print(f"{workload}: round {round_ + 1}/{args.rounds}, {side}", file=sys.stderr)
                    rows = run(tree, workload, Path(work) / side, extra)
                    for system, row in rows.items():
                        for metric, _, _ in METRICS:
                            if row.get(metric) is not None:
                                found.setdefault((workload, system, metric, side), []).append(
                                    float(row[metric])
                                )
                    load.append(os.getloadavg()[0])
    head = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
                          capture_output=True, text=True).stdout.strip()  # fmt: skip
    lines = [
        f"# willump-mlir before ({args.before}) and after ({head}), on the bench's workloads",
        "",
        f"`python -m bench.before_after --before {args.before} --rounds {args.rounds}` "
        f"(each run `bench.run --systems sklearn,willump-mlir --repeats 1 {args.bench_args}`, "
        "the two checkouts alternating). Median over rounds (min–max). After/before > 1 is "
        "better for rows/s, < 1 better for µs. 1-minute load average during the runs: "
        f"{min(load):.1f}–{max(load):.1f} on {os.cpu_count()} cores.",
        "",
        "| workload | system | metric | before | after | after/before |",
        "|---|---|---|---|---|---|",
    ]
    for workload in args.workloads.split(","):
        for system in ("willump-mlir", "sklearn"):
            for metric, label, _ in METRICS:
                b = found.get((workload, system, metric, "before"))
                a = found.get((workload, system, metric, "after"))
                if not a or not b:
                    continue
                ratio = statistics.median(a) / statistics.median(b)
                lines.append(f"| {workload} | {system} | {label} | {timing.spread(b)} | "
                             f"{timing.spread(a)} | {ratio:.2f} |")  # fmt: skip
    args.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
