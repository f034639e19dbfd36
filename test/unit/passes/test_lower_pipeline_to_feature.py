"""``lower-pipeline-to-feature`` (and ``fuse-features`` after it) against scikit-learn.

Each test builds ``pipeline`` ops for fitted estimators, lowers them, verifies the module and
evaluates the ``feature`` ops with a small numpy reference interpreter (below), which must
reproduce scikit-learn's outputs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.preprocessing import (
    MaxAbsScaler,
    MinMaxScaler,
    OneHotEncoder,
    OrdinalEncoder,
    RobustScaler,
    StandardScaler,
)
from sklearn.svm import LinearSVC
from sklearn.utils.extmath import softmax
from xdsl.builder import ImplicitBuilder
from xdsl.context import Context
from xdsl.dialects.builtin import (
    ArrayAttr,
    DictionaryAttr,
    FloatAttr,
    FunctionType,
    IntegerAttr,
    IntegerType,
    ModuleOp,
    Signedness,
    StringAttr,
    TensorType,
    f64,
    i64,
)
from xdsl.dialects.func import FuncOp, ReturnOp
from xdsl.ir import Attribute, Operation, SSAValue

from willump_mlir.dialects import feature as ft
from willump_mlir.dialects import pipeline as pl
from willump_mlir.passes.fuse_features import FuseFeaturesPass
from willump_mlir.passes.lower_pipeline_to_feature import (
    LowerPipelineToFeaturePass,
    PipelineLoweringError,
)

Blobs = dict[str, np.ndarray]

# region Building pipeline ops from fitted estimators


class Params:
    """Turns arrays into blobs (kept in ``blobs``) and Python values into attributes."""

    def __init__(self) -> None:
        self.blobs: Blobs = {}

    def blob(self, array: Any, dtype: Any = np.float64) -> pl.BlobAttr:
        data = np.ascontiguousarray(array, dtype=dtype)
        element = {np.float64: f64, np.int64: i64, np.uint8: IntegerType(8, Signedness.UNSIGNED)}
        symbol = f"b{len(self.blobs)}"
        self.blobs[symbol] = data
        return pl.BlobAttr(symbol, TensorType(element[dtype], list(data.shape)))

    def attrs(self, values: dict[str, Any]) -> dict[str, Attribute]:
        return {key: self.attr(value) for key, value in values.items()}

    def attr(self, value: Any) -> Attribute:
        if isinstance(value, Attribute):
            return value
        if isinstance(value, str):
            return StringAttr(value)
        if isinstance(value, bool | int):
            return IntegerAttr(int(value), i64)
        if isinstance(value, float):
            return FloatAttr(value, f64)
        if isinstance(value, list):
            return ArrayAttr([self.attr(v) for v in value])
        if isinstance(value, dict):
            return DictionaryAttr(self.attrs(value))
        return self.blob(value)

    def column(self, categories: np.ndarray, drop: int = -1) -> dict[str, Any]:
        """One encoder column: numbers, or strings as UTF-8 bytes plus offsets and the
        FNV-1a hash table of their indices."""
        missing = -1
        if categories.dtype == object:
            # A missing category (None/NaN, last in categories_) keeps an empty slot, so
            # that the category count and the one-hot columns include it; it is not hashed.
            present = [c for c in categories if isinstance(c, str)]
            if len(present) < len(categories):
                missing = len(present)
            encoded = [c.encode() for c in present] + [b""] * (missing >= 0)
            offsets = np.cumsum([0] + [len(b) for b in encoded])
            table, probes = ft.string_table([c.encode() for c in present] + [None] * (missing >= 0))
            return {
                "kind": "str",
                "bytes": self.blob(np.frombuffer(b"".join(encoded) or b"\0", np.uint8), np.uint8),
                "offsets": self.blob(offsets, np.int64),
                "table": self.blob(table, np.int64),
                "probes": probes,
                "missing": missing,
                "drop": drop,
            }
        nan = np.flatnonzero(np.isnan(categories))
        return {
            "kind": "f64",
            "categories": self.blob(categories),
            "missing": int(nan[0]) if len(nan) else -1,
            "drop": drop,
        }


def linear_params(p: Params, model: Any) -> dict[str, Any]:
    coef = np.atleast_2d(model.coef_)
    return {"coef": p.blob(coef), "intercept": p.blob(np.ravel(model.intercept_))}


def build(
    args: list[Attribute], body: Callable[[Params, list[SSAValue]], SSAValue]
) -> tuple[ModuleOp, Blobs]:
    """A module with ``func.func @f(args)`` returning ``body``'s value."""
    p = Params()
    func = FuncOp("f", (args, []))
    with ImplicitBuilder(func.body) as values:
        result = body(p, list(values))
        ReturnOp(result)
    func.function_type = FunctionType.from_lists(args, [result.type])
    return ModuleOp([func]), p.blobs


