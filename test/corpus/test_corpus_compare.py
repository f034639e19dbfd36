"""The corpus's result comparison (``willump_mlir.corpus.compare.difference``) and
``willump corpus``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from willump_mlir.cli import main
from willump_mlir.corpus.compare import difference


@pytest.mark.parametrize(
    ("expected", "got"),
    [
        (np.array([1.0, np.nan, 3.0]), np.array([1.0 + 1e-12, np.nan, 3.0])),
        (np.array([1e6, np.inf]), np.array([1e6 + 1e-4, np.inf])),
        (np.array(["yes", "no"], dtype=object), np.array(["yes", "no"], dtype=object)),
        (pd.Series([1, 2], index=[5, 7], name="y"), pd.Series([1, 2], index=[5, 7], name="y")),
        ((np.zeros(2), [1, 2]), (np.zeros(2), [1, 2])),
        (0.5, 0.5 + 1e-12),
    ],
)
def test_equal(expected: object, got: object) -> None:
    assert difference(expected, got) is None


@pytest.mark.parametrize(
    ("expected", "got", "message"),
    [
        (np.array([1.0, 2.0]), np.array([1.0, 2.0 + 1e-8]), "1 value(s) differ"),
        (np.array([1.0, np.nan]), np.array([1.0, 0.0]), "NaN differs at flat index 1"),
        (np.array([1.0, 2.0]), np.array([1.0, 2.0], dtype=np.float32), "dtype float32"),
        (np.array([1, 2]), np.array([1.0, 2.0]), "dtype float64, expected int64"),
        (np.zeros((2, 1)), np.zeros(2), "shape (2,)"),
        (np.array(["yes", "no"]), np.array(["yes", "yes"]), "'yes', expected 'no'"),
        (np.zeros(2), [0.0, 0.0], "type list, expected ndarray"),
        (pd.Series([1.0], index=[3]), pd.Series([1.0], index=[0]), "index differs"),
        (pd.DataFrame({"a": [1]}), pd.DataFrame({"b": [1]}), "columns ['b']"),
    ],
)
def test_different(expected: object, got: object, message: str) -> None:
    found = difference(expected, got)
    assert found is not None and message in found, found


def test_willump_corpus_writes_its_table(tmp_path: Path) -> None:
    status = main(
        ["corpus", "penguins_pipeline", "--repeats", "1", "--single-rows", "2",
         "--output", str(tmp_path)]
    )  # fmt: skip
    assert status == 0
    table = (tmp_path / "corpus.md").read_text()
    assert "| penguins_pipeline | penguins | yes | yes | yes |" in table
    (outcome,) = json.loads((tmp_path / "corpus.json").read_text())
    assert outcome["exact"] and outcome["batch_speedup"] > 0
