"""Counters of the rows and calls a compiled pipeline hands to Python, by reason.

A kernel flags a row it does not compute as the original would (``abi.ROW_HANDOFFS``: one
bit of its ``python_rows`` byte per reason); the original function then computes that row,
or the whole batch (``CALL_HANDOFFS``), as it does for an input the compiled code does not
read (``marshal.Unhandled``, whose ``kind`` is a ``CALL_HANDOFFS`` key). ``explain()`` lists
the handoffs a pipeline can take with these counts.
"""

from __future__ import annotations

import threading
from collections import Counter

import numpy as np

from willump_mlir.abi import BATCH_ROW_HANDOFFS, EVERY_ROW_HANDOFFS

#: Why the original function runs on a whole call, by ``marshal.Unhandled.kind``.
CALL_HANDOFFS = {
    "empty": "the batch is empty (0 rows): the original decides what it gives",
    "int53": "an int64 value of magnitude 2^53 or more meets native code that reads float64, "
    "which would round it (the original compares the integers, or rounds them its own way)",
    "precision": "the data is float32, float16 or longdouble, which scikit-learn computes on "
    "in that precision",
    "input": "an input is not what the compiled code reads: another type, dtype or columns "
    "than the example's (sparse, np.matrix, a masked array, a list or frame for an array, "
    "another width, object, category or nullable columns, numbers not in the machine's "
    "byte order, integers numpy wraps around, "
    "integers where the example's floats feed arithmetic that numpy computes in int64, "
    "non-str text, a str with a lone surrogate, a missing or reordered column, a column "
    "of another dtype that only code whose value is unused reads, data arguments of "
    "different row counts)",
    "assume-finite": "a value is NaN or infinite where scikit-learn refuses it, but "
    "scikit-learn's assume_finite is set (set_config, config_context), which lets it through",
    "whole-batch": "a row is handed back (above) in a pipeline whose rows depend on each "
    "other (a batch reduction, or a Python step of the user's code that reads the native "
    "results)",
    "rows-dtype": "the rows run in Python come back in another dtype than the native rows "
    "(pandas gives the whole batch that dtype), or raise (pandas infers dtypes from the "
    "rows it has: the batch may raise otherwise, or not at all)",
    "python-result": "a Python step's result is not of the example's kind (other rows, "
    "dtype or columns)",
    "not-integer": "a value pandas gives as float64 (a missing key, a fraction, an integer "
    "divided by 0) meets code compiled for the example's int64, a nullable Int64 result "
    "reaches 2^53 in magnitude, beyond which native float64 would round it, or an Int32 "
    "one leaves the int32 range, where pandas wraps it, or a Series.map function divides "
    "by 0 (Python raises ZeroDivisionError)",
    "signed-zero": "np.fmax or np.fmin meets 0.0 and -0.0 in a row, of which numpy keeps "
    "either by the row's place in the array",
    "not-a-date": "a date is one native code does not read as pandas would (another format, "
    "an invalid or out-of-range date)",
    "ufunc-layout": "an array numpy's np.log1p, np.exp, np.power... would read runs backwards "
    "in memory (a reversed view, as df.iloc[::-1] gives), on which numpy's loops compute with "
    "the C library's functions, not the SIMD routines the native code calls",
    "linear-magnitude": "a row's values are so large that a linear model's sum of their "
    "products may overflow (max |x| times the largest sum of |coef| reaches 2^1000), where "
    "the kernel's order of additions and BLAS's may give inf, NaN or a finite value apart "
    "(BLAS orders a row's sum by the batch's size and layout)",
}

#: The reason of a flag byte from a program compiled before flags had reasons.
ANY_ROW = "rows"


def handed_back(reasons: list[str], flags: np.ndarray) -> np.ndarray:
    """A kernel's flag bytes (bit k: ``reasons[k]``, changed in place) without the bits of
    the ``EVERY_ROW_HANDOFFS`` reasons that leave a row unflagged: those rows are native's."""
    for bit, reason in enumerate(reasons):
        if reason in EVERY_ROW_HANDOFFS and not (flags & (1 << bit)).all():
            flags &= np.uint8(0xFF ^ (1 << bit))
    return flags


def flagged_rows(flags: list[tuple[list[str], np.ndarray]]) -> np.ndarray:
    """The indices of the rows any kernel flagged (``flags``: each kernel's reasons and flag
    bytes)."""
    return np.flatnonzero(np.logical_or.reduce([byte != 0 for _, byte in flags]))


def batch_reason(flags: list[tuple[list[str], np.ndarray]]) -> str | None:
    """The first reason in ``BATCH_ROW_HANDOFFS`` that flagged a row (``flags``: each
    kernel's reasons and flag bytes), or None: the original then runs on the whole batch."""
    for reasons, byte in flags:
        for bit, reason in enumerate(reasons):
            if reason in BATCH_ROW_HANDOFFS and (byte & (1 << bit)).any():
                return reason
    return None


class Handoffs:
    """Rows and calls handed to Python so far, by reason (thread-safe: serving threads
    share a pipeline)."""

    def __init__(self) -> None:
        self.rows: Counter[str] = Counter()
        self.calls: Counter[str] = Counter()
        self.total_rows = 0  # rows handed back for any reason (each row once)
        self.lock = threading.Lock()

    def add_rows(self, flags: list[tuple[list[str], np.ndarray]]) -> np.ndarray:
        """Count the flagged rows of each kernel (``flags``: its reasons and flag bytes; a
        row flagged for two reasons counts under both); return the flagged rows' indices."""
        counts: Counter[str] = Counter()
        for reasons, byte in flags:
            if not reasons:
                counts[ANY_ROW] += int(np.count_nonzero(byte))
            for bit, reason in enumerate(reasons):
                counts[reason] += int(np.count_nonzero(byte & (1 << bit)))
        rows = flagged_rows(flags)
        with self.lock:
            self.rows.update(counts)
            self.total_rows += len(rows)
        return rows

    def add_call(self, kind: str) -> None:
        """Count a call the original function ran on the whole batch, for ``kind``."""
        with self.lock:
            self.calls[kind] += 1

    def clear(self) -> None:
        with self.lock:
            self.rows.clear()
            self.calls.clear()
            self.total_rows = 0