# endregion
# region A numpy interpreter for the feature level


def _encode(values: list[Any], categories: list[Any], missing: int, on_unknown: str) -> np.ndarray:
    def code(v: Any) -> int:
        if v is None or (isinstance(v, float) and np.isnan(v)):
            return missing
        if v in categories:
            return categories.index(v)
        if on_unknown == "error":
            raise ValueError(f"unknown category {v!r}")
        return -1

    return np.array([[code(v)] for v in values], dtype=np.int64)


def _onehot_column(code: int, drop: int) -> int:
    return code - (drop >= 0 and code > drop)


def _linear(op: ft.LinearOp, x: np.ndarray, blobs: Blobs) -> np.ndarray:
    x = x.reshape(len(x), -1)
    if "check_finite" in op.attributes and not np.isfinite(x).all():
        raise ValueError("Input X contains NaN or infinity")
    offset = op.offset.value.data
    coef = blobs[op.coef.symbol.data][:, offset : offset + x.shape[1]]
    out = x @ coef.T
    if op.intercept is not None:
        out = out + blobs[op.intercept.symbol.data]
    return out


def _weight_lookup(op: ft.WeightLookupOp, codes: np.ndarray, blobs: Blobs) -> np.ndarray:
    coef = blobs[op.coef.symbol.data]
    drop, offset = op.drop.value.data, op.offset.value.data
    out = np.zeros((len(codes), coef.shape[0]))
    for row, code in enumerate(codes[:, 0]):
        if code >= 0 and code != drop:
            out[row] = coef[:, offset + _onehot_column(code, drop)]
    return out


def _onehot(op: ft.OneHotOp, codes: np.ndarray) -> np.ndarray:
    drop = op.drop.value.data
    out = np.zeros((len(codes), op.categories.value.data - (drop >= 0)))
    for row, code in enumerate(codes[:, 0]):
        if code >= 0 and code != drop:
            out[row, _onehot_column(code, drop)] = 1.0
    return out


def _ordinal(op: ft.OrdinalOp, codes: np.ndarray) -> np.ndarray:
    missing = op.missing.value.data
    out = codes.astype(np.float64)
    out[codes < 0] = op.unknown_value.value.data
    if missing >= 0:
        out[codes == missing] = op.missing_value.value.data
    return out


def _mul_add(op: ft.MulAddOp, x: np.ndarray, blobs: Blobs) -> np.ndarray:
    y = x * blobs[op.mul.symbol.data] + blobs[op.add.symbol.data]
    return y if op.clip is None else np.clip(y, *blobs[op.clip.symbol.data])


def _normalize_rows(x: np.ndarray) -> np.ndarray:
    total = x.sum(axis=1)
    x = np.where((total == 0)[:, None], 1.0, x)
    return x / np.where(total == 0, x.shape[1], total)[:, None]


def _strings(op: ft.EncodeStringsOp, blobs: Blobs) -> list[Any]:
    """The categories; the missing category's slot matches no string."""
    data, offsets = blobs[op.bytes.symbol.data].tobytes(), blobs[op.offsets.symbol.data]
    strings: list[Any] = [
        data[a:b].decode() for a, b in zip(offsets[:-1], offsets[1:], strict=True)
    ]
    if op.missing.value.data >= 0:
        strings[op.missing.value.data] = object()
    return strings


