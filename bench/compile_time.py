"""Cold compile time of large tree models (issue target: a 1,000-tree, 255-leaf model in
at most 10 s).

    python -m bench.compile_time [--repeats 3] [--out bench/results/compile_time.md]

Each model is fitted once; each repeat runs in a new process with an empty object-code
cache and times ``wm.compile`` of ``model.predict_proba(X)`` (tracing, extraction, every
pass, LLVM -O3 and loading), then checks the compiled result on 2,000 rows.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from sklearn.datasets import make_classification
from sklearn.ensemble import ExtraTreesClassifier

RESULTS = Path(__file__).resolve().parent / "results"
MODELS = {
    "lightgbm": "LightGBM LGBMClassifier(n_estimators=1000, num_leaves=255)",
    "extra_trees": "scikit-learn ExtraTreesClassifier(n_estimators=1000, max_leaf_nodes=255)",
    "xgboost": "XGBoost XGBClassifier(n_estimators=1000, max_leaves=255, grow_policy=lossguide)",
}

CHILD = r"""
import json, pickle, sys, time
import numpy as np
import willump_mlir as wm

with open(sys.argv[1], "rb") as f:
    X, model = pickle.load(f)

def score(x, model):
    return model.predict_proba(x)

started = time.perf_counter()
compiled = wm.compile(score, (X[:50], model))
seconds = time.perf_counter() - started
rows = X[:2000]
diff = float(np.max(np.abs(compiled(rows, model) - score(rows, model))))
print(json.dumps({"seconds": seconds, "max_abs_diff": diff,
                  "native": not compiled.traced.python_calls}))
"""


def fit(kind: str) -> tuple[np.ndarray, object]:
    """The data and the fitted model of ``kind`` (see ``MODELS``)."""
    X, y = make_classification(n_samples=20000, n_features=30, n_informative=20, random_state=0)
    if kind == "lightgbm":
        import lightgbm as lgb

        model = lgb.LGBMClassifier(
            n_estimators=1000, num_leaves=255, min_child_samples=5, verbose=-1
        )
    elif kind == "extra_trees":
        model = ExtraTreesClassifier(
            n_estimators=1000, max_leaf_nodes=255, n_jobs=-1, random_state=0
        )
    else:
        import xgboost as xgb

        model = xgb.XGBClassifier(
            n_estimators=1000, max_leaves=255, max_depth=0, grow_policy="lossguide"
        )
    return X, model.fit(X, y)


def run_child(model_file: Path) -> dict[str, float]:
    """One cold compile in a new process with an empty object-code cache (the child is a
    file, so that the tracer can read the scoring function's source)."""
    child = model_file.with_name("child.py")
    child.write_text(CHILD)
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, WILLUMP_MLIR_CACHE_DIR=cache)
        done = subprocess.run(
            [sys.executable, str(child), str(model_file)], env=env, capture_output=True, text=True
        )
    if done.returncode:
        raise RuntimeError(done.stderr.strip().splitlines()[-1])
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=RESULTS / "compile_time.md")
    options = parser.parse_args()
    lines = [
        "# Cold compile time of 1,000-tree, 255-leaf models",
        "",
        f"{options.repeats} repeats, each in a new process with an empty object-code cache; "
        "20,000 x 30 synthetic rows (make_classification, seed 0). Target: at most 10 s.",
        "",
        "| model | cold compile s, median (min–max) | native | max \\|diff\\| on 2,000 rows |",
        "|---|---|---|---|",
    ]
    for kind, description in MODELS.items():
        print(f"[compile_time] fitting {description}", flush=True)
        runs = []
        with tempfile.TemporaryDirectory() as work:
            model_file = Path(work) / "model.pkl"
            model_file.write_bytes(pickle.dumps(fit(kind)))
            for repeat in range(options.repeats):
                print(f"[compile_time] {kind}: repeat {repeat + 1}/{options.repeats}", flush=True)
                runs.append(run_child(model_file))
        seconds = [r["seconds"] for r in runs]
        lines.append(
            f"| {description} | {statistics.median(seconds):.2f} "
            f"({min(seconds):.2f}–{max(seconds):.2f}) | {all(r['native'] for r in runs)} "
            f"| {max(r['max_abs_diff'] for r in runs):.2g} |"
        )
    table = "\n".join(lines) + "\n"
    print(table)
    options.out.write_text(table)


if __name__ == "__main__":
    main()
