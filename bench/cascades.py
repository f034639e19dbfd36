"""Cascades and top-K: the optimized pipeline against exact compiled code and scikit-learn.

    python -m bench.cascades [--workloads trump_tweets,movielens,bbc_news] [--repeats 3]
                             [--out bench/results]

Each workload's model is fitted on its train split; its held-out rows are halved: the first
half is ``wm.optimize``'s ``validation`` (choose + certify), the second half is the test split,
never seen during optimization. Every (system, repeat) runs in its own fresh process:

- ``sklearn``: the original Python function;
- ``exact``: ``wm.compile`` of it;
- ``cascade``: ``wm.optimize`` of it (not timed), then the optimized callable.

Batch: the whole test half, 2 threads, median of 5 timed calls after a warm-up. Single row:
200 test rows one at a time, p50. Top-K (binary workloads): ``fast.top_k(K, test)`` against
exact compiled scoring of all rows + sort, at K = 10 and 100, with precision against the exact
top-K. Accuracy (and AUC when binary) is computed by the parent from each system's outputs.
Writes ``cascades.{md,json,png}``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bench import timing

RESULTS = Path(__file__).resolve().parent / "results"
SYSTEMS = ("sklearn", "exact", "cascade")
TOP_K = (10, 100)
WILLUMP = {"cascades": "up to 5x", "top-K": "up to 10x", "end to end": "up to 16x"}


@dataclass
class Workload:
    score: Callable[..., Any]
    bound: tuple[Any, ...]  # arguments after the rows
    train: Any
    y_train: np.ndarray
    validation: Any
    y_validation: np.ndarray
    test: Any
    y_test: np.ndarray
    max_loss: float
    pipeline: str


def _halves(rows: Any, labels: np.ndarray) -> tuple[Any, np.ndarray, Any, np.ndarray]:
    n = len(labels) // 2
    if hasattr(rows, "iloc"):
        return rows.iloc[:n], labels[:n], rows.iloc[n:], labels[n:]
    return rows[:n], labels[:n], rows[n:], labels[n:]


def load(name: str) -> Workload:
    from willump_mlir.workloads import bbc_news, movielens, trump_tweets

    if name == "trump_tweets":
        data = trump_tweets.build_toxic()
        score, max_loss = trump_tweets.score, 0.01
        pipeline = "word TF-IDF (10k) + char 2-6 TF-IDF (50k) -> LogisticRegression"
    elif name == "movielens":
        data = movielens.build()
        score, max_loss = movielens.score, 0.01
        pipeline = "3 joins (user, movie, genre statistics) -> LightGBM (200 trees)"
    elif name == "bbc_news":
        data = bbc_news.build_two_views()
        score, max_loss = bbc_news.score, 0.03
        pipeline = "word TF-IDF + char_wb 2-4 TF-IDF -> multinomial LogisticRegression (5 classes)"
    else:
        raise SystemExit(f"unknown workload {name!r}")
    val, y_val, test, y_test = _halves(data.test, data.y_test)
    return Workload(score, (data.model,), data.train, data.y_train, val, y_val, test, y_test,
                    max_loss, pipeline)  # fmt: skip


def _rows(rows: Any, index: list[int]) -> Any:
    return rows.iloc[index] if hasattr(rows, "iloc") else [rows[i] for i in index]


def child(name: str, system: str, out: Path) -> None:
    import willump_mlir as wm
    from willump_mlir.runtime.optimized import time_call

    work = load(name)
    extra: dict[str, Any] = {}
    if system == "sklearn":
        run = work.score
    elif system == "exact":
        run = wm.compile(work.score, example=(_rows(work.train, list(range(200))), *work.bound))
    else:
        fast = wm.optimize(
            work.score, train=(work.train, *work.bound), y=work.y_train,
            validation=(work.validation, *work.bound), validation_y=work.y_validation,
            max_accuracy_loss=work.max_loss, confidence=0.95, progress=False,
        )  # fmt: skip
        run = fast
        report = fast.findings
        extra["cascaded"] = fast.cascaded
        extra["reason"] = report.reason
        if report.chosen is not None:
            names = [report.groups[g].name for g in report.chosen.groups]
            extra["chosen"] = " + ".join(names) + (
                f" [{report.chosen.model_params}]" if report.chosen.model_params else ""
            )
            extra["threshold"] = report.chosen.threshold
        if report.certified is not None:
            extra["bound"] = report.certified.bound
            extra["certify_settled"] = report.certified.settled_fraction
        if fast.cascaded:
            settled = fast.cheap((work.test, *work.bound))[1]
            extra["test_settled"] = float(np.mean(settled))
        extra["report"] = fast.report()
    outputs = np.asarray(run(work.test, *work.bound))
    batch = time_call(lambda: run(work.test, *work.bound))
    singles = [_rows(work.test, [i]) for i in range(200)]
    for row in singles[:20]:
        run(row, *work.bound)
    latencies = []
    for row in singles:
        started = time.perf_counter()
        run(row, *work.bound)
        latencies.append(time.perf_counter() - started)
    topk: dict[str, Any] = {}
    if outputs.ndim == 1 and system != "sklearn":
        for k in TOP_K:
            if system == "cascade":
                picked = fast.top_k(k, work.test, *work.bound)
                seconds = time_call(lambda k=k: fast.top_k(k, work.test, *work.bound))
            else:
                picked = np.argsort(-outputs, kind="stable")[:k]
                seconds = time_call(
                    lambda k=k: np.argsort(-np.asarray(run(work.test, *work.bound)),
                                           kind="stable")[:k]  # fmt: skip
                )
            topk[str(k)] = {"indices": [int(i) for i in picked], "seconds": seconds}
    np.save(out.with_suffix(".npy"), outputs)
    out.write_text(json.dumps({
        "batch_seconds": batch, "rows": len(work.y_test),
        "single_p50_us": float(np.median(latencies)) * 1e6, "topk": topk, **extra,
    }))  # fmt: skip


def quality(outputs: np.ndarray, labels: np.ndarray) -> tuple[float, float | None]:
    from sklearn.metrics import roc_auc_score

    if outputs.ndim == 1:
        return float(np.mean((outputs > 0.5) == labels)), float(roc_auc_score(labels, outputs))
    return float(np.mean(outputs.argmax(1) == labels)), None


def spread(values: list[float]) -> str:
    return timing.spread(values, ",.3g")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workloads", default="trump_tweets,movielens,bbc_news")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--child", nargs=3, metavar=("WORKLOAD", "SYSTEM", "OUT"))
    args = parser.parse_args(argv)
    if args.child:
        child(args.child[0], args.child[1], Path(args.child[2]))
        return 0
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.workloads.split(","):
            labels = load(name).y_test
            runs: dict[str, list[dict[str, Any]]] = {s: [] for s in SYSTEMS}
            for repeat in range(args.repeats):
                for system in SYSTEMS:
                    out = Path(tmp) / f"{name}-{system}-{repeat}.json"
                    print(f"[{name}] {system} repeat {repeat + 1}/{args.repeats}", flush=True)
                    subprocess.run(
                        [sys.executable, "-m", "bench.cascades", "--child", name, system,
                         str(out)], check=True,
                    )  # fmt: skip
                    record = json.loads(out.read_text())
                    record["quality"] = quality(np.load(out.with_suffix(".npy")), labels)
                    runs[system].append(record)
            exact_scores = np.load(Path(tmp) / f"{name}-exact-0.npy")
            results[name] = {"pipeline": load(name).pipeline, "max_loss": load(name).max_loss,
                             "runs": runs}  # fmt: skip
            if exact_scores.ndim == 1:
                results[name]["exact_scores"] = exact_scores.tolist()
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "cascades.json").write_text(
        json.dumps({n: {k: v for k, v in r.items() if k != "exact_scores"}
                    for n, r in results.items()}, indent=1)  # fmt: skip
    )
    (args.out / "cascades.md").write_text(render(results, args.repeats))
    plot(results, args.out / "cascades.png")
    print((args.out / "cascades.md").read_text())
    return 0


def render(results: dict[str, Any], repeats: int) -> str:
    lines = [
        "# Cascades and top-K (`python -m bench.cascades`)", "",
        f"Median over {repeats} runs, each system in its own process (min–max in brackets). "
        "Test rows were never seen by `wm.optimize`. Speedups are ratios of medians.", "",
        "| workload | max loss | cascade? | test settled | certified bound | accuracy sklearn "
        "| accuracy cascade | loss | AUC sklearn / cascade | batch ms sklearn | exact | cascade "
        "| cascade vs exact | cascade vs sklearn | 1-row µs sklearn | exact | cascade "
        "| 1-row vs sklearn |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]  # fmt: skip
    for name, result in results.items():
        runs = result["runs"]
        batch = {s: [r["batch_seconds"] * 1e3 for r in runs[s]] for s in SYSTEMS}
        single = {s: [r["single_p50_us"] for r in runs[s]] for s in SYSTEMS}
        cascade = runs["cascade"][0]
        acc_ref, auc_ref = runs["sklearn"][0]["quality"]
        acc_cas, auc_cas = cascade["quality"]
        med = {s: statistics.median(batch[s]) for s in SYSTEMS}
        one = {s: statistics.median(single[s]) for s in SYSTEMS}
        auc = "–" if auc_ref is None else f"{auc_ref:.4f} / {auc_cas:.4f}"
        bound = f"{cascade['bound']:.4f}" if "bound" in cascade else "–"
        settled = f"{cascade['test_settled']:.1%}" if "test_settled" in cascade else "–"
        lines.append(
            f"| {name} | {result['max_loss']} | {'yes' if cascade['cascaded'] else 'no'} "
            f"| {settled} | {bound} | {acc_ref:.4f} | {acc_cas:.4f} | {acc_ref - acc_cas:+.4f} "
            f"| {auc} | {spread(batch['sklearn'])} | {spread(batch['exact'])} "
            f"| {spread(batch['cascade'])} | {med['exact'] / med['cascade']:.2f}x "
            f"| **{med['sklearn'] / med['cascade']:.1f}x** | {spread(single['sklearn'])} "
            f"| {spread(single['exact'])} | {spread(single['cascade'])} "
            f"| {one['sklearn'] / one['cascade']:.1f}x |"
        )
    lines += ["", "Top-K (`fast.top_k(K, rows)` against exact compiled scoring of every row + "
              "sort):", "", "| workload | K | precision vs exact top-K | exact ms | top-K ms "
              "| speedup |", "|---|---|---|---|---|---|"]  # fmt: skip
    for name, result in results.items():
        runs = result["runs"]
        scores = np.asarray(result.get("exact_scores", []))
        for k in map(str, TOP_K):
            if k not in runs["cascade"][0]["topk"]:
                continue
            # a returned row is right if its exact score ties or beats the K-th best
            kth = np.sort(scores)[-int(k)]
            got = runs["cascade"][0]["topk"][k]["indices"]
            exact = [r["topk"][k]["seconds"] * 1e3 for r in runs["exact"]]
            fast = [r["topk"][k]["seconds"] * 1e3 for r in runs["cascade"]]
            lines.append(
                f"| {name} | {k} | {np.mean(scores[got] >= kth):.2f} | {spread(exact)} "
                f"| {spread(fast)} | {statistics.median(exact) / statistics.median(fast):.2f}x |"
            )
    lines += ["", "What each repeat's `wm.optimize` chose (it times the groups, so repeats may "
              "differ):", ""]  # fmt: skip
    for name, result in results.items():
        for i, run in enumerate(result["runs"]["cascade"]):
            threshold = run.get("threshold")
            shown = "–" if threshold is None else f"{threshold:.6f}"
            lines.append(f"- {name} repeat {i + 1}: {run.get('chosen', 'no cascade')}, "
                         f"threshold {shown}; {run['reason'] or 'cascade'}")  # fmt: skip
    lines += ["", "Willump's published figures (Kraft et al., MLSys 2020), beside ours: "
              + ", ".join(f"{k} {v}" for k, v in WILLUMP.items()) + ".", ""]  # fmt: skip
    for name, result in results.items():
        lines += [f"## {name}: {result['pipeline']}", "", "```",
                  result["runs"]["cascade"][0].get("report", ""), "```", ""]  # fmt: skip
    return "\n".join(lines)


def plot(results: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(results)
    figure, axes = plt.subplots(figsize=(7, 4))
    for offset, system in enumerate(("exact", "cascade")):
        speedups = [
            statistics.median(r["batch_seconds"] for r in results[n]["runs"]["sklearn"])
            / statistics.median(r["batch_seconds"] for r in results[n]["runs"][system])
            for n in names
        ]
        axes.bar(np.arange(len(names)) + 0.4 * offset, speedups, width=0.4, label=system)
    axes.set_xticks(np.arange(len(names)) + 0.2, names)
    axes.set_yscale("log")
    axes.set_ylabel("batch speedup over scikit-learn")
    axes.axhline(16, linestyle="--", color="gray", label="Willump end to end (16x)")
    axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=120)


if __name__ == "__main__":
    raise SystemExit(main())