def _probe(op: ft.EncodeStringsOp, blobs: Blobs, value: str) -> int:
    """The code the kernel finds for ``value``: hash, probe ``probes`` slots, compare bytes."""
    data, offsets = blobs[op.bytes.symbol.data].tobytes(), blobs[op.offsets.symbol.data]
    table = blobs[op.table.symbol.data]
    key = value.encode()
    h = ft.fnv1a64(key)
    for p in range(op.probes.value.data):
        entry = int(table[(h + p) & (len(table) - 1)])
        if entry >= 0 and data[offsets[entry] : offsets[entry + 1]] == key:
            return entry
    return -1


def _encode_strings(op: ft.EncodeStringsOp, frame: dict[str, Any], blobs: Blobs) -> np.ndarray:
    """Codes matched by value, cross-checked against the hash table lookup."""
    values = list(frame[op.column.data])
    codes = _encode(values, _strings(op, blobs), op.missing.value.data, op.on_unknown.data)
    for value, (code,) in zip(values, codes, strict=True):
        if isinstance(value, str):
            assert _probe(op, blobs, value) == code, (value, code)
    return codes


def _numbers(op: ft.EncodeNumbersOp, x: np.ndarray, blobs: Blobs) -> np.ndarray:
    categories = list(blobs[op.categories.symbol.data])
    present = [c for c in categories if not np.isnan(c)]
    values = list(x.reshape(len(x), -1)[:, op.index.value.data])
    codes = _encode(values, present, op.missing.value.data, op.on_unknown.data)
    return codes


def _blob(blobs: Blobs, blob: pl.BlobAttr | None, default: float) -> Any:
    return default if blob is None else blobs[blob.symbol.data]


def run(module: ModuleOp, blobs: Blobs, *args: Any) -> Any:
    """Evaluate ``@f`` of a module at the feature level on numpy arrays / column dicts."""
    func = next(op for op in module.ops if isinstance(op, FuncOp))
    env: dict[SSAValue, Any] = dict(zip(func.args, args, strict=True))

    def val(v: SSAValue) -> Any:
        return env[v]

    semantics: dict[type[Operation], Callable[[Any], Any]] = {
        pl.ToArrayOp: lambda op: np.column_stack(
            [np.asarray(val(op.frame)[c.data], dtype=np.float64) for c in op.columns.data]
        ),
        pl.SelectColumnsOp: lambda op: {c.data: val(op.frame)[c.data] for c in op.columns.data},
        pl.HstackOp: lambda op: np.hstack([val(v).reshape(len(val(v)), -1) for v in op.inputs]),
        ft.ImputeOp: lambda op: np.where(
            np.isnan(val(op.input)), blobs[op.fill.symbol.data], val(op.input)
        ),
        ft.StandardizeOp: lambda op: (
            (val(op.input) - _blob(blobs, op.sub, 0.0)) / _blob(blobs, op.div, 1.0)
        ),
        ft.MulAddOp: lambda op: _mul_add(op, val(op.input), blobs),
        ft.EncodeStringsOp: lambda op: _encode_strings(op, val(op.frame), blobs),
        ft.EncodeNumbersOp: lambda op: _numbers(op, val(op.input), blobs),
        ft.OneHotOp: lambda op: _onehot(op, val(op.codes)),
        ft.OrdinalOp: lambda op: _ordinal(op, val(op.codes)),
        ft.LinearOp: lambda op: _linear(op, val(op.input), blobs),
        ft.WeightLookupOp: lambda op: _weight_lookup(op, val(op.codes), blobs),
        ft.SumOp: lambda op: sum(val(v) for v in op.inputs),
        ft.SigmoidOp: lambda op: expit(val(op.input)),
        ft.SoftmaxOp: lambda op: softmax(val(op.input)),
        ft.NormalizeRowsOp: lambda op: _normalize_rows(val(op.input)),
        ft.BinaryProbaOp: lambda op: np.hstack([1 - val(op.input), val(op.input)]),
        ft.ArgmaxOp: lambda op: (
            (val(op.input)[:, 0] > 0).astype(np.int64)
            if val(op.input).shape[1] == 1
            else np.argmax(val(op.input), axis=1)
        ),
    }
    for op in func.body.block.ops:
        if isinstance(op, ReturnOp):
            result = val(op.arguments[0])
            typ = op.arguments[0].type
            assert isinstance(typ, TensorType)
            return result.reshape(-1) if typ.get_num_dims() == 1 else result
        (result_value,) = op.results
        out = semantics[type(op)](op)
        env[result_value] = out.reshape(len(out), -1) if isinstance(out, np.ndarray) else out
    raise AssertionError("no func.return")


