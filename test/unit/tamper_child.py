"""Child process of the tamper fuzz test: load each attacked save and call it.

``python tamper_child.py CASES.json FIRST`` runs the cases from index ``FIRST`` on, in
order. Each case names a save directory, whether to load it trusted, the pickled input
rows, the expected result and the signing key to set if any; a cache case also names a
cache entry and the bytes to put there first (written back as they were after the case).
For every case it prints ``start <i>`` and then one JSON line: ``{"case": i, "outcome":
"equal" | "differs" | "error", "error": type and message}``. A crash leaves a ``start``
without its outcome.
"""

from __future__ import annotations

import json
import os
import pickle
import sys
import warnings
from pathlib import Path

import numpy as np

import willump_mlir as wm


def run(case: dict) -> dict:
    if case.get("key"):
        os.environ["WILLUMP_MLIR_SIGNING_KEY"] = case["key"]
    else:
        os.environ.pop("WILLUMP_MLIR_SIGNING_KEY", None)
    entry = Path(case["entry"]) if case.get("entry") else None
    original = entry.read_bytes() if entry is not None else None
    try:
        if entry is not None:
            entry.write_bytes(Path(case["entry_bytes"]).read_bytes())
        with Path(case["input"]).open("rb") as file:
            data = pickle.load(file)  # noqa: S301 - the test's own rows
        expected = np.load(case["expected"])
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                loaded = wm.load(case["save"], trust=case["trust"])
                got = np.asarray(loaded(*data))
        except Exception as error:  # what the test asserts on: its type and message
            return {"outcome": "error", "error": f"{type(error).__name__}: {error}"}
        same = got.shape == expected.shape and np.array_equal(got, expected, equal_nan=True)
        return {"outcome": "equal" if same else "differs"}
    finally:
        if entry is not None and original is not None:
            entry.write_bytes(original)


def main() -> None:
    cases = json.loads(Path(sys.argv[1]).read_text())
    for index in range(int(sys.argv[2]), len(cases)):
        print(f"start {index}", flush=True)
        print(json.dumps({"case": index, **run(cases[index])}), flush=True)


if __name__ == "__main__":
    main()
