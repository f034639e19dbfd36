"""Tests of the frontend: Python function + example -> verified ``pipeline`` module."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import (
    FunctionTransformer,
    MinMaxScaler,
    OneHotEncoder,
    OrdinalEncoder,
    StandardScaler,
)
from xdsl.dialects.builtin import ModuleOp

from willump_mlir.blobs import blob_attributes
from willump_mlir.dialects.pipeline import BlobAttr, PythonCallOp
from willump_mlir.frontend import FrontendError, trace_to_module


def op_names(module: ModuleOp) -> list[str]:
    """The op names in the traced function body."""
    return [op.name for op in module.body.block.first_op.body.block.ops]  # type: ignore


def blob_refs(module: ModuleOp) -> set[str]:
    """Every blob symbol the module references."""
    return {attr.symbol.data for attr in blob_attributes(module)}


@pytest.fixture(scope="module")
def numeric() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = np.abs(rng.normal(size=(120, 4))) + 3.0
    y = (x[:, 0] + rng.normal(size=120) > 3.5).astype(int)
    return x, y


@pytest.fixture(scope="module")
def frame() -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(1)
    df = pd.DataFrame({
        "a": rng.normal(size=150), "b": rng.normal(size=150),
        "city": rng.choice(["Zürich", "Oslo", "Lima"], size=150),
    })  # fmt: skip
    return df, (df["a"] > 0).to_numpy()


def test_lending_club() -> None:
    from willump_mlir.workloads import lending_club as lc

    w = lc.build()
    result = trace_to_module(lc.score, (w.test.iloc[:200], w.model))
    result.module.verify()
    names = op_names(result.module)
    assert names == [
        "pipeline.to_array", "pipeline.transform", "pipeline.transform",
        "pipeline.select_columns", "pipeline.transform", "pipeline.hstack",
        "pipeline.predict", "pipeline.take_column", "func.return",
    ]  # fmt: skip
    text = str(result.module)
    for piece in ('"SimpleImputer"', '"StandardScaler"', '"OneHotEncoder"',
                  '"LogisticRegression" "predict_proba"', 'proba = "binary_sigmoid"',
                  "tensor<?x119xf64>"):  # fmt: skip
        assert piece in text
    assert [a.kind for a in result.arguments] == ["frame", "bound"]
    assert result.arguments[1].value is w.model
    assert result.python_calls == {}
    assert not result.returns_sparse
    assert blob_refs(result.module) == set(result.blobs)
    for symbol, data in result.blobs.items():
        assert data.flags.c_contiguous and data.dtype in (np.float64, np.int64, np.uint8)
        assert symbol.rsplit("_", 1)[0]
    clf = w.model[-1]
    coef = next(v for k, v in result.blobs.items() if k.startswith("logisticregression_coef"))
    np.testing.assert_array_equal(coef, clf.coef_)


def test_numpy_elementwise(numeric: tuple[np.ndarray, np.ndarray]) -> None:
    x, _ = numeric

    def features(x: np.ndarray) -> np.ndarray:
        a = np.log1p(np.abs(x)) * 2.0 - 1
        b = np.where(x > 3.0, np.sqrt(x), 0.0)
        c = np.maximum(a, b) / (x + 1.0)
        d = -x[:, 2]
        return np.column_stack([c, d, np.exp(x[:, 0])])

    result = trace_to_module(features, (x,))
    names = op_names(result.module)
    assert result.python_calls == {}
    for name in ("pipeline.unary", "pipeline.binary", "pipeline.where", "pipeline.constant",
                 "pipeline.take_column", "pipeline.hstack"):  # fmt: skip
        assert name in names
    assert "tensor<?x6xf64>" in str(result.module)


def test_hstack_of_two_scalers(numeric: tuple[np.ndarray, np.ndarray]) -> None:
    x, y = numeric
    s1, s2 = StandardScaler().fit(x), MinMaxScaler(clip=True).fit(x)
    clf = LogisticRegression().fit(np.hstack([s1.transform(x), s2.transform(x)]), y)

    def score(x: np.ndarray, s1: StandardScaler, s2: MinMaxScaler) -> np.ndarray:
        both = np.hstack([s1.transform(x), s2.transform(x)])
        return clf.predict(both)  # clf comes from the closure

    result = trace_to_module(score, (x, s1, s2))
    names = op_names(result.module)
    assert names.count("pipeline.transform") == 2
    assert "pipeline.hstack" in names and "pipeline.predict" in names
    assert "tensor<?x8xf64>" in str(result.module)
    assert "clip = 1 : i64" in str(result.module)
    # predict -> class indices, then labels through classes_ in Python
    (call,) = result.python_calls.values()
    assert call.reason == "class labels are looked up in classes_ with numpy.take"
    (labels,) = call.function(np.array([0, 1, 1]))
    np.testing.assert_array_equal(labels, clf.classes_[[0, 1, 1]])
    assert [a.kind for a in result.arguments] == ["array", "bound", "bound"]


def my_udf(x: np.ndarray) -> np.ndarray:
    """A feature function the compiler does not know."""
    return np.sort(x, axis=1)


def test_unknown_function_becomes_python_call(numeric: tuple[np.ndarray, np.ndarray]) -> None:
    x, _ = numeric

    def features(x: np.ndarray) -> np.ndarray:
        y = my_udf(np.log1p(x))
        return y + 1.0

    result = trace_to_module(features, (x,))
    names = op_names(result.module)
    assert names[:3] == ["pipeline.unary", "pipeline.python_call", "pipeline.constant"]
    (call,) = result.python_calls.values()
    # my_udf is the user's own function: inlined, its np.sort runs in Python
    assert "np.sort" in call.reason and "not a recognised function" in call.reason
    np.testing.assert_array_equal(call.function(np.log1p(x))[0], my_udf(np.log1p(x)))
    op = next(o for o in result.module.walk() if isinstance(o, PythonCallOp))
    assert str(op.res[0].type) == "tensor<?x4xf64>"
    assert any(note.startswith("my_udf line") and __file__ in note for note in result.notes)


def test_static_loop_is_unrolled(numeric: tuple[np.ndarray, np.ndarray]) -> None:
    x, _ = numeric

    def features(x: np.ndarray) -> np.ndarray:
        total = x * 0.0
        for _j in range(2):
            total = total + x
        return np.log1p(total)

    result = trace_to_module(features, (x,))
    assert not result.python_calls
    assert op_names(result.module).count("pipeline.binary") == 3


def test_loop_with_continue_becomes_python_call(numeric: tuple[np.ndarray, np.ndarray]) -> None:
    x, _ = numeric

    def features(x: np.ndarray) -> np.ndarray:
        total = x * 0.0
        for _j in range(2):
            if _j > 5:
                continue
            total = total + x
        return np.log1p(total)

    result = trace_to_module(features, (x,))
    (call,) = result.python_calls.values()
    assert "for loop with break, continue or return" in call.reason
    _, total = call.function(x * 0.0, x)
    np.testing.assert_array_equal(total, 2 * x)
    assert op_names(result.module)[-2] == "pipeline.unary"


def test_unsupported_option_becomes_python_call(frame: tuple[pd.DataFrame, np.ndarray]) -> None:
    df, y = frame
    ohe = OneHotEncoder(min_frequency=5, drop="first").fit(df[["city"]])

    def encode(df: pd.DataFrame, ohe: OneHotEncoder) -> np.ndarray:
        return ohe.transform(df[["city"]])

    result = trace_to_module(encode, (df, ohe))
    (call,) = result.python_calls.values()
    assert "OneHotEncoder with infrequent categories and drop" in call.reason
    assert result.returns_sparse
    assert op_names(result.module) == ["pipeline.select_columns", "pipeline.python_call",
                                       "func.return"]  # fmt: skip


def test_column_transformer_with_ordinal_and_passthrough(
    frame: tuple[pd.DataFrame, np.ndarray],
) -> None:
    df, y = frame
    ct = ColumnTransformer(
        [("city", OrdinalEncoder(), ["city"]), ("a", StandardScaler(), [0])],
        remainder="passthrough",
    )
    model = make_pipeline(ct, LogisticRegression()).fit(df, y)

    def score(df: pd.DataFrame) -> np.ndarray:
        return model.decision_function(df)

    result = trace_to_module(score, (df,))
    text = str(result.module)
    assert '"OrdinalEncoder"' in text and '"StandardScaler"' in text
    assert "-> tensor<?x3xf64>" in text and '"decision_function"' in text
    assert result.python_calls == {}


def test_function_transformer_log1p(numeric: tuple[np.ndarray, np.ndarray]) -> None:
    x, _ = numeric
    model = Pipeline([("log", FunctionTransformer(np.log1p)), ("lr", LinearRegression())])
    model.fit(np.abs(x), x[:, 0])

    def predict(x: np.ndarray, model: Pipeline) -> np.ndarray:
        return model.predict(x)

    result = trace_to_module(predict, (np.abs(x), model))
    assert op_names(result.module) == ["pipeline.unary", "pipeline.predict", "func.return"]
    assert '"log1p"' in str(result.module)
    assert "tensor<?x4xf64> -> tensor<?xf64>" in str(result.module)
    coef = next(a for a in result.blobs.values() if a.ndim == 2)
    assert coef.shape == (1, 4)


def test_scaler_options_and_blob_types(numeric: tuple[np.ndarray, np.ndarray]) -> None:
    x, _ = numeric
    scaler = StandardScaler(with_mean=False).fit(x)

    def f(x: np.ndarray, s: StandardScaler) -> np.ndarray:
        return s.transform(x)

    result = trace_to_module(f, (x, scaler))
    ops = [o for o in result.module.walk() if o.name == "pipeline.transform"]
    params = ops[0].params.data  # type: ignore[attr-defined]
    assert set(params) == {"scale"} and isinstance(params["scale"], BlobAttr)
    (data,) = result.blobs.values()
    np.testing.assert_array_equal(data, scaler.scale_)


def test_errors(numeric: tuple[np.ndarray, np.ndarray]) -> None:
    x, _ = numeric

    def f(x: np.ndarray) -> np.ndarray:
        return x

    with pytest.raises(FrontendError, match="tuple"):
        trace_to_module(f, [x])  # type: ignore[arg-type]
    with pytest.raises(FrontendError, match="takes 1 arguments"):
        trace_to_module(f, (x, x))
    with pytest.raises(FrontendError, match="argument 'x'"):
        trace_to_module(f, ("some text",))
    with pytest.raises(FrontendError, match="argument 'x'.*2-D"):
        trace_to_module(f, (x[:, 0],))
    with pytest.raises(FrontendError, match="lambda"):
        trace_to_module(lambda x: x, (x,))
    with pytest.raises(FrontendError, match="source is not available"):
        trace_to_module(len, (x,))