def lower(module: ModuleOp, fuse: bool = False) -> ModuleOp:
    ctx = Context()
    LowerPipelineToFeaturePass().apply(ctx, module)
    if fuse:
        FuseFeaturesPass().apply(ctx, module)
    module.verify()
    names = {op.name for op in module.walk()}
    assert not names & {"pipeline.transform", "pipeline.predict"}
    return module


# endregion

RNG = np.random.default_rng(0)
X = RNG.normal(size=(60, 3)) * [1.0, 10.0, 0.1] + [0.0, 5.0, -1.0]
CODES = RNG.integers(0, 3, size=(60, 2)).astype(np.float64)
Y3 = (X[:, 0] + CODES[:, 0] + RNG.normal(size=60) > 1).astype(int) + (X[:, 1] > 5)
Y2 = (Y3 > 0).astype(int)


def _numeric_onehot_pipeline(model: Any, method: str, n_out: int, fuse: bool) -> None:
    """StandardScaler(X) ++ OneHotEncoder(codes) -> model.method, lowered, vs sklearn."""
    scaler = StandardScaler().fit(X)
    encoder = OneHotEncoder(handle_unknown="ignore", drop="first").fit(CODES)
    features = np.hstack([scaler.transform(X), encoder.transform(CODES).toarray()])
    model.fit(features, Y3 if n_out > 2 else Y2)
    expected = getattr(model, method)(features)
    proba = {
        LogisticRegression: "softmax" if n_out > 2 else "binary_sigmoid",
        LinearSVC: "none",
    }[type(model)]
    width = features.shape[1]

    def body(p: Params, args: list[SSAValue]) -> SSAValue:
        x, codes = args
        s = pl.TransformOp(
            "StandardScaler", x, p.attrs({"mean": scaler.mean_, "scale": scaler.scale_}), x.type
        ).result
        columns = [p.column(c, 0) for c in encoder.categories_]
        o = pl.TransformOp(
            "OneHotEncoder",
            codes,
            p.attrs({"handle_unknown": "ignore", "columns": columns}),
            pl.batch_of(width - 3),
        ).result
        h = pl.HstackOp([s, o]).result
        params = p.attrs({**linear_params(p, model), "proba": proba})
        out_type = {
            "predict": pl.vector_of(i64),
            "predict_proba": pl.batch_of(n_out),
            "decision_function": pl.vector_of() if n_out == 2 else pl.batch_of(n_out),
        }[method]
        return pl.PredictOp(type(model).__name__, method, h, params, out_type).result

    module, blobs = build([pl.batch_of(3), pl.batch_of(2)], body)
    module = lower(module, fuse)
    if fuse:
        assert not any(isinstance(op, ft.OneHotOp | pl.HstackOp) for op in module.walk())
    got = run(module, blobs, X, CODES)
    if method == "predict":
        np.testing.assert_array_equal(model.classes_[got], expected)
    else:
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize("fuse", [False, True])
@pytest.mark.parametrize("method", ["predict", "predict_proba", "decision_function"])
@pytest.mark.parametrize("n_out", [2, 3])
def test_logistic_regression(method: str, n_out: int, fuse: bool) -> None:
    _numeric_onehot_pipeline(LogisticRegression(max_iter=1000), method, n_out, fuse)


@pytest.mark.parametrize("fuse", [False, True])
@pytest.mark.parametrize("method", ["predict", "decision_function"])
def test_linear_svc(method: str, fuse: bool) -> None:
    _numeric_onehot_pipeline(LinearSVC(), method, 3, fuse)


