"""The trump_tweets text kernel at an earlier commit beside this checkout, one thread.

    python -m bench.text_kernel --before 7e44361 [--rounds 7] [--repeats 2] [--callgrind]
        [--paired SECONDS [--cold MB] [--interpreted] [--sorted]]
        [--out bench/results/text_kernel.md]

The pipeline of ``bench.ray_data`` (word 1-2-gram TF-IDF ∪ char_wb 2-4-gram TF-IDF ->
LogisticRegression, fitted on all the tweets' training split) is fitted once and pickled;
``--before`` is exported with ``git archive`` and imported instead of this checkout (this
virtual environment, ``PYTHONPATH``). Each measurement runs in its own process, the two
checkouts alternating ``--repeats`` times: after three warm-up calls (the char_wb word cache
filled as in a long job), the process CPU time of ``--rounds`` calls on 10,000 rows resampled
from the held-out tweets (``WILLUMP_MLIR_THREADS=1``), min and median per tweet. With
``--callgrind``, each checkout also runs once under callgrind (cache and branch simulation),
instrumented only around one call on 3,000 resampled rows after the warm-up: counts per tweet
of the whole call (the kernel is ~96% of it), which machine load does not move; the last
level is simulated as this machine's L2 (1 MiB, 8-way).

With ``--paired``, each checkout compiles and pickles the pipeline in a process of its own
(its machine code travels in the pickle), and one process of this checkout loads both
(each with its own machine code: no LLVM runs) and calls them in turn for ``SECONDS``,
the order swapped every round, on the same 10,000 rows: the thread CPU time of each call,
and the ratio of each round's two calls, whose median the machine's load hardly moves (separate
processes' times spread by +-40% here: the kernel's time is mostly cache misses, which
the other sessions' processes multiply). Then the same for batches drawn from the first
30, 300 and 1,000 held-out tweets and from all of them (what the data's footprint costs).
With ``--cold MB``, every call of ``--paired`` comes after a pass that writes a buffer of
``MB`` megabytes (not timed): the kernel starts with its caches and TLB entries evicted,
as in a Ray Data task, whose worker runs Ray's own code between two blocks. With
``--interpreted``, every call comes after untimed Python work (``interpreted``: pickling and
JSON-encoding a dict of 3,000 small entries, ~5 ms), as a Ray worker runs Ray's Python
between two blocks: this, not the data caches, is what makes a task's call slower than a
loop's (``bench/results/text_kernel.md``, h/textkern14). With
``--sorted``, each pool's rows are also timed sorted by tweet (the same rows, a tweet's
repeats in a row): what the order costs, the data's footprint being the same (branches
that one tweet's repeats teach the predictor, lines that stay in L1).
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from numpy.random import Generator

REPO = Path(__file__).resolve().parent.parent
ROWS = 10_000
TRACED_ROWS = 3_000
#: instructions, D1 misses, L2 read misses (the last level simulated as a 1 MiB, 8-way L2, as
#: on this machine), mispredicted branches
EVENTS = ("Ir", "D1mr", "D1mw", "DLmr", "Bcm")


def score(texts: list[str], model: object) -> object:
    return model.predict_proba(texts)[:, 1]  # type: ignore[attr-defined]


def child(model_path: str, rounds: int, traced: bool, dump: str = "") -> dict[str, float]:
    """Measure in this process (imported from ``PYTHONPATH``'s checkout); with ``dump``,
    only pickle the compiled pipeline there."""
    os.environ["WILLUMP_MLIR_THREADS"] = "1"
    import numpy as np

    import willump_mlir as wm

    with open(model_path, "rb") as file:
        model, test = pickle.load(file)
    compiled = wm.compile(score, (test[:50], model))
    if dump:
        Path(dump).write_bytes(pickle.dumps(compiled))
        return {}
    rng = np.random.default_rng(0)

    def resampled(rows: int) -> list[str]:
        return [test[i] for i in rng.integers(0, len(test), rows)]

    for _ in range(3):
        compiled(resampled(ROWS), model)
    batch = resampled(TRACED_ROWS if traced else ROWS)
    if traced:
        control = ["callgrind_control", "-i"]
        subprocess.run([*control, "on", str(os.getpid())], check=True, capture_output=True)
        got = compiled(batch, model)
        subprocess.run([*control, "off", str(os.getpid())], check=True, capture_output=True)
        return {"maxdiff": float(np.max(np.abs(got - score(batch, model))))}
    got = compiled(batch, model)
    seconds = []
    for _ in range(rounds):
        started = time.process_time()
        compiled(batch, model)
        seconds.append(time.process_time() - started)
    seconds.sort()
    return {
        "maxdiff": float(np.max(np.abs(got - score(batch, model)))),
        "min_us": seconds[0] / ROWS * 1e6,
        "median_us": seconds[len(seconds) // 2] / ROWS * 1e6,
    }


def pools(test: list[str], rng: Generator, ordered: bool) -> dict[str, list[str]]:
    """``ROWS`` rows drawn from the first 30, 300, 1,000 and all of ``test``, by the number
    of tweets drawn from; with ``ordered``, the same rows sorted by tweet too (``"N sorted"``)."""
    import numpy as np

    batches = {}
    for pool in (30, 300, 1_000, len(test)):
        drawn = rng.integers(0, pool, ROWS)
        batches[str(pool)] = [test[i] for i in drawn]
        if ordered:
            batches[f"{pool} sorted"] = [test[i] for i in np.sort(drawn)]
    return batches


#: what ``interpreted`` pickles and encodes: Python objects of the kinds Ray's code handles
INTERPRETED = {f"key {k}": [k, str(k), {"value": k / 7}] for k in range(3_000)}


def interpreted() -> None:
    """About 5 ms of the Python interpreter's work (pickle and JSON, to and from), as a Ray
    worker's between two tasks: it retrains the CPU's branch predictors on the interpreter's
    branches, and a kernel called after it pays for that (``--interpreted``)."""
    for _ in range(3):
        pickle.loads(pickle.dumps(INTERPRETED))
        json.loads(json.dumps(INTERPRETED))


def paired(
    model_path: str, pickles: list[str], seconds: float, cold: int = 0, ordered: bool = False,
    python: bool = False,
) -> dict[str, object]:
    """``--paired`` in this process: the pickled pipelines, each with its own machine code,
    called in turn (see the module docstring); with ``cold``, each call after ``cold`` MB
    are written; with ``python``, each call after ``interpreted()``; ``ordered``: the
    batches sorted by tweet too (``pools``)."""
    os.environ["WILLUMP_MLIR_THREADS"] = "1"
    import numpy as np

    from willump_mlir import persist
    from willump_mlir.runtime import jit

    class AnyCompiler(str):
        """Equal to every compiler fingerprint: each pickle's machine code is used as it is."""

        def __eq__(self, other: object) -> bool:
            return True

        __hash__ = str.__hash__

    def no_llvm(llvm_ir: str) -> None:
        raise AssertionError("a pickled pipeline was compiled again")

    persist.compiler_fingerprint = lambda: AnyCompiler()  # type: ignore[assignment]
    jit._optimise = no_llvm  # type: ignore[assignment]
    with open(model_path, "rb") as file:
        model, test = pickle.load(file)
    pipelines = [pickle.loads(Path(path).read_bytes()) for path in pickles]
    evict = np.zeros(cold << 17)  # float64: MB * 2**20 / 8
    rng = np.random.default_rng(0)
    batches = pools(test, rng, ordered)
    for batch in batches.values():
        for pipeline in pipelines:
            pipeline(batch)
    full = batches[str(len(test))]
    results = [pipeline(full) for pipeline in pipelines]
    expected = np.asarray(score(full, model))
    report: dict[str, object] = {
        "same": all(np.array_equal(r, results[0]) for r in results),
        "maxdiff": float(np.max(np.abs(results[0] - expected))),
    }
    for pool, batch in batches.items():
        times: list[list[float]] = [[] for _ in pipelines]
        end = time.time() + seconds / len(batches)
        while time.time() < end:
            order = list(range(len(pipelines)))
            for k in order if len(times[0]) % 2 else order[::-1]:
                if cold:
                    evict += 1.0
                if python:
                    interpreted()
                started = time.thread_time()
                pipelines[k](batch)
                times[k].append(time.thread_time() - started)
        per_tweet = np.array(times) / ROWS * 1e6
        report[pool] = {
            "rounds": per_tweet.shape[1],
            "us": [np.percentile(t, [25, 50, 75]).round(3).tolist() for t in per_tweet],
            "ratio": [np.percentile(t / per_tweet[0], [25, 50, 75]).round(3).tolist()
                      for t in per_tweet[1:]],  # fmt: skip
        }
    return report


def run_child(tree: Path, model: Path, rounds: int, callgrind: Path | None) -> dict[str, float]:
    command = [sys.executable, __file__, "--child", str(model), "--rounds", str(rounds)]
    if callgrind is not None:
        command = [
            "valgrind",
            "--tool=callgrind",
            "--instr-atstart=no",
            "--cache-sim=yes",
            "--LL=1048576,8,64",
            "--branch-sim=yes",
            f"--callgrind-out-file={callgrind}",
            *command,
            "--traced",
        ]
    env = {**os.environ, "PYTHONPATH": str(tree), "WILLUMP_MLIR_THREADS": "1"}
    done = subprocess.run(command, env=env, check=True, capture_output=True, text=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    if callgrind is not None:
        result |= counts(callgrind)
    return result


def counts(path: Path) -> dict[str, float]:
    """The callgrind totals of ``EVENTS`` per traced tweet."""
    text = path.read_text()
    names = re.search(r"^events: (.+)$", text, re.M)
    totals = re.search(r"^totals: (.+)$", text, re.M) or re.search(r"^summary: (.+)$", text, re.M)
    assert names and totals, f"no totals in {path}"
    values = dict(zip(names.group(1).split(), map(int, totals.group(1).split()), strict=False))
    return {name: values.get(name, 0) / TRACED_ROWS for name in EVENTS}


def table(results: dict[str, list[dict[str, float]]], before: str, load: str) -> str:
    lines = [
        "# trump_tweets text kernel: this checkout beside an earlier commit, one thread",
        "",
        f"`python -m bench.text_kernel --before {before}` (see its docstring). Load average "
        f"at the end: {load}. CPU µs per tweet: min / median of the rounds, per run.",
        "",
        "| checkout | run | µs/tweet min | µs/tweet median | max abs diff vs scikit-learn |",
        "|---|---|---|---|---|",
    ]
    for name, runs in results.items():
        for k, run in enumerate(r for r in runs if "min_us" in r):
            lines.append(
                f"| {name} | {k + 1} | {run['min_us']:.2f} | {run['median_us']:.2f} | "
                f"{run['maxdiff']:.1e} |"
            )
    traced = {name: next((r for r in runs if "Ir" in r), None) for name, runs in results.items()}
    if all(traced.values()):
        lines += [
            "",
            "Callgrind, per tweet (one call on 3,000 resampled rows, after warm-up):",
            "",
            "| checkout | instructions | D1 read misses | D1 write misses | "
            "L2 read misses | mispredicted branches |",
            "|---|---|---|---|---|---|",
        ]
        for name, run in traced.items():
            assert run is not None
            lines.append(
                f"| {name} | {run['Ir']:,.0f} | {run['D1mr']:,.0f} | "
                f"{run['D1mw']:,.0f} | {run['DLmr']:,.0f} | {run['Bcm']:,.0f} |"
            )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", default="main")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--callgrind", action="store_true")
    parser.add_argument("--paired", type=float, default=0.0, metavar="SECONDS")
    parser.add_argument("--cold", type=int, default=0, metavar="MB")
    parser.add_argument("--interpreted", action="store_true")
    parser.add_argument("--sorted", action="store_true")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--traced", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--dump", default="", help=argparse.SUPPRESS)
    parser.add_argument("--pair", nargs="*", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.pair:
        report = paired(options.child, options.pair, options.paired, options.cold, options.sorted,
                        options.interpreted)  # fmt: skip
        print(json.dumps(report))
        return
    if options.child:
        print(json.dumps(child(options.child, options.rounds, options.traced, options.dump)))
        return
    from willump_mlir.workloads import trump_tweets

    with tempfile.TemporaryDirectory(prefix="text-kernel-") as scratch:
        before = Path(scratch) / "before"
        before.mkdir()
        archive = subprocess.run(
            ["git", "-C", str(REPO), "archive", options.before], check=True, capture_output=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(before)], input=archive, check=True)
        for package in ("dialects", "passes"):  # else the editable install maps this tree's
            (before / "willump_mlir" / package).symlink_to(Path("..") / package)
        model = Path(scratch) / "model.pkl"
        data = trump_tweets.build(0)
        model.write_bytes(pickle.dumps((data.model, data.test)))
        trees = {options.before: before, "this checkout": REPO}
        results: dict[str, list[dict[str, float]]] = {name: [] for name in trees}
        for _ in range(options.repeats):
            for name, tree in trees.items():
                results[name].append(run_child(tree, model, options.rounds, None))
                print(name, results[name][-1], flush=True)
        if options.paired:
            pickles = []
            for k, tree in enumerate(trees.values()):
                pickles.append(str(Path(scratch) / f"pipeline.{k}"))
                dump = [sys.executable, __file__, "--child", str(model), "--dump", pickles[-1]]
                env = {**os.environ, "PYTHONPATH": str(tree), "WILLUMP_MLIR_THREADS": "1"}
                subprocess.run(dump, env=env, check=True, capture_output=True)
            pair = [sys.executable, __file__, "--child", str(model), "--pair", *pickles,
                    "--paired", str(options.paired), "--cold", str(options.cold),
                    *(["--sorted"] if options.sorted else []),
                    *(["--interpreted"] if options.interpreted else [])]  # fmt: skip
            env = {**os.environ, "PYTHONPATH": str(REPO), "WILLUMP_MLIR_THREADS": "1"}
            done = subprocess.run(pair, env=env, check=True, capture_output=True, text=True)
            print("paired", list(trees), done.stdout.strip().splitlines()[-1], flush=True)
        if options.callgrind:
            for k, (name, tree) in enumerate(trees.items()):
                out = Path(scratch) / f"callgrind.{k}"
                results[name].append(run_child(tree, model, options.rounds, out))
                print(name, results[name][-1], flush=True)
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    report = table(results, options.before, load)
    print(report)
    if options.out:
        options.out.write_text(report)


if __name__ == "__main__":
    main()
