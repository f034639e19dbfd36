"""Differential tests: numpy's ufuncs natively, bit for bit what numpy gives on this CPU.

Every unary ufunc the compiler takes (``pipeline.UNARY_FUNCTIONS``), ``np.power`` and
``np.arctan2``, of float64, float32 and int64 columns (ints promoted to float64 as numpy
does), on a column (whose loop runs a chunk of rows at a time) and on a computed value
(one element per call). On an AVX-512 CPU numpy computes the transcendental ones with its
own SIMD routines, which the C library's functions differ from in the last bit for a few %
of values: the kernels call numpy's own loops (``runtime.ufunc_loops``). Each function is
compiled and compared with the original bit for bit (signed zeros, NaN payloads) on
adversarial values (``ufunc_loops.probe_values``: random bits, subnormals, ±0, ±inf, NaN,
extremes, overflow edges, integers; about 25,000 rows, split over threads), runs of 1, 7,
255, 256 and 257 rows (around the chunk) from odd offsets, and a reversed view (on which
numpy's loops compute otherwise: the original runs).
"""

from __future__ import annotations

import pickle
import subprocess
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import willump_mlir as wm
from willump_mlir.abi import UFUNC_LOOPS
from willump_mlir.dialects.pipeline import FLOAT32_UNARY, INTEGER_UNARY_FUNCTIONS, UNARY_FUNCTIONS
from willump_mlir.runtime import ufunc_loops
from willump_mlir.runtime.ufunc_loops import probe_values


def _frame() -> pd.DataFrame:
    """``x``, ``y`` (float64: the probe values and a shuffle), ``f``, ``g`` (float32 alike)
    and ``k`` (int64, below 2^53 in magnitude)."""
    x = probe_values(np.dtype(np.float64))
    f = probe_values(np.dtype(np.float32))[: len(x)]
    rng = np.random.default_rng(7)
    k = rng.integers(-(2**52), 2**52, len(x))
    k[: 64] = np.arange(-32, 32)
    return pd.DataFrame({"x": x, "y": rng.permutation(x), "f": f, "g": rng.permutation(f),
                         "k": k})  # fmt: skip


FRAME = _frame()
RUNS = [(0, 1), (3, 7), (1, 255), (5, 256), (300, 257), (9000, 1), (17, 2049)]  # (start, rows)
BATCHES = [FRAME, *(FRAME.iloc[start : start + rows] for start, rows in RUNS)]


def _bits(value: Any) -> list[tuple[str, np.ndarray]]:
    """The dtype and the bits of each column of a Series or DataFrame result."""
    frame = value.to_frame() if isinstance(value, pd.Series) else value
    out = []
    for column in frame.columns:
        array = frame[column].to_numpy()
        unsigned = np.dtype(f"u{array.dtype.itemsize}")
        out.append((str(array.dtype), array.view(unsigned) if array.dtype.kind == "f" else array))
    return out


