"""One table across workloads, from their ``bench/results/<workload>.json``.

    python -m bench.summary synthetic_gb synthetic_rf ... --out bench/results/trees_summary.md

Each row: the reference's, the best peer's and willump-mlir's batch throughput and
single-row p50 (medians over the repeats, as in each workload's own page), willump-mlir's
ratios to both, its exactness, and, where the workload ran ``willump-mlir-scaler-kept``,
its batch throughput over that variant: what folding the scaler gained, where it folds;
where it ran ``willump-mlir-node-loop``, its batch throughput and cold compile time over
that variant: what generated branches gain and cost (the same when the node loop was kept).
The last columns name the peers that failed in some repeat (system, repeats that ran, the
failure's stage) and when the workload ran, with the 1-minute load average at its start.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from bench.report import NOT_PEERS, REFERENCE

RESULTS = Path(__file__).resolve().parent / "results"
WILLUMP = "willump-mlir"
SCALER_KEPT = "willump-mlir-scaler-kept"
NODE_LOOP = "willump-mlir-node-loop"


def _load(workload: str) -> dict[str, Any]:
    return json.loads((RESULTS / f"{workload}.json").read_text())


def _rows(workload: str) -> dict[str, dict[str, Any]]:
    return {r["system"]: r for r in _load(workload)["summary"] if r["ok_repeats"]}


def _failed_peers(data: dict[str, Any]) -> str:
    """``tl2cgen 0/3 (timeout)`` for each peer with a failed repeat, or ``–``."""
    failed = [
        f"{r['system']} {r['ok_repeats']}/{r['repeats']} ({r['failures'][0].split(':')[0]})"
        for r in data["summary"]
        if r["system"] not in NOT_PEERS and r["failures"]
    ]
    return ", ".join(failed) or "–"


def _when(data: dict[str, Any]) -> str:
    machine = data["machine"]
    return f"{machine['date'][:10]} ({machine['load_average_at_start'][0]:.1f})"


def _best(rows: dict[str, dict[str, Any]], key: str, fastest: Any) -> dict[str, Any] | None:
    peers = [r for name, r in rows.items() if name not in NOT_PEERS]
    return fastest(peers, key=lambda r: r[key]) if peers else None


def _batch(row: dict[str, Any] | None) -> str:
    return "–" if row is None else f"{row['rows_per_s']:,.0f}"


def _single(row: dict[str, Any] | None) -> str:
    return "–" if row is None else f"{row['single_p50_us']:,.0f}"


def _name(row: dict[str, Any] | None) -> str:
    return "" if row is None else f" ({row['system']})"


def summary_line(workload: str) -> str:
    rows = _rows(workload)
    ours, reference = rows.get(WILLUMP), rows.get(REFERENCE)
    peer_batch = _best(rows, "rows_per_s", max)
    peer_single = _best(rows, "single_p50_us", min)
    data = _load(workload)
    if ours is None:
        return (
            f"| {workload} | {_batch(reference)} | – | failed |"
            + " |" * 11
            + (f" {_failed_peers(data)} | {_when(data)} |")
        )

    def faster(other: dict[str, Any] | None, key: str) -> str:
        """How many times faster willump-mlir is than ``other`` on ``key``."""
        if other is None:
            return "–"
        ratio = other[key] / ours[key] if key == "single_p50_us" else ours[key] / other[key]
        return f"{ratio:.2f}x"

    kept, loop = rows.get(SCALER_KEPT), rows.get(NODE_LOOP)
    compile_cost = "–"
    if loop is not None and ours.get("compile_cold_s") and loop.get("compile_cold_s"):
        compile_cost = f"{ours['compile_cold_s']:.1f} s / {loop['compile_cold_s']:.1f} s"
    return (
        f"| {workload} | {_batch(reference)} | {_batch(peer_batch)}{_name(peer_batch)} "
        f"| **{_batch(ours)}** | {faster(reference, 'rows_per_s')} "
        f"| {faster(peer_batch, 'rows_per_s')} "
        f"| {_single(reference)} | {_single(peer_single)}{_name(peer_single)} "
        f"| **{_single(ours)}** | {faster(reference, 'single_p50_us')} "
        f"| {faster(peer_single, 'single_p50_us')} "
        f"| {ours['max_abs_diff']:.2g} | {faster(kept, 'rows_per_s')} "
        f"| {faster(loop, 'rows_per_s')} | {compile_cost} | {_failed_peers(data)} "
        f"| {_when(data)} |"
    )


HEADER = (
    "| workload | reference batch rows/s | best peer batch | **willump-mlir batch** "
    "| vs reference | vs best peer | reference 1-row µs | best peer 1-row µs "
    "| **willump-mlir 1-row µs** | vs reference | vs best peer | max \\|diff\\| "
    "| vs scaler kept | vs node loop | compile s (with / node loop) | peers failed "
    "| run (load) |\n" + "|---" * 17 + "|"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workloads", nargs="+")
    parser.add_argument("--out", type=Path, help="also write the table to this file")
    options = parser.parse_args()
    table = "\n".join([HEADER, *(summary_line(w) for w in options.workloads)])
    print(table)
    if options.out is not None:
        options.out.write_text(table + "\n")


if __name__ == "__main__":
    main()
