"""Turn child records into a summary per system, a markdown table, a JSON file and a plot."""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import os
import platform
import statistics
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

PACKAGES = (
    "numpy",
    "pandas",
    "scikit-learn",
    "onnxruntime",
    "skl2onnx",
    "onnx",
    "llvmlite",
    "xdsl",
    "willump-mlir",
    "lightgbm",
    "xgboost-cpu",
    "treelite",
    "tl2cgen",
    "onnxmltools",
)
REFERENCE = "sklearn"  # the system whose output every other one is compared with
NOT_PEERS = (REFERENCE, "willump-mlir", "willump-mlir-scaler-kept", "willump-mlir-node-loop")


def cpu_model() -> str:
    """The CPU model name from /proc/cpuinfo (or the platform's idea of it)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine_info(repo: Path) -> dict[str, Any]:
    """CPU, cores, OS, Python and package versions, date and git commit of the repository."""
    versions: dict[str, str] = {}
    for name in PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=repo,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit = "unknown"
    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "os": platform.platform(),
        "python": platform.python_version(),
        "versions": versions,
        "git_commit": commit,
        "load_average_1_5_15min": [round(x, 2) for x in os.getloadavg()],
        "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
    }


DISAGREE_TOL = 1e-4  # well above float32 rounding: a row this far off computed something else


def compare(reference: np.ndarray, output: np.ndarray) -> dict[str, Any]:
    """Max |difference| for numeric outputs, mismatch count for labels.

    For numeric outputs also: the fraction of rows off by more than ``DISAGREE_TOL`` in any
    column (``rows_differing_frac``) and the fraction whose predicted class changes
    (``label_flip_frac``: threshold 0.5 for a probability vector, argmax for a matrix).
    """
    if output.shape != reference.shape:
        return {"compare_error": f"shape {output.shape} != reference {reference.shape}"}
    if reference.dtype.kind in "fc" and output.dtype.kind in "fcbiu":
        ref, out = reference.astype(np.float64), output.astype(np.float64)
        diff = np.abs(out - ref)
        diff[np.isnan(out) & np.isnan(ref)] = 0.0
        if not diff.size:
            return {"max_abs_diff": 0.0}
        row_diff = diff.reshape(len(diff), -1).max(axis=1) if diff.ndim > 1 else diff
        if ref.ndim == 2:
            flips = np.argmax(out, axis=1) != np.argmax(ref, axis=1)
        else:
            flips = (out > 0.5) != (ref > 0.5)
        return {
            "max_abs_diff": float(np.max(diff)),
            "rows_differing_frac": float(np.mean(row_diff > DISAGREE_TOL)),
            "label_flip_frac": float(np.mean(flips)),
        }
    return {"label_mismatches": int(np.sum(output != reference))}


def _median(values: Sequence[float]) -> float | None:
    return statistics.median(values) if values else None


def _present(records: list[dict[str, Any]], key: str) -> list[float]:
    return [r[key] for r in records if r.get(key) is not None]


def summarize(runs: list[dict[str, Any]], systems: Sequence[str]) -> list[dict[str, Any]]:
    """One row per system: medians over repeats, with min/max spread and failures."""
    rows = []
    for system in systems:
        mine = [r for r in runs if r["system"] == system]
        ok = [r for r in mine if r.get("ok")]
        rps = [r["rows_per_s"] for r in ok]
        p50 = [r["single_p50_us"] for r in ok]
        diffs = [r["max_abs_diff"] for r in ok if "max_abs_diff" in r]
        labels = [r["label_mismatches"] for r in ok if "label_mismatches" in r]
        differing = _present(ok, "rows_differing_frac")
        flips = _present(ok, "label_flip_frac")
        notes: list[str] = []
        for r in ok:
            notes.extend(n for n in r.get("notes", []) if n not in notes)
            if r.get("compare_error") and r["compare_error"] not in notes:
                notes.append(r["compare_error"])
            if r.get("warm_error") and f"warm: {r['warm_error']}" not in notes:
                notes.append(f"warm: {r['warm_error']}")
        native = _median(_present(ok, "single_native_p50_us"))
        if native is not None:
            notes.append(f"engine alone (pre-built inputs) single-row p50 {native:,.0f} µs")
        failures = [f"{r.get('stage')}: {r.get('error')}" for r in mine if not r.get("ok")]
        rows.append(
            {
                "system": system,
                "repeats": len(mine),
                "ok_repeats": len(ok),
                "rows_per_s": _median(rps),
                "rows_per_s_min": min(rps) if rps else None,
                "rows_per_s_max": max(rps) if rps else None,
                "single_p50_us": _median(p50),
                "single_p50_us_min": min(p50) if p50 else None,
                "single_p50_us_max": max(p50) if p50 else None,
                "single_p99_us": _median([r["single_p99_us"] for r in ok]),
                "compile_cold_s": _median(_present(ok, "compile_s")),
                "compile_warm_s": _median(_present(ok, "compile_warm_s")),
                "peak_mb": max((r["peak_mb"] for r in ok), default=None),
                "max_abs_diff": max(diffs) if diffs else None,
                "label_mismatches": max(labels) if labels else None,
                "rows_differing_frac": max(differing) if differing else None,
                "label_flip_frac": max(flips) if flips else None,
                "single_native_p50_us": native,
                "notes": notes,
                "failures": failures,
            }
        )
    base = next((r for r in rows if r["system"] == REFERENCE), None)
    peers = [r for r in rows if r["system"] not in NOT_PEERS and r["ok_repeats"]]
    best_batch = max(peers, key=lambda r: r["rows_per_s"], default=None)
    best_single = min(peers, key=lambda r: r["single_p50_us"], default=None)
    for row in rows:
        row["batch_speedup"] = _ratio(row["rows_per_s"], base and base["rows_per_s"])
        row["single_speedup"] = _ratio(base and base["single_p50_us"], row["single_p50_us"])
        row["best_peer_batch"] = best_batch and best_batch["system"]
        row["best_peer_single"] = best_single and best_single["system"]
        row["batch_vs_best_peer"] = _ratio(
            row["rows_per_s"], best_batch and best_batch["rows_per_s"]
        )
        row["single_vs_best_peer"] = _ratio(
            best_single and best_single["single_p50_us"], row["single_p50_us"]
        )
    return rows


def _ratio(num: float | None, den: float | None) -> float | None:
    return num / den if num is not None and den else None


def _fmt(value: float | None, spec: str, suffix: str = "") -> str:
    return "–" if value is None else f"{value:{spec}}{suffix}"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _diff_text(row: dict[str, Any]) -> str:
    if row["label_mismatches"] is not None:
        return f"{row['label_mismatches']} labels"
    return _fmt(row["max_abs_diff"], ".2g")


def _disagree_text(row: dict[str, Any]) -> str:
    frac, flips = row.get("rows_differing_frac"), row.get("label_flip_frac")
    if frac is None:
        return "–"
    text = f"{frac:.2%}"
    if flips:
        text += f" ({flips:.2%} flip class)"
    return text


def _vs_peer(row: dict[str, Any], kind: str) -> str:
    """``"1.52x (tl2cgen)"``: speedup over the best peer (``kind``: batch or single)."""
    ratio, peer = row[f"{kind}_vs_best_peer"], row[f"best_peer_{kind}"]
    return "–" if ratio is None else f"{ratio:.2f}x ({peer})"


def table(rows: list[dict[str, Any]]) -> str:
    """The results table in markdown."""
    head = (
        "| system | batch rows/s median (min–max) | batch speedup vs sklearn "
        "| batch vs best peer "
        "| single-row p50 µs median (min–max) | p99 µs | single-row speedup vs sklearn "
        "| single-row vs best peer | compile cold s "
        f"| warm s | peak MB | max \\|diff\\| | rows off by > {DISAGREE_TOL:g} | note |"
    )
    lines = [head, "|" + "---|" * 14]
    for r in rows:
        if r["ok_repeats"] == 0:
            msg = r["failures"][0] if r["failures"] else "no runs"
            cells = "|  " * 11
            lines.append(f"| {r['system']} | failed {cells}| {_cell(msg[:300])} |")
            continue
        spread = f" ({r['rows_per_s_min']:,.0f}–{r['rows_per_s_max']:,.0f})"
        note = "; ".join(r["notes"])
        if r["failures"]:
            failed = f"{len(r['failures'])}/{r['repeats']} repeats failed"
            note = f"{failed}; {note}" if note else failed
        lines.append(
            "| "
            + " | ".join(
                [
                    r["system"],
                    _fmt(r["rows_per_s"], ",.0f") + spread,
                    _fmt(r["batch_speedup"], ".2f", "x"),
                    _vs_peer(r, "batch"),
                    _fmt(r["single_p50_us"], ",.0f")
                    + f" ({r['single_p50_us_min']:,.0f}–{r['single_p50_us_max']:,.0f})",
                    _fmt(r["single_p99_us"], ",.0f"),
                    _fmt(r["single_speedup"], ".2f", "x"),
                    _vs_peer(r, "single"),
                    _fmt(r["compile_cold_s"], ".3f"),
                    _fmt(r["compile_warm_s"], ".3f"),
                    _fmt(r["peak_mb"], ",.0f"),
                    _diff_text(r),
                    _disagree_text(r),
                    _cell(note),
                ]
            )
            + " |"
        )
    return "\n".join(lines)


TARGET_LABELS = {
    "batch_speedup": "batch throughput vs the reference",
    "single_speedup": "single-row p50 vs the reference",
    "batch_vs_best_peer": "batch throughput vs the best peer",
    "single_vs_best_peer": "single-row p50 vs the best peer",
}


def target_lines(rows: list[dict[str, Any]], targets: dict[str, float]) -> list[str]:
    """One line per target (a ``summarize`` ratio key -> the factor willump-mlir must reach)."""
    wm = next((r for r in rows if r["system"] == "willump-mlir"), None)
    lines = []
    for key, goal in targets.items():
        got = wm and wm.get(key)
        peer = ""
        if got is not None and key.endswith("best_peer"):
            peer = f" ({wm['best_peer_' + key.split('_')[0]]})"
        status = "no result" if got is None else ("met" if got >= goal else "NOT met")
        shown = "–" if got is None else f"{got:.2f}x{peer}"
        lines.append(f"- willump-mlir {TARGET_LABELS[key]} >= {goal:g}x: {shown}, {status}")
    return lines


def markdown(
    workload: str,
    description: str,
    machine: dict[str, Any],
    config: dict[str, Any],
    rows: list[dict[str, Any]],
    targets: dict[str, float] | None = None,
) -> str:
    """The whole results page: machine header, protocol, table, targets and failure messages."""
    v = machine["versions"]
    out = [
        f"# Benchmark: {workload}",
        "",
        description,
        "",
        f"- machine: {machine['cpu']}, {machine['cores']} cores "
        f"({machine['usable_cores']} usable), {machine['os']}",
        f"- python {machine['python']}, scikit-learn {v['scikit-learn']}, onnxruntime "
        f"{v['onnxruntime']}, skl2onnx {v['skl2onnx']}, onnx {v['onnx']}, "
        f"llvmlite {v['llvmlite']}, numpy {v['numpy']}, pandas {v['pandas']}, "
        f"willump-mlir {v['willump-mlir']} "
        f"(git {machine['git_commit']})"
        + "".join(
            f", {name} {v[name]}"
            for name in ("lightgbm", "xgboost-cpu", "treelite", "tl2cgen", "onnxmltools")
            if v.get(name, "not installed") != "not installed"
        ),
        f"- date: {machine['date']}; load average (1/5/15 min) at start "
        f"{machine.get('load_average_at_start', '?')}, at end "
        f"{machine['load_average_1_5_15min']} (shared machine: expect noise)",
        *(
            [
                f"- models fitted on {config['limit']:,} sampled rows (`--limit`), not the rows "
                "the description names; the batch resamples their held-out part"
            ]
            if config.get("limit")
            else []
        ),  # fmt: skip
        f"- protocol: every system in its own process, {config['repeats']} repeat(s), medians "
        f"reported with min–max over repeats. Batch: {config['batch_rows']:,} rows (real test rows "
        f"resampled, seed {config['seed']}), {config['batch_threads']} threads, median of "
        f"{config['batch_runs']} timed calls after 1 warm-up. Single row: {config['single_calls']} "
        "calls on distinct one-row inputs (`frame.iloc[[i]]`, `X[i:i+1]` or `[text]`), 1 thread, "
        "after 20 warm-up calls. "
        "Compile: willump-mlir cold = first `wm.compile` with an empty cache dir, warm = a new "
        "process reusing it; onnxruntime cold = skl2onnx conversion + session creation, warm = "
        "session creation from the saved .onnx in a new process; tl2cgen cold = treelite import "
        "+ C generation + gcc, warm = loading the .so in a new process; lleaves cold = its LLVM "
        "compile. Tree peers run the whole pipeline: the features (numpy StandardScaler, "
        "scikit-learn transform or the workload's pandas joins) inside every timed call, then "
        "their trees. Peak MB = child's ru_maxrss. "
        "max |diff| = against the reference (`sklearn` row: the workload's own Python function "
        "and its library's predict) on the batch; rows off = share of batch rows whose output "
        f"differs from the reference by more than {DISAGREE_TOL:g} (and share whose predicted "
        "class changes). Best peer = fastest system other than `sklearn` and willump-mlir.",
        "",
        table(rows),
    ]
    if targets:
        out += ["", "## Targets", "", *target_lines(rows, targets)]
    failures: dict[tuple[str, str], int] = {}
    for r in rows:
        for f in r["failures"]:
            failures[(r["system"], f)] = failures.get((r["system"], f), 0) + 1
    if failures:
        out += ["", "## Failures", ""]
        for (system, msg), count in failures.items():
            times = f" (in {count} of {config['repeats']} repeats)" if count > 1 else ""
            out.append(f"- **{system}**{times} {_cell(msg[:600])}")
    return "\n".join(out) + "\n"


def plot(rows: list[dict[str, Any]], title: str, path: Path) -> None:
    """Two log-scale bar charts: batch throughput and single-row p50 latency per system."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [r["system"] for r in rows]
    xs = np.arange(len(rows))
    fig, (ax_b, ax_s) = plt.subplots(1, 2, figsize=(10, 4.2))
    rps = [r["rows_per_s"] or 0.0 for r in rows]
    err = [
        [max(0.0, (r["rows_per_s"] or 0) - (r["rows_per_s_min"] or 0)) for r in rows],
        [max(0.0, (r["rows_per_s_max"] or 0) - (r["rows_per_s"] or 0)) for r in rows],
    ]
    ax_b.bar(xs, rps, yerr=err, capsize=4, color="tab:blue")
    ax_b.set_title("batch throughput (rows/s, higher is better)")
    p50 = [r["single_p50_us"] or 0.0 for r in rows]
    p50_err = [
        [max(0.0, (r["single_p50_us"] or 0) - (r.get("single_p50_us_min") or 0)) for r in rows],
        [max(0.0, (r.get("single_p50_us_max") or 0) - (r["single_p50_us"] or 0)) for r in rows],
    ]
    ax_s.bar(xs, p50, yerr=p50_err, capsize=4, color="tab:orange")
    ax_s.set_title("single-row p50 latency (µs, lower is better)")
    for ax, values in ((ax_b, rps), (ax_s, p50)):
        ax.set_xticks(xs, names)
        positive = [v for v in values if v > 0]
        if positive:
            ax.set_yscale("log")
            ax.set_ylim(bottom=10 ** np.floor(np.log10(min(positive)) - 0.3))
        for x, value in zip(xs, values, strict=True):
            if value:
                ax.annotate(f"{value:,.0f}", (x, value), ha="center", va="bottom", fontsize=8)
            else:
                ax.text(
                    x,
                    0.02,
                    "failed",
                    transform=ax.get_xaxis_transform(),
                    ha="center",
                    fontsize=8,
                    color="tab:red",
                )
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