def _same_bits(fn: Callable[..., Any], compiled: wm.CompiledPipeline, batch: pd.DataFrame,
               nan_bits: bool = True) -> None:  # fmt: skip
    """``compiled`` gives ``fn``'s dtypes and bits on ``batch`` (``nan_bits=False``: a NaN
    where numpy has one, whatever its sign and payload)."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        want, got = _bits(fn(batch)), _bits(compiled(batch))
    assert [dtype for dtype, _ in got] == [dtype for dtype, _ in want]
    for (dtype, w), (_, g) in zip(want, got, strict=True):
        differ = w != g
        if not nan_bits and dtype.startswith("float"):
            differ &= ~(np.isnan(w.view(dtype)) & np.isnan(g.view(dtype)))
        rows = np.flatnonzero(differ)
        assert not len(rows), f"{len(rows)} row(s) differ, first {rows[:5]}"


def _compiled(fn: Callable[..., Any]) -> wm.CompiledPipeline:
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        compiled = wm.compile(fn, example=(FRAME.iloc[:300],))
    assert not compiled.traced.python_fallbacks, compiled.explain()
    return compiled


@pytest.mark.parametrize("name", UNARY_FUNCTIONS)
def test_unary_ufunc_is_numpys_bit_for_bit(name: str) -> None:
    """``np.<name>`` of a float64 column (a chunk at a time), of a computed float64 value
    (``x * 0.5``: one element per call), of an int64 column, and of a float32 column where
    the compiler takes float32: numpy's bits, natively."""
    function = getattr(np, name)
    single = name in FLOAT32_UNARY

    def applied(df):
        out = pd.DataFrame({"x": function(df["x"]), "half": function(df["x"] * 0.5),
                            "k": function(df["k"])})  # fmt: skip
        if single:
            out["f"] = function(df["f"])
        return out

    compiled = _compiled(applied)
    for batch in BATCHES:  # -(x * 0.5) is LLVM's x * -0.5, which keeps a NaN's sign
        _same_bits(applied, compiled, batch, nan_bits=name != "negative")
    if name in UFUNC_LOOPS:
        assert name in compiled.ufunc_loops and name in compiled.explain()
    elif name not in INTEGER_UNARY_FUNCTIONS:
        assert name not in compiled.ufunc_loops


def powers(df):
    return pd.DataFrame({
        "columns": np.power(df["x"], df["y"]), "cube": df["x"] ** 3.0,
        "square": np.power(df["x"], 2.0), "root": np.power(df["x"], 0.5),
        "inverse": df["x"] ** -1.0, "base": 0.5 ** df["y"], "ints": df["k"] ** 1.5,
        "single": df["f"] ** 3.0, "singles": np.power(df["f"], df["g"]),
    })  # fmt: skip


def angles(df):
    return pd.DataFrame({
        "columns": np.arctan2(df["x"], df["y"]), "scalar": np.arctan2(df["x"], 0.5),
        "ints": np.arctan2(df["k"], df["x"]), "singles": np.arctan2(df["f"], df["g"]),
    })  # fmt: skip


def chained(df):
    return pd.DataFrame({
        "arccos_sin": np.arccos(np.sin(df["x"])), "sin_squared": np.sin(df["x"]) ** 2.0,
        "powered_by_mean": np.exp(df["x"] * 0.01) ** df["y"].mean(),
        "ahead": np.log1p(np.abs(df["x"]) * 0.5 + np.sqrt(np.abs(df["y"]))),
        "angle_of_scaled": np.arctan2(df["k"] / 8, -0.0),
    })  # fmt: skip


@pytest.mark.parametrize("fn", [powers, angles, chained], ids=lambda fn: fn.__name__)
def test_binary_ufunc_is_numpys_bit_for_bit(fn: Callable[..., Any]) -> None:
    """``np.power`` (of two columns, a column and a scalar, which numpy's loop reads with
    stride 0 and squares for 2.0, a scalar and a column, ints) and ``np.arctan2``, in
    float64 and float32, and ufuncs of ufuncs, of a batch's mean and of arithmetic on
    columns (computed a chunk of rows ahead): numpy's bits, natively."""
    compiled = _compiled(fn)
    for batch in BATCHES:
        _same_bits(fn, compiled, batch)
    assert compiled.calls_in_python == 0


def logged(df):
    return np.log(df["x"]) + np.log1p(df["f"])


def test_a_reversed_view_runs_the_original() -> None:
    """``df.iloc[::-1]`` hands numpy columns that run backwards in memory, on which its loops
    compute with the C library's functions: the original runs, counted."""
    compiled = _compiled(logged)
    reversed_rows = FRAME.iloc[::-1]
    assert reversed_rows["x"].to_numpy().strides[0] < 0
    _same_bits(logged, compiled, reversed_rows)
    assert compiled.handoffs.calls.get("ufunc-layout") == 1, compiled.handoffs.calls
    _same_bits(logged, compiled, reversed_rows.copy())
    assert compiled.handoffs.calls.get("ufunc-layout") == 1
    assert "runs backwards in memory" in compiled.explain()


def log_of_abs(df):
    return np.log1p(np.abs(df["x"])) + np.exp(df["f"] * 0.5)


