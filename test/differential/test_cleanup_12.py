"""Divergences closed by cleanup12, checked against the original function on the same
inputs (its result, or the class of its error)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from notebook_check import python_reasons, quiet_compile, same_on_batches

# region A: a .str method of s.str[i] where no row has position i


def fifth_upper(df):
    return df["s"].str[4].str.upper()


def last_lower(df):
    return df["s"].str[-3].str.lower()


def fifth_marked(df):
    return df["s"].str[4] + "!"


def fifth_has_e(df):
    return df["s"].str[4].str.contains("e", na=False).astype(float) + df["a"]


def fifth_is_e(df):
    return (df["s"].str[4] == "e").astype(float) + df["a"]


TEXT = pd.DataFrame({
    "s": ["hello", "world!", "ab", None, "abcdefg", "Straße", "", "héllo wörld"] * 5,
    "a": np.arange(40) * 0.5,
})  # fmt: skip


def _batches(dtype: Any) -> list[pd.DataFrame]:
    """Batches where some rows have position 4, where none has (short, missing and empty
    values, one row), and where every value is missing."""
    rows = [["hello", "ab"], ["ab", "abc", None], ["ab"], [""], [None, None], ["abcdé", None],
            ["héllo", "x"], [None, "abcdef"], ["ab", "abcd"] * 600]  # fmt: skip
    batches = [TEXT, TEXT.set_index(TEXT.index * 3 + 1)]
    for values in rows:
        batches.append(pd.DataFrame({"s": values, "a": np.arange(len(values)) * 1.0}))
    return [b.astype({"s": dtype}) for b in batches]


@pytest.mark.parametrize("example", ["str", object])
@pytest.mark.parametrize("fn", [fifth_upper, last_lower, fifth_marked, fifth_has_e, fifth_is_e])
def test_a_piece_no_row_has_runs_the_original(fn: Any, example: Any) -> None:
    """``s.str[4].str.upper()`` of an object column where no value has position 4: pandas
    gives the pieces as float64 (all NaN) and its ``.str`` raises AttributeError, where the
    compiled code gave object NaN. Now a batch whose every piece is missing runs the
    original ("str-position", a batch handoff), so it raises the same way; a batch where
    some row has the position stays native, its short rows included."""
    compiled = quiet_compile(fn, TEXT.astype({"s": example}))
    assert not python_reasons(compiled), compiled.explain()
    assert "no row of the batch has an .str[i] piece" in compiled.explain()
    for dtype in ("str", object):
        same_on_batches(fn, compiled, _batches(dtype))
    compiled.handoffs.clear()
    compiled(TEXT.astype({"s": object}))
    assert not compiled.handoffs.calls, compiled.explain()  # short rows are native
    assert not compiled.handoffs.rows["str-position"], compiled.explain()
    compiled(pd.DataFrame({"s": ["ab", None], "a": [1.0, 2.0]}))
    assert compiled.handoffs.calls == {"str-position": 1}, compiled.explain()


# endregion
# region B: an array assigned to a merged frame, added to one of its columns

USERS = pd.DataFrame({"k": [1, 2, 3, 4], "u": [0.5, 1.5, 2.5, 3.5]})


def merged_sum(df):
    x = df.merge(USERS, on="k", how="left")
    x["w"] = df["x"].values * 2
    return x["w"] + x["u"]


def merged_column(df):
    x = df.merge(USERS, on="k", how="left")
    x["w"] = df["x"].to_numpy() - 1.0
    return x["w"]


def merged_frame(df):
    x = df.merge(USERS, on="k", how="left")
    x["w"] = np.sqrt(df["x"].values)
    x["v"] = x["w"] * x["u"]
    return x[["u", "w", "v"]]


def series_values_assigned(df):
    s = df["x"] * 2
    x = df.merge(USERS, on="k", how="left")
    x["w"] = s.values
    return (s + x["u"]).to_numpy()


def column_values_assigned(df):
    x = df.merge(USERS, on="k", how="left")
    x["w"] = df["x"].values
    return (df["x"] + x["u"]).to_numpy()


ORDERS = pd.DataFrame({"k": [1, 2, 3, 5, 2] * 8, "x": np.arange(40) * 1.0})


@pytest.mark.parametrize("fn", [merged_sum, merged_column, merged_frame])
def test_an_array_assigned_to_a_merged_frame_is_its_column(fn: Any) -> None:
    """``x["w"] = df["x"].values * 2`` of a merged ``x``: the column kept the array as its
    example (no name, no index), so ``x["w"] + x["u"]`` was named ``"u"`` (pandas: None,
    the names differ) and the statement ran in Python after the self-check; it also counted
    as rows of ``df``, which pandas would align with the merge's. Now the column is the
    Series pandas makes (named, the frame's rows) and the sum is native."""
    compiled = quiet_compile(fn, ORDERS)
    assert not python_reasons(compiled), compiled.explain()
    batches = [ORDERS, ORDERS.iloc[[3]], ORDERS.iloc[::-1], ORDERS.set_index(ORDERS.index * 2 + 5),
               ORDERS.iloc[7:20], ORDERS.assign(k=9)]  # fmt: skip
    same_on_batches(fn, compiled, batches)


@pytest.mark.parametrize("fn", [series_values_assigned, column_values_assigned])
def test_an_array_of_a_series_keeps_the_series_rows(fn: Any) -> None:
    """``s.values`` of a Series ``s`` the code still holds (``s + x["u"]`` then aligns
    ``s``'s index with the merge's) stays an array of ``s``'s rows: the sum is not taken
    by position, and a batch with another index gets pandas' aligned result."""
    compiled = quiet_compile(fn, ORDERS)
    batches = [ORDERS, ORDERS.set_index(ORDERS.index * 2 + 5), ORDERS.iloc[::-1]]
    same_on_batches(fn, compiled, batches)


# endregion