def test_linear_svc_ovr_proba_matches_sklearn_formula() -> None:
    model = LinearSVC().fit(X, Y3)

    def body(p: Params, args: list[SSAValue]) -> SSAValue:
        params = p.attrs({**linear_params(p, model), "proba": "ovr_sigmoid"})
        return pl.PredictOp("LinearSVC", "predict_proba", args[0], params, pl.batch_of(3)).result

    module, blobs = build([pl.batch_of(3)], body)
    got = run(lower(module), blobs, X)
    np.testing.assert_allclose(got, model._predict_proba_lr(X), rtol=0, atol=1e-12)


@pytest.mark.parametrize(
    ("scaler", "params"),
    [
        (StandardScaler(with_mean=False), lambda s: {"scale": s.scale_}),
        (StandardScaler(with_mean=False, with_std=False), lambda s: {}),
        (RobustScaler(), lambda s: {"center": s.center_, "scale": s.scale_}),
        (MaxAbsScaler(), lambda s: {"scale": s.scale_}),
        (
            MinMaxScaler(feature_range=(-1, 1), clip=True),
            lambda s: {
                "scale": s.scale_,
                "min": s.min_,
                "clip": 1,
                "clip_range": np.array([-1.0, 1.0]),
            },
        ),
        (
            MinMaxScaler(),
            lambda s: {"scale": s.scale_, "min": s.min_, "clip": 0},
        ),
    ],
)  # fmt: skip
def test_scalers_and_ridge(scaler: Any, params: Callable[[Any], dict[str, Any]]) -> None:
    scaler.fit(X[:40])
    ridge = Ridge().fit(scaler.transform(X), np.column_stack([X[:, 0], Y3]))
    test_x = X * 1.5  # beyond the fitted range, so clipping matters
    expected = ridge.predict(scaler.transform(test_x))

    def body(p: Params, args: list[SSAValue]) -> SSAValue:
        name = type(scaler).__name__
        s = pl.TransformOp(name, args[0], p.attrs(params(scaler)), args[0].type).result
        return pl.PredictOp("Ridge", "predict", s, p.attrs(linear_params(p, ridge)),
                            pl.batch_of(2)).result  # fmt: skip

    module, blobs = build([pl.batch_of(3)], body)
    np.testing.assert_allclose(run(lower(module), blobs, test_x), expected, rtol=0, atol=1e-9)