def log_of_flipped(a):
    return np.log1p(np.fliplr(a)) + np.log1p(np.abs(np.fliplr(a)))


def test_a_value_computed_first_is_native_whatever_the_layout() -> None:
    """numpy computes ``np.abs(x)`` and ``x * 0.5`` into new arrays, forwards in memory,
    before its loop reads them: only a column the loop reads as it is must run forwards."""
    compiled = _compiled(log_of_abs)
    _same_bits(log_of_abs, compiled, FRAME.iloc[::-1])
    assert not compiled.handoffs.calls, compiled.handoffs.calls


def test_a_python_steps_reversed_result_read_by_a_loop_runs_the_original() -> None:
    """``np.fliplr`` (a Python step) returns a view whose rows run backwards: numpy's loop
    reads it as it is in ``np.log1p(np.fliplr(a))``, so the batch runs the original."""
    a = FRAME[["x", "f"]].to_numpy()
    compiled = wm.compile(log_of_flipped, example=(a[:200],))
    with np.errstate(all="ignore"):
        got, want = compiled(a), log_of_flipped(a)
    np.testing.assert_array_equal(got.view(np.uint64), want.view(np.uint64))
    assert compiled.handoffs.calls.get("ufunc-layout") == 1, compiled.handoffs.calls


@pytest.mark.parametrize("dtype", ["f64", "f32"])
def test_every_loop_is_numpys_own(dtype: str) -> None:
    """On this numpy every loop the kernels call is numpy's own (read from its ufunc and
    checked), none a callback through Python; and such a callback, the fallback, gives the
    ufunc's bits one value at a time."""
    for function in UFUNC_LOOPS:
        assert ufunc_loops.inner_loop(function, dtype).native, function
    assert not ufunc_loops.python_loops()
    element = np.dtype(np.float64 if dtype == "f64" else np.float32)
    x = probe_values(element, count=64)
    for function in ("log1p", "power"):
        ufunc = getattr(np, function)
        callback = ufunc_loops.LOOP(lambda *a, u=ufunc: ufunc_loops._python_loop(u, element, *a))
        address = ufunc_loops.ctypes.cast(callback, ufunc_loops.ctypes.c_void_p).value
        operands = [x, x[::-1].copy()][: ufunc.nin]
        got = np.empty_like(x)
        ufunc_loops.call_loop(address or 0, 0, operands, got)
        with np.errstate(all="ignore"):
            want = ufunc(*operands)
        unsigned = f"u{element.itemsize}"
        assert np.array_equal(want.view(unsigned), got.view(unsigned)), function


def test_a_pickled_pipeline_binds_the_loading_process_numpy(tmp_path: Any) -> None:
    """Object code calls numpy's loops through symbols bound at load time: a pickled
    pipeline loaded in a fresh process (no compiler run there) gives numpy's bits."""
    compiled = _compiled(logged)
    (tmp_path / "compiled.pkl").write_bytes(pickle.dumps(compiled))
    FRAME.to_pickle(tmp_path / "frame.pkl")
    with np.errstate(all="ignore"):
        np.save(tmp_path / "want.npy", logged(FRAME).to_numpy())
    child = (
        "import pickle, sys, warnings, numpy as np, pandas as pd\n"
        "warnings.simplefilter('ignore')\n"
        "folder = sys.argv[1]\n"
        "sys.path.insert(0, sys.argv[2])  # the function's module\n"
        "compiled = pickle.loads(open(folder + '/compiled.pkl', 'rb').read())\n"
        "got = compiled(pd.read_pickle(folder + '/frame.pkl')).to_numpy()\n"
        "want = np.load(folder + '/want.npy')\n"
        "print(int((got.view('u8') != want.view('u8')).sum()), compiled.library.cache_hit)\n"
    )
    here = str(Path(__file__).parent)
    done = subprocess.run([sys.executable, "-c", child, str(tmp_path), here],
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.stdout.split()[:1] == ["0"], done.stdout + done.stderr[-2000:]
