"""The differential check of the notebook-style suites: compile a function on the first
rows of a real table, compare it with the original on other rows."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import pandas as pd

import willump_mlir as wm
from willump_mlir.selfcheck import difference


def check_notebook(
    fn: Any, frame: pd.DataFrame, *rest: Any, native: bool = True, example: int = 200,
    rows: Sequence[pd.DataFrame] | None = None,
) -> wm.CompiledPipeline:  # fmt: skip
    """Compile ``fn`` on ``frame``'s first ``example`` rows (``rest``: its other arguments);
    compare with the original on ``rows`` (default: the other rows, rows 0, 3 and 5 alone,
    and the table with another index) with ``selfcheck.difference``; each call gets its
    own copy of the rows. ``native``: nothing runs in Python."""
    if rows is None:
        shifted = frame.set_index(frame.index * 3 + 7)
        rows = (frame.iloc[example:], frame.iloc[[3]], frame.iloc[[0]], frame.iloc[[5]], shifted)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compiled = wm.compile(fn, example=(frame.iloc[:example], *rest))
        for batch in rows:
            found = difference(fn(batch.copy(), *rest), compiled(batch.copy(), *rest))
            assert found is None, found
    if native:
        assert not compiled.traced.python_fallbacks, compiled.explain()
    return compiled
