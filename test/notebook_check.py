"""The differential checks of the notebook-style suites: compile a function on the first
rows of a real table, compare it with the original on other rows; and, for a bad input,
compare outcomes (the original's result, or its exception class)."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import willump_mlir as wm
from willump_mlir import optimizer
from willump_mlir.selfcheck import difference


def preprocess(numeric: list[str], text: tuple[str, ...] = ("sex", "passengerClass"),
               imputer: SimpleImputer | None = None) -> ColumnTransformer:  # fmt: skip
    """A notebook's ColumnTransformer of the Titanic table: imputed, scaled numbers;
    imputed (``imputer``: most frequent), one-hot str."""
    imputer = imputer or SimpleImputer(strategy="most_frequent")
    return ColumnTransformer([
        ("num", make_pipeline(SimpleImputer(), StandardScaler()), numeric),
        ("cat", make_pipeline(imputer, OneHotEncoder(handle_unknown="ignore")), list(text)),
    ])  # fmt: skip


def quiet_compile(fn: Any, *example: Any) -> wm.CompiledPipeline:
    """``wm.compile(fn, example=example)`` with its warnings (and the example run's) silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return wm.compile(fn, example=example)


def python_reasons(compiled: wm.CompiledPipeline, *ignored: str) -> list[str]:
    """The reasons of the statements of ``compiled`` that run in Python, but ``ignored``."""
    return [call.reason for call in compiled.traced.python_fallbacks.values()
            if call.reason not in ignored]  # fmt: skip


def same_results(fn: Any, compiled: Any, batches: Sequence[pd.DataFrame]) -> None:
    """``compiled`` equals ``fn`` (``selfcheck.difference``) on each batch (its own copy)."""
    for batch in batches:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            found = difference(fn(batch.copy()), compiled(batch.copy()))
        assert found is None, f"{found} on\n{batch}"


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


def _outcome(fn: Any, batch: pd.DataFrame) -> tuple[str, Any]:
    try:
        return "ok", fn(batch.copy())
    except Exception as error:
        return "raised", type(error)


def _same_bits(want: Any, got: Any) -> None:
    """``got`` is ``want`` exactly: type, index, name, dtype and each value (a float's last
    bit and sign of zero included, any NaN for NaN); tuples item by item."""
    assert type(got) is type(want), (type(want), type(got))
    if isinstance(want, tuple):
        assert len(got) == len(want)
        for w, g in zip(want, got, strict=True):
            _same_bits(w, g)
        return
    if isinstance(want, pd.Series):
        assert got.index.equals(want.index) and got.name == want.name
    assert got.dtype == want.dtype, (want.dtype, got.dtype)
    if isinstance(want, pd.Series) and not isinstance(want.dtype, np.dtype):  # pd.NA
        missing = np.asarray(want.isna())
        assert np.array_equal(np.asarray(got.isna()), missing)
        numpy = want.dtype.numpy_dtype  # type: ignore[union-attr]
        want, got = want[~missing].to_numpy(numpy), got[~missing].to_numpy(numpy)
    want, got = np.asarray(want), np.asarray(got)
    if want.dtype.kind == "f":  # equal values (NaN to NaN) of equal signs: equal bits
        assert np.array_equal(want, got, equal_nan=True), (want, got)
        assert np.array_equal(np.signbit(want[want == want]), np.signbit(got[got == got]))
    elif want.dtype.kind in "mM":  # ticks (NaT to NaT)
        assert np.array_equal(want.view(np.int64), got.view(np.int64)), (want, got)
    else:
        assert np.array_equal(want, got), (want, got)


def same_on_batches(fn: Any, compiled: Any, batches: Sequence[pd.DataFrame],
                    bits: bool = False) -> None:  # fmt: skip
    """``compiled`` gives ``fn``'s result (``selfcheck.difference``; with ``bits``, each
    value bit for bit), or raises the same class of error, on each batch (each call gets
    its own copy)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for batch in batches:
            (kind, want), (got_kind, got) = _outcome(fn, batch), _outcome(compiled, batch)
            assert got_kind == kind, (want, got, batch.dtypes)
            if kind != "ok":
                assert issubclass(got, want)
            elif bits:
                _same_bits(want, got)
            else:
                found = difference(want, got)
                assert found is None, f"{found} on\n{batch}"


def same_outcome(compiled: Any, original: Any, *args: Any, argument: str) -> Exception | None:
    """The original's result, or its exception class (and InputError) naming ``argument``
    (the argument's name, or an expression of it the message gives)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            expected = original(*args)
        except Exception as error:
            with pytest.raises(type(error)) as caught:
                compiled(*args)
            assert isinstance(caught.value, wm.InputError)
            assert argument in str(caught.value)  # the argument, or an expression of it
            return caught.value
        got = compiled(*args)
    if sp.issparse(expected):
        assert sp.issparse(got) and got.shape == expected.shape
        expected, got = expected.toarray(), got.toarray()
    assert np.shape(got) == np.shape(expected)
    if np.asarray(expected).dtype.kind in "fc":
        np.testing.assert_allclose(got, expected, atol=1e-9, rtol=0)
    else:
        assert (np.asarray(got) == np.asarray(expected)).all()
    return None


@contextmanager
def costs_counted(rows: list[int], seconds_a_row: float = 1e-4) -> Iterator[None]:
    """``wm.optimize`` timing a call as ``seconds_a_row`` for each row a Python step counts
    in ``rows[0]`` during it, plus a microsecond a call, instead of the wall clock: its
    choices (group costs, the cheap subsets, the top-K scorer, the cascade's speedup) then
    follow the rows that reach the expensive step, whatever the machine's load."""

    def counted(run: Callable[[], Any], repeats: int = 5) -> float:
        before = rows[0]
        run()
        return (rows[0] - before) * seconds_a_row + 1e-6

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(optimizer, "time_call", counted)
        yield