@pytest.mark.parametrize("fuse", [False, True])
def test_frame_with_strings(fuse: bool) -> None:
    """Impute + scale numbers, one-hot a string and a numeric column (with a missing
    category), ordinal-encode the strings; binary LogisticRegression; then LinearRegression."""
    cities = np.array(["Zürich", "Genève", None, "Bern", "Genève", "Zürich"] * 10, dtype=object)
    zips = np.array([1.0, 2.0, np.nan, 1.0, 3.0, 2.0] * 10)
    age = X[:, 0].copy()
    age[::7] = np.nan
    frame = {"age": age, "city": cities, "zip": zips}
    frame_type = pl.FrameType([("age", f64), ("city", pl.StrType()), ("zip", f64)])
    imputed = np.where(np.isnan(age), np.nanmean(age), age)[:, None]
    onehot = OneHotEncoder(handle_unknown="ignore").fit(pd.DataFrame({"city": cities, "zip": zips}))
    ordinal = OrdinalEncoder(
        handle_unknown="use_encoded_value", unknown_value=-1, encoded_missing_value=-2
    ).fit(pd.DataFrame({"city": cities}))
    features = np.hstack(
        [
            imputed,
            onehot.transform(pd.DataFrame({"city": cities, "zip": zips})).toarray(),
            ordinal.transform(pd.DataFrame({"city": cities})),
        ]
    )
    model = LogisticRegression(max_iter=2000).fit(features, Y2)
    width = features.shape[1]

    def body(p: Params, args: list[SSAValue]) -> SSAValue:
        (df,) = args
        num = pl.ToArrayOp(df, ["age"]).result
        i = pl.TransformOp(
            "SimpleImputer", num, p.attrs({"fill": np.array([np.nanmean(age)])}), num.type
        ).result
        cat = pl.SelectColumnsOp(df, ["city", "zip"]).result
        columns = [p.column(c) for c in onehot.categories_]
        o = pl.TransformOp(
            "OneHotEncoder",
            cat,
            p.attrs({"handle_unknown": "ignore", "columns": columns}),
            pl.batch_of(width - 2),
        ).result
        city = pl.SelectColumnsOp(df, ["city"]).result
        ordinal_params = {
            "handle_unknown": "use_encoded_value",
            "unknown_value": -1.0,
            "encoded_missing_value": -2.0,
            "columns": [p.column(ordinal.categories_[0])],
        }
        r = pl.TransformOp("OrdinalEncoder", city, p.attrs(ordinal_params), pl.batch_of(1))
        h = pl.HstackOp([i, o, r.result]).result
        params = p.attrs({**linear_params(p, model), "proba": "binary_sigmoid"})
        return pl.PredictOp("LogisticRegression", "predict_proba", h, params, pl.batch_of(2)).result

    module, blobs = build([frame_type], body)
    got = run(lower(module, fuse), blobs, frame)
    np.testing.assert_allclose(got, model.predict_proba(features), rtol=0, atol=1e-12)

    unknown = {"age": age[:3], "city": np.array(["Basel", None, "Bern"], dtype=object),
               "zip": np.array([9.0, np.nan, 1.0])}  # fmt: skip
    unknown_features = np.hstack(
        [
            imputed[:3],
            onehot.transform(
                pd.DataFrame({"city": unknown["city"], "zip": unknown["zip"]})
            ).toarray(),
            ordinal.transform(pd.DataFrame({"city": unknown["city"]})),
        ]
    )
    module, blobs = build([frame_type], body)
    got = run(lower(module, fuse), blobs, unknown)
    np.testing.assert_allclose(got, model.predict_proba(unknown_features), rtol=0, atol=1e-12)


def test_linear_regression_rejects_nan() -> None:
    model = LinearRegression().fit(X, X[:, 0] * 2)

    def body(p: Params, args: list[SSAValue]) -> SSAValue:
        params = p.attrs(linear_params(p, model))
        return pl.PredictOp("LinearRegression", "predict", args[0], params, pl.vector_of()).result

    module, blobs = build([pl.batch_of(3)], body)
    module = lower(module)
    np.testing.assert_allclose(run(module, blobs, X), model.predict(X), rtol=0, atol=1e-9)
    bad = X.copy()
    bad[1, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        model.predict(bad)
    with pytest.raises(ValueError, match="NaN"):
        run(module, blobs, bad)


def test_unknown_estimator_is_named() -> None:
    def body(p: Params, args: list[SSAValue]) -> SSAValue:
        return pl.PredictOp("KNeighborsClassifier", "predict", args[0], {},
                            pl.vector_of(i64)).result  # fmt: skip

    module, _ = build([pl.batch_of(3)], body)
    with pytest.raises(PipelineLoweringError, match="'KNeighborsClassifier': unsupported"):
        lower(module)


def test_ordinal_none_category_keeps_its_index() -> None:
    """scikit-learn encodes a ``None`` category (numpy input) as its index, not as
    ``encoded_missing_value``; a column-level ``encoded_missing_value`` says so."""
    cities = np.array(["b", None, "a", "b"], dtype=object)[:, None]
    encoder = OrdinalEncoder(encoded_missing_value=-5).fit(cities)
    frame_type = pl.FrameType([("city", pl.StrType())])

    def body(p: Params, args: list[SSAValue]) -> SSAValue:
        column = p.column(encoder.categories_[0])
        column["encoded_missing_value"] = float(column["missing"])
        params = {"handle_unknown": "error", "encoded_missing_value": -5.0, "columns": [column]}
        return pl.TransformOp("OrdinalEncoder", args[0], p.attrs(params), pl.batch_of(1)).result

    module, blobs = build([frame_type], body)
    got = run(lower(module), blobs, {"city": cities[:, 0]})
    np.testing.assert_array_equal(got, encoder.transform(cities))
