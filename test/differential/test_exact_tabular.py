"""Differential tests: every compiled pipeline returns exactly what the original returns.

Each fitted pipeline is compiled once (module-scoped fixtures) and then run on the real
lending_club rows (whole held-out batch plus single rows) and on hypothesis-generated
frames. Labels must be identical; numbers must agree within 1e-9 (``atol=1e-9, rtol=0``).
When the original raises ``ValueError`` on an input, the compiled pipeline must too.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import (
    LinearRegression,
    LogisticRegression,
    Ridge,
    SGDClassifier,
)
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import (
    FunctionTransformer,
    MaxAbsScaler,
    MinMaxScaler,
    OneHotEncoder,
    OrdinalEncoder,
    RobustScaler,
    StandardScaler,
)
from sklearn.svm import LinearSVC

import willump_mlir as wm
from willump_mlir.workloads.lending_club import CATEGORICAL, NUMERIC

ATOL = 1e-9
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
HYPOTHESIS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# region Comparison helpers


def assert_same(got: Any, expected: Any, *, atol: float = ATOL, rtol: float = 0.0) -> None:
    """Identical labels/booleans, numbers within ``atol`` (NaN == NaN), same sparsity."""
    if sp.issparse(expected):
        assert sp.issparse(got), f"expected a scipy sparse matrix, got {type(got).__name__}"
        assert got.shape == expected.shape
        assert got.format == expected.format, (got.format, expected.format)
        got, expected = got.toarray(), expected.toarray()  # NaN-aware comparison below
    assert not sp.issparse(got), "the original returns a dense array, compiled is sparse"
    expected = np.asarray(expected)
    got = np.asarray(got)
    assert got.shape == expected.shape, (got.shape, expected.shape)
    if expected.dtype.kind in "fc":
        assert got.dtype.kind == "f", got.dtype
        np.testing.assert_allclose(got, expected, atol=atol, rtol=rtol, equal_nan=True)
    else:
        assert got.dtype.kind == expected.dtype.kind, (got.dtype, expected.dtype)
        np.testing.assert_array_equal(got, expected)


def outcome(fn: Callable[..., Any], *args: Any) -> tuple[str, Any]:
    """``("ok", result)`` or ``("ValueError", message)`` of calling ``fn``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return "ok", fn(*args)
        except ValueError as error:
            return "ValueError", str(error)


def differential(compiled: Any, fn: Callable[..., Any], *args: Any, **tol: float) -> None:
    """The compiled pipeline raises ValueError iff the original does, else returns the same."""
    want_kind, want = outcome(fn, *args)
    got_kind, got = outcome(compiled, *args)
    assert got_kind == want_kind, f"original: {want_kind} {want!r:.300}; compiled: {got!r:.300}"
    if want_kind == "ok":
        assert_same(got, want, **tol)


def check_rows(compiled: Any, fn: Callable[..., Any], frame: Any, *rest: Any,
               singles: int = 6) -> None:  # fmt: skip
    """The whole batch, then single rows (every output row compared)."""
    differential(compiled, fn, frame, *rest)
    picks = np.linspace(0, len(frame) - 1, singles).astype(int)
    for i in picks:
        row = frame.iloc[[i]] if isinstance(frame, pd.DataFrame) else frame[i : i + 1]
        differential(compiled, fn, row, *rest)


# endregion
# region The inference functions handed to wm.compile


def proba1(frame, model):
    return model.predict_proba(frame)[:, 1]


def proba(frame, model):
    return model.predict_proba(frame)


def predict(frame, model):
    return model.predict(frame)


def decision(frame, model):
    return model.decision_function(frame)


def transform(frame, features):
    return features.transform(frame)


METHODS = {"predict": predict, "predict_proba": proba, "decision_function": decision}

# endregion
# region Real data: lending_club


def features(scaler: Any = None, imputer: Any = None, encoder: Any = None,
             numeric: list[str] = NUMERIC, categorical: list[str] = CATEGORICAL,
             **options: Any) -> ColumnTransformer:  # fmt: skip
    """impute + scale the numeric columns, encode the categorical ones."""
    steps = [("impute", imputer or SimpleImputer(strategy="median"))]
    steps.append(("scale", scaler if scaler is not None else StandardScaler()))
    parts: list[tuple[str, Any, list[str]]] = [("num", Pipeline(steps), numeric)]
    if categorical:
        parts.append(("cat", encoder or OneHotEncoder(handle_unknown="ignore"), categorical))
    return ColumnTransformer(parts, **options)


@pytest.fixture(scope="module")
def lc(lending_club) -> SimpleNamespace:
    """lending_club frames, plus copies with NaN / None holes punched in (10% of cells)."""
    rng = np.random.default_rng(7)

    def holes(frame: pd.DataFrame, missing: object) -> pd.DataFrame:
        out = frame.copy()
        out[NUMERIC] = out[NUMERIC].mask(rng.random((len(out), len(NUMERIC))) < 0.1)
        cats = out[CATEGORICAL].astype(object)
        cats = cats.mask(rng.random(cats.shape) < 0.1, missing)
        for column in CATEGORICAL:
            out[column] = pd.Series(cats[column].to_numpy(dtype=object), dtype=object)
        return out

    return SimpleNamespace(
        train=lending_club.train,
        test=lending_club.test,
        y=lending_club.y_train,
        train_nan=holes(lending_club.train, np.nan),
        test_nan=holes(lending_club.test, np.nan),
        train_none=holes(lending_club.train, None),
        test_none=holes(lending_club.test, None),
    )


def compile_for(fn: Callable[..., Any], frame: Any, model: Any) -> Any:
    example = frame.iloc[:200] if hasattr(frame, "iloc") else frame[:200]
    return wm.compile(fn, example=(example,) if model is None else (example, model))


SCALERS = {
    "standard": lambda: StandardScaler(),
    "standard-no-mean": lambda: StandardScaler(with_mean=False),
    "standard-no-std": lambda: StandardScaler(with_std=False),
    "standard-neither": lambda: StandardScaler(with_mean=False, with_std=False),
    "minmax": lambda: MinMaxScaler(),
    "minmax-clip": lambda: MinMaxScaler(clip=True),
    "minmax-range-clip": lambda: MinMaxScaler(feature_range=(-2.0, 3.0), clip=True),
    "minmax-range": lambda: MinMaxScaler(feature_range=(-1.0, 0.5)),
    "maxabs": lambda: MaxAbsScaler(),
    "robust": lambda: RobustScaler(),
    "robust-no-centering": lambda: RobustScaler(with_centering=False),
    "robust-no-scaling": lambda: RobustScaler(with_scaling=False),
}


@pytest.fixture(scope="module", params=list(SCALERS))
def scaled(request, lc) -> SimpleNamespace:
    model = Pipeline([
        ("features", features(scaler=SCALERS[request.param]())),
        ("clf", LogisticRegression(max_iter=300)),
    ])  # fmt: skip
    model.fit(lc.train, lc.y)
    return SimpleNamespace(model=model, compiled=compile_for(proba1, lc.test, model))


def test_scalers(scaled, lc) -> None:
    check_rows(scaled.compiled, proba1, lc.test, scaled.model)
    # MinMaxScaler(clip=...) matters only outside the training range: push values out.
    shifted = lc.test.copy()
    shifted[NUMERIC] = shifted[NUMERIC] * 3.0 - 1000.0
    check_rows(scaled.compiled, proba1, shifted, scaled.model)


IMPUTERS = {
    "mean": lambda: SimpleImputer(strategy="mean"),
    "median": lambda: SimpleImputer(strategy="median"),
    "most_frequent": lambda: SimpleImputer(strategy="most_frequent"),
    "constant": lambda: SimpleImputer(strategy="constant", fill_value=-7.5),
}


@pytest.fixture(scope="module", params=list(IMPUTERS))
def imputed(request, lc) -> SimpleNamespace:
    model = Pipeline([
        ("features", features(imputer=IMPUTERS[request.param]())),
        ("clf", LogisticRegression(max_iter=300)),
    ])  # fmt: skip
    model.fit(lc.train_nan[NUMERIC + CATEGORICAL].fillna({c: "?" for c in CATEGORICAL}), lc.y)
    return SimpleNamespace(model=model, compiled=compile_for(proba1, lc.test, model))


def test_imputers_with_nan(imputed, lc) -> None:
    frame = lc.test_nan.fillna({c: "?" for c in CATEGORICAL})
    assert frame[NUMERIC].isna().any().all()
    check_rows(imputed.compiled, proba1, frame, imputed.model, singles=12)
    check_rows(imputed.compiled, proba1, lc.test, imputed.model)


def test_constant_imputer_is_native() -> None:
    x = np.array([[1.0, np.nan], [np.nan, 3.0], [2.0, 5.0]])
    imputer = SimpleImputer(strategy="constant", fill_value=-7.5).fit(x)
    compiled = wm.compile(array_transform, example=(x, imputer))
    differential(compiled, array_transform, x, imputer)
    assert not compiled.traced.python_fallbacks, compiled.explain()


def _onehot(**kw: Any) -> Callable[[], OneHotEncoder]:
    return lambda: OneHotEncoder(**kw)


ENCODERS = {
    "onehot-ignore-sparse": _onehot(handle_unknown="ignore"),
    "onehot-ignore-dense": _onehot(handle_unknown="ignore", sparse_output=False),
    "onehot-error-sparse": _onehot(handle_unknown="error"),
    "onehot-error-dense": _onehot(handle_unknown="error", sparse_output=False),
    "onehot-drop-first": _onehot(drop="first", sparse_output=False),
    "onehot-drop-if-binary": _onehot(drop="if_binary", handle_unknown="ignore"),
    "ordinal-error": lambda: OrdinalEncoder(),
    "ordinal-unknown-minus1": lambda: OrdinalEncoder(
        handle_unknown="use_encoded_value", unknown_value=-1
    ),
    "ordinal-unknown-nan": lambda: OrdinalEncoder(
        handle_unknown="use_encoded_value", unknown_value=np.nan
    ),
}


@pytest.fixture(scope="module", params=list(ENCODERS))
def encoded(request, lc) -> SimpleNamespace:
    model = Pipeline([
        ("features", features(encoder=ENCODERS[request.param]())),
        ("clf", LogisticRegression(max_iter=300)),
    ])  # fmt: skip
    model.fit(lc.train, lc.y)
    return SimpleNamespace(
        name=request.param, model=model, compiled=compile_for(proba1, lc.test, model)
    )


def test_encoders_string_categories(encoded, lc) -> None:
    check_rows(encoded.compiled, proba1, lc.test, encoded.model)
    # Unseen categories (ignored, encoded as unknown_value, or raising like the original).
    unseen = lc.test.iloc[:40].copy()
    unseen.loc[unseen.index[::3], "addr_state"] = "ZZ"
    unseen.loc[unseen.index[1::5], "emp_length"] = "emp_\u2603"
    check_rows(encoded.compiled, proba1, unseen, encoded.model)
    check_rows(encoded.compiled, proba1, unseen.iloc[:5], encoded.model)


DISCRETE = ["delinq_2yrs", "inq_last_6mths", "acc_now_delinq", "open_il_6m"]


@pytest.fixture(scope="module", params=["onehot-ignore", "onehot-error", "onehot-drop-first",
                                        "ordinal-unknown-minus1"])  # fmt: skip
def numeric_categories(request, lc) -> SimpleNamespace:
    encoder = {
        "onehot-ignore": OneHotEncoder(handle_unknown="ignore", sparse_output=False),
        "onehot-error": OneHotEncoder(handle_unknown="error"),
        "onehot-drop-first": OneHotEncoder(drop="first"),
        "ordinal-unknown-minus1": OrdinalEncoder(handle_unknown="use_encoded_value",
                                                 unknown_value=-1),
    }[request.param]  # fmt: skip
    ct = ColumnTransformer([
        ("num", StandardScaler(), ["funded_amnt", "int_rate", "annual_inc"]),
        ("cat", encoder, DISCRETE),
    ])  # fmt: skip
    model = Pipeline([("features", ct), ("clf", LogisticRegression(max_iter=300))])
    model.fit(lc.train, lc.y)
    return SimpleNamespace(model=model, compiled=compile_for(proba1, lc.test, model))


def test_encoders_numeric_categories(numeric_categories, lc) -> None:
    # The held-out rows hold values never seen in training (delinq_2yrs == 22, ...).
    assert not set(lc.test["delinq_2yrs"]) <= set(lc.train["delinq_2yrs"])
    check_rows(numeric_categories.compiled, proba1, lc.test, numeric_categories.model)
    seen = lc.test[lc.test[DISCRETE].isin(lc.train[DISCRETE].to_dict("list")).all(axis=1)]
    check_rows(numeric_categories.compiled, proba1, seen, numeric_categories.model)


@pytest.fixture(scope="module", params=["nan", "none"])
def missing_categories(request, lc) -> SimpleNamespace:
    """Encoders fitted on string columns whose categories include NaN or None."""
    train = lc.train_nan if request.param == "nan" else lc.train_none
    onehot = ColumnTransformer([
        ("num", StandardScaler(), ["funded_amnt", "int_rate"]),
        ("cat", OneHotEncoder(handle_unknown="error", sparse_output=False), CATEGORICAL),
    ])  # fmt: skip
    ordinal = ColumnTransformer([
        ("num", StandardScaler(), ["funded_amnt", "int_rate"]),
        ("cat", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1,
                               encoded_missing_value=-5), CATEGORICAL),
    ])  # fmt: skip
    onehot.fit(train)
    ordinal.fit(train)
    cats = onehot.named_transformers_["cat"].categories_[0]
    assert any(v is None or (isinstance(v, float) and np.isnan(v)) for v in cats)
    return SimpleNamespace(
        name=request.param,
        onehot=onehot,
        ordinal=ordinal,
        onehot_compiled=compile_for(transform, lc.test, onehot),
        ordinal_compiled=compile_for(transform, lc.test, ordinal),
    )


def test_encoders_missing_categories(missing_categories, lc) -> None:
    m = missing_categories
    same_marker = lc.test_nan if m.name == "nan" else lc.test_none
    for frame in (same_marker, lc.test):
        check_rows(m.onehot_compiled, transform, frame, m.onehot, singles=10)
        check_rows(m.ordinal_compiled, transform, frame, m.ordinal, singles=10)


def test_encoders_none_vs_nan(missing_categories, lc) -> None:
    m = missing_categories
    other_marker = lc.test_none if m.name == "nan" else lc.test_nan
    check_rows(m.onehot_compiled, transform, other_marker, m.onehot, singles=10)


@pytest.mark.parametrize("fitted, given", [(np.nan, None), (None, np.nan)])
def test_none_vs_nan_minimal(fitted, given) -> None:
    train = pd.DataFrame({"c": pd.Series(["a", "b", fitted], dtype=object)})
    test = pd.DataFrame({"c": pd.Series(["a", given, "b"], dtype=object)})
    onehot = OneHotEncoder(handle_unknown="ignore", sparse_output=False).fit(train)
    ordinal = OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1).fit(train)
    for encoder in (onehot, ordinal):
        compiled = wm.compile(transform, example=(train, encoder))
        # sklearn: [[1, 0, 0], [0, 0, 0], [0, 1, 0]] and [[0], [-1], [1]]
        assert_same(compiled(test, encoder), encoder.transform(test))


FUNCTIONS = {
    "log1p": lambda: FunctionTransformer(np.log1p),
    "abs": lambda: FunctionTransformer(np.abs),
    "identity": lambda: FunctionTransformer(None),
    "log1p-validate": lambda: FunctionTransformer(np.log1p, validate=True),
}


@pytest.fixture(scope="module", params=list(FUNCTIONS))
def function_transformed(request, lc) -> SimpleNamespace:
    model = Pipeline([
        ("features", features(scaler=Pipeline([("f", FUNCTIONS[request.param]()),
                                               ("s", StandardScaler())]))),
        ("clf", LogisticRegression(max_iter=300)),
    ])  # fmt: skip
    model.fit(lc.train, lc.y)
    return SimpleNamespace(model=model, compiled=compile_for(proba1, lc.test, model))


def test_function_transformer(function_transformed, lc) -> None:
    compiled = function_transformed.compiled
    assert not compiled.traced.python_fallbacks, compiled.explain()
    check_rows(compiled, proba1, lc.test, function_transformed.model)


SOME = ["funded_amnt", "int_rate", "annual_inc", "revol_util", "all_util"]


def numeric_only(frame, model):
    return model.predict_proba(frame[SOME])[:, 1]


@pytest.fixture(scope="module", params=["drop", "passthrough"])
def remainder(request, lc) -> SimpleNamespace:
    ct = ColumnTransformer([("s", StandardScaler(), ["funded_amnt", "int_rate"]),
                            ("m", MinMaxScaler(), ["revol_util"])],
                           remainder=request.param)  # fmt: skip
    model = Pipeline([("features", ct), ("clf", LogisticRegression(max_iter=300))])
    model.fit(lc.train[SOME], lc.y)
    return SimpleNamespace(model=model, ct=ct,
                           compiled=compile_for(numeric_only, lc.test, model),
                           features=compile_for(transform, lc.test[SOME], ct))  # fmt: skip


def test_column_transformer_remainder(remainder, lc) -> None:
    check_rows(remainder.compiled, numeric_only, lc.test, remainder.model)
    check_rows(remainder.features, transform, lc.test[SOME], remainder.ct)
    width = 5 if remainder.ct.remainder == "passthrough" else 3
    assert remainder.features(lc.test[SOME], remainder.ct).shape == (len(lc.test), width)


# region numpy feature code in the function


def engineered(frame, model):
    x = frame[["funded_amnt", "annual_inc"]].to_numpy()
    ratio = x[:, 0] / (x[:, 1] + 1.0)
    rate = frame["int_rate"].to_numpy()
    flag = np.where(rate > 12.0, rate * 2.0 - 3.0, -rate)
    util = np.log1p(np.abs(frame[["revol_util", "all_util"]].to_numpy()))
    feats = np.hstack([util, np.column_stack([ratio, flag, np.where(rate <= 10.0, rate, 0.0)])])
    return model.predict_proba(feats)[:, 1]


def engineered_matrix(frame, scale):
    a = frame[["funded_amnt", "annual_inc"]].values
    b = np.log1p(a) - np.abs(a) * 0.001
    c = np.where(a[:, 1] >= 50000.0, a[:, 0], a[:, 1] / 3.0)
    return scale.transform(np.column_stack([b, c, np.where(a[:, 0] != a[:, 1], -a[:, 0], a[:, 1])]))


@pytest.fixture(scope="module")
def numpy_math(lc) -> SimpleNamespace:
    def engineer(frame: pd.DataFrame) -> np.ndarray:
        x = frame[["funded_amnt", "annual_inc"]].to_numpy()
        rate = frame["int_rate"].to_numpy()
        util = np.log1p(np.abs(frame[["revol_util", "all_util"]].to_numpy()))
        return np.hstack([util, np.column_stack([
            x[:, 0] / (x[:, 1] + 1.0), np.where(rate > 12.0, rate * 2.0 - 3.0, -rate),
            np.where(rate <= 10.0, rate, 0.0)])])  # fmt: skip

    model = LogisticRegression(max_iter=300).fit(engineer(lc.train), lc.y)
    a = lc.train[["funded_amnt", "annual_inc"]].to_numpy()
    matrix = np.column_stack([np.log1p(a) - np.abs(a) * 0.001,
                              np.where(a[:, 1] >= 50000.0, a[:, 0], a[:, 1] / 3.0),
                              np.where(a[:, 0] != a[:, 1], -a[:, 0], a[:, 1])])  # fmt: skip
    scale = StandardScaler().fit(matrix)
    return SimpleNamespace(
        model=model,
        scale=scale,
        compiled=compile_for(engineered, lc.test, model),
        matrix=compile_for(engineered_matrix, lc.test, scale),
    )


def double(x):
    return x * 2.0


def test_numeric_constant() -> None:
    x = np.array([[1.0, -2.0], [0.5, np.nan]])
    compiled = wm.compile(double, example=(x,))
    differential(compiled, double, x)


def test_numpy_math(numpy_math, lc) -> None:
    assert "Runs in Python:\n  - nothing" in numpy_math.compiled.explain()
    assert "Runs in Python:\n  - nothing" in numpy_math.matrix.explain()
    check_rows(numpy_math.compiled, engineered, lc.test, numpy_math.model)
    check_rows(numpy_math.matrix, engineered_matrix, lc.test, numpy_math.scale)


def bool_arithmetic(frame):
    rate = frame["int_rate"].to_numpy()
    return (rate <= 10.0) * 1.0 + (rate > 20.0)


def test_boolean_arithmetic(lc) -> None:
    compiled = compile_for(bool_arithmetic, lc.test, None)
    check_rows(compiled, bool_arithmetic, lc.test)


# endregion
# region Models


def _letter(frame: pd.DataFrame) -> np.ndarray:
    return frame["sub_grade"].str[0].to_numpy()


MODELS: dict[str, tuple[Callable[[], Any], str, tuple[str, ...]]] = {
    # name: (estimator, target, methods)
    "logreg-binary-bool": (lambda: LogisticRegression(max_iter=300), "bool",
                           ("predict", "predict_proba", "decision_function")),
    "logreg-binary-str": (lambda: LogisticRegression(max_iter=300), "str2", ("predict",)),
    "logreg-multinomial-str": (lambda: LogisticRegression(max_iter=300), "letter",
                               ("predict", "predict_proba", "decision_function")),
    "logreg-multinomial-int": (lambda: LogisticRegression(max_iter=300), "letter-int",
                               ("predict",)),
    "linear-regression": (lambda: LinearRegression(), "rate", ("predict",)),
    "ridge": (lambda: Ridge(alpha=3.0), "rate", ("predict",)),
    "ridge-multioutput": (lambda: Ridge(alpha=0.5), "rate-util", ("predict",)),
    "linear-svc": (lambda: LinearSVC(), "str2", ("predict", "decision_function")),
    "linear-svc-multiclass": (lambda: LinearSVC(), "letter-int", ("predict",
                                                                  "decision_function")),
    "sgd-hinge": (lambda: SGDClassifier(loss="hinge", random_state=0), "bool",
                  ("predict", "decision_function")),
    "sgd-log-loss": (lambda: SGDClassifier(loss="log_loss", random_state=0), "str2",
                     ("predict", "decision_function")),  # predict_proba: see below
    "sgd-log-loss-multiclass": (lambda: SGDClassifier(loss="log_loss", random_state=0),
                                "letter", ("predict", "predict_proba")),
}  # fmt: skip


def _target(lc: SimpleNamespace, kind: str) -> tuple[np.ndarray, list[str]]:
    """(y, numeric columns used as features) for one target kind."""
    numeric = [c for c in NUMERIC if c not in ("int_rate", "revol_util")]
    if kind == "bool":
        return lc.y, NUMERIC
    if kind == "str2":
        return np.where(lc.y, "bad", "good"), NUMERIC
    if kind == "letter":
        return _letter(lc.train), NUMERIC
    if kind == "letter-int":
        return (np.frombuffer(_letter(lc.train).astype("S1"), np.uint8) - 65).astype(int), NUMERIC
    if kind == "rate":
        return lc.train["int_rate"].to_numpy(), numeric
    return lc.train[["int_rate", "revol_util"]].to_numpy(), numeric


@pytest.fixture(scope="module", params=list(MODELS))
def model_case(request, lc) -> SimpleNamespace:
    make, kind, methods = MODELS[request.param]
    y, numeric = _target(lc, kind)
    categorical = [c for c in CATEGORICAL if c != "sub_grade"]
    model = Pipeline([
        ("features", features(numeric=numeric, categorical=categorical)),
        ("model", make()),
    ])  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(lc.train, y)
    compiled = {m: compile_for(METHODS[m], lc.test, model) for m in methods}
    return SimpleNamespace(name=request.param, model=model, compiled=compiled)


def test_models(model_case, lc) -> None:
    for method, compiled in model_case.compiled.items():
        check_rows(compiled, METHODS[method], lc.test, model_case.model, singles=8)
        if method == "predict":
            labels = compiled(lc.test, model_case.model)
            assert labels.dtype == model_case.model.predict(lc.test).dtype


def test_sgd_log_loss_binary_predict_proba(lc) -> None:
    model = Pipeline([("features", features()),
                      ("sgd", SGDClassifier(loss="log_loss", random_state=0))])  # fmt: skip
    model.fit(lc.train, lc.y)
    compiled = compile_for(proba, lc.test, model)
    check_rows(compiled, proba, lc.test, model)


# endregion
# region Feature matrices returned as they are (no model)


@pytest.fixture(scope="module", params=["dense", "sparse"])
def matrix(request, lc) -> SimpleNamespace:
    sparse = request.param == "sparse"
    ct = features(encoder=OneHotEncoder(handle_unknown="ignore", sparse_output=sparse),
                  sparse_threshold=1.0 if sparse else 0.0)  # fmt: skip
    ct.fit(lc.train)
    onehot = OneHotEncoder(handle_unknown="ignore", sparse_output=sparse).fit(lc.train[CATEGORICAL])
    return SimpleNamespace(
        sparse=sparse,
        ct=ct,
        onehot=onehot,
        compiled=compile_for(transform, lc.test, ct),
        compiled_onehot=compile_for(transform, lc.test[CATEGORICAL], onehot),
    )


def test_feature_matrix(matrix, lc) -> None:
    got = matrix.compiled(lc.test, matrix.ct)
    expected = matrix.ct.transform(lc.test)
    assert sp.issparse(expected) == matrix.sparse
    if matrix.sparse:
        assert sp.issparse(got), type(got)
        assert got.format == expected.format
        assert abs(got - expected).max() <= ATOL
    check_rows(matrix.compiled, transform, lc.test, matrix.ct)
    check_rows(matrix.compiled, transform, lc.test_nan.fillna({c: "?" for c in CATEGORICAL}),
               matrix.ct)  # fmt: skip
    check_rows(matrix.compiled_onehot, transform, lc.test[CATEGORICAL], matrix.onehot)


# endregion
# region Unknown Python code inside the pipeline


def debt_ratio(x):
    """A helper of the user's: inlined, its column assignment runs as a python_call."""
    out = x.copy()
    out[:, 0] = x[:, 0] / (x[:, 1] + 1.0)
    return out


def with_helper(frame, model):
    x = frame[["funded_amnt", "annual_inc", "int_rate"]].to_numpy()
    z = debt_ratio(x)
    return model.predict_proba(z)[:, 1]


def with_custom_transformer(frame, model):
    return model.predict(frame[["funded_amnt", "annual_inc", "int_rate"]].to_numpy())


def test_python_call_runs_and_is_explained(lc) -> None:
    x = lc.train[["funded_amnt", "annual_inc", "int_rate"]].to_numpy()
    model = Pipeline([("s", StandardScaler()), ("lr", LogisticRegression())])
    model.fit(debt_ratio(x), lc.y)
    compiled = compile_for(with_helper, lc.test, model)
    check_rows(compiled, with_helper, lc.test, model)
    text = compiled.explain()
    assert "debt_ratio line" in text and "out[:, 0] = x[:, 0] / (x[:, 1] + 1.0)" in text
    assert "why: assigning to `out[:, 0]` is not compiled" in text
    assert "LogisticRegression.predict_proba" in text  # the rest is still native

    custom = Pipeline([("f", FunctionTransformer(debt_ratio)), ("s", StandardScaler()),
                       ("lr", LogisticRegression())]).fit(x, lc.y)  # fmt: skip
    compiled = compile_for(with_custom_transformer, lc.test, custom)
    check_rows(compiled, with_custom_transformer, lc.test, custom)
    text = compiled.explain()
    assert "FunctionTransformer(func=debt_ratio) is not supported natively" in text
    assert "StandardScaler.transform" in text


# endregion
# region Hypothesis: generated frames through fitted pipelines

CITIES = ["Zürich", "東京", "עברית", "café", "cafe\u0301", "😀🚀", "", "Oslo", "ÅÆØ"]
SPECIAL = [0.0, -0.0, 1e308, -1e308, 5e-324, -5e-324, 1e-300, 1e300, 2.5, -2.5]


def training_frame(rows: int = 300, seed: int = 3) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "x1": rng.normal(size=rows),
        "x2": rng.lognormal(3.0, 1.0, size=rows) * np.where(rng.random(rows) < 0.3, -1, 1),
        "city": pd.Series(rng.choice(CITIES, size=rows), dtype=object),
        "tier": pd.Series(rng.choice(["a", "b", "c"], size=rows), dtype=object),
    })  # fmt: skip
    frame.loc[rng.random(rows) < 0.1, "x1"] = np.nan
    frame.loc[rng.random(rows) < 0.1, "city"] = np.nan
    y = np.where(frame["x1"].fillna(0) + (frame["city"] == "Oslo") > 0.3, "yes", "no")
    return frame, y


def floats(allow_infinity: bool = False) -> st.SearchStrategy[float]:
    """Finite (huge, tiny, subnormal, -0.0) and NaN; inf is rare (see ``with_infinity``)."""
    return st.one_of(
        st.floats(allow_nan=True, allow_infinity=allow_infinity),
        st.floats(-1e6, 1e6),
        st.sampled_from(SPECIAL),
        st.just(np.nan),
    )


def with_infinity(draw: Any, values: list[float]) -> list[float]:
    """Sometimes put +-inf into one place (most batches stay finite, so they do not raise)."""
    if values and draw(st.integers(0, 3)) == 0:
        values[draw(st.integers(0, len(values) - 1))] = draw(st.sampled_from([np.inf, -np.inf]))
    return values


TEXT = st.one_of(
    st.sampled_from(CITIES),
    st.text(max_size=6),
    st.sampled_from(["ZÜRICH", "東", "\u200f", "e\u0301", "🏳️‍🌈", "a\x00b"]),
    st.none(),
    st.just(np.nan),
)


@st.composite
def frames(draw: Any, allow_infinity: bool = True) -> pd.DataFrame:
    """1 to 70 rows (crossing the 32-row switch from Python to pyarrow string encoding)."""
    rows = draw(st.one_of(st.just(1), st.integers(1, 70)))
    column = st.lists(floats(), min_size=rows, max_size=rows)
    text = st.lists(TEXT, min_size=rows, max_size=rows)
    tiers = st.lists(st.sampled_from(["a", "b", "c"]), min_size=rows, max_size=rows)
    cities = draw(text)
    as_str = draw(st.booleans())
    if not as_str:  # None vs NaN in object columns: test_none_vs_nan_minimal (a known bug)
        cities = [np.nan if v is None else v for v in cities]
    frame = pd.DataFrame({
        "x1": np.array(draw(column), dtype=np.float64),
        "x2": np.array(with_infinity(draw, draw(column)) if allow_infinity else draw(column)),
        "city": pd.Series(cities, dtype=object),
        "tier": pd.Series(draw(tiers), dtype=object),
    })  # fmt: skip
    if as_str:
        frame["city"] = frame["city"].astype("str")  # pandas' string dtype: None -> NaN
    return frame


@pytest.fixture(scope="module")
def generated() -> SimpleNamespace:
    train, y = training_frame()
    ct = ColumnTransformer([
        ("num", Pipeline([("i", SimpleImputer(strategy="median")), ("s", StandardScaler())]),
         ["x1", "x2"]),
        ("cat", OneHotEncoder(handle_unknown="ignore"), ["city", "tier"]),
    ])  # fmt: skip
    model = Pipeline([("features", ct), ("lr", LogisticRegression(max_iter=2000))]).fit(train, y)
    multi = Pipeline([
        ("features", ColumnTransformer([
            ("num", Pipeline([("i", SimpleImputer(strategy="mean")), ("s", RobustScaler())]),
             ["x1", "x2"]),
            ("cat", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1,
                                   encoded_missing_value=-2), ["city", "tier"]),
        ])),
        ("lr", LogisticRegression(max_iter=2000)),
    ]).fit(train, train["tier"].to_numpy())  # fmt: skip
    raw = ColumnTransformer([
        ("ord", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=np.nan),
         ["city"]),
        ("onehot", OneHotEncoder(handle_unknown="ignore", sparse_output=False), ["city"]),
        ("pass", "passthrough", ["x2", "x1"]),  # NaN and inf pass through
    ]).fit(train)  # fmt: skip
    strict = ColumnTransformer([
        ("mm", MinMaxScaler(clip=True), ["x1", "x2"]),
        ("onehot", OneHotEncoder(handle_unknown="error", drop="first"), ["tier"]),
    ], sparse_threshold=1.0).fit(train.fillna({"x1": 0.0}))  # fmt: skip
    example = train.iloc[:50]
    return SimpleNamespace(
        model=model, multi=multi, raw=raw, strict=strict,
        proba=wm.compile(proba, example=(example, model)),
        predict=wm.compile(predict, example=(example, model)),
        multi_proba=wm.compile(proba, example=(example, multi)),
        multi_predict=wm.compile(predict, example=(example, multi)),
        raw_features=wm.compile(transform, example=(example, raw)),
        strict_features=wm.compile(transform, example=(example, strict)),
    )  # fmt: skip


@HYPOTHESIS
@given(frame=frames())
def test_generated_frames_binary(generated, frame) -> None:
    differential(generated.proba, proba, frame, generated.model)
    differential(generated.predict, predict, frame, generated.model)


@HYPOTHESIS
@given(frame=frames())
def test_generated_frames_multiclass(generated, frame) -> None:
    differential(generated.multi_proba, proba, frame, generated.multi)
    differential(generated.multi_predict, predict, frame, generated.multi)


@HYPOTHESIS
@given(frame=frames())
def test_generated_frames_features(generated, frame) -> None:
    # Elementwise outputs: huge magnitudes need a relative tolerance as well.
    differential(generated.raw_features, transform, frame, generated.raw, rtol=1e-15)


@HYPOTHESIS
@given(frame=frames(allow_infinity=False))  # inf: test_transformers_reject_infinity
def test_generated_frames_scaled_sparse(generated, frame) -> None:
    differential(generated.strict_features, transform, frame, generated.strict, rtol=1e-15)


@pytest.mark.parametrize("scaler", [MinMaxScaler(), MinMaxScaler(clip=True), MaxAbsScaler(),
                                    RobustScaler(), StandardScaler(), SimpleImputer()],
                         ids=repr)  # fmt: skip
def test_transformers_reject_infinity(scaler) -> None:
    x = np.array([[1.0, 2.0], [3.0, -1.0], [0.5, 0.0]])
    scaler.fit(x)
    compiled = wm.compile(array_transform, example=(x, scaler))
    differential(compiled, array_transform, np.array([[np.inf, 1.0]]), scaler)


def test_clipped_infinity_reaches_the_model() -> None:
    x = np.array([[1.0, 2.0], [3.0, -1.0], [0.5, 0.0], [2.0, 2.0]])
    model = Pipeline([("mm", MinMaxScaler(clip=True)), ("lr", LogisticRegression())])
    model.fit(x, [0, 1, 0, 1])
    compiled = wm.compile(array_model, example=(x, model))
    differential(compiled, array_model, np.array([[np.inf, 1.0]]), model)  # sklearn raises


def array_math(x):
    a = np.log1p(np.abs(x[:, 0])) * 2.0
    b = np.where(x[:, 1] > x[:, 2], x[:, 1] - x[:, 2], -x[:, 2])
    c = np.where(x[:, 2] <= 0.5, np.maximum(x[:, 0], x[:, 1]), np.minimum(x[:, 0], -x[:, 2]))
    return np.column_stack([a, b / (np.abs(x[:, 0]) + 1.0), c, x[:, 0] ** 2.0])


def array_model(x, model):
    return model.predict_proba(x)


def array_transform(x, features):
    return features.transform(x)


@pytest.fixture(scope="module")
def arrays() -> SimpleNamespace:
    rng = np.random.default_rng(5)
    x = rng.normal(size=(200, 3))
    model = Pipeline(
        [("s", StandardScaler()), ("m", MaxAbsScaler()), ("lr", LogisticRegression())]
    ).fit(x, (x[:, 0] * 3 + x[:, 1]).round() % 3)
    functions = Pipeline([("abs", FunctionTransformer(np.abs)), ("id", FunctionTransformer()),
                          ("log", FunctionTransformer(np.log1p))]).fit(x)  # fmt: skip
    return SimpleNamespace(
        model=model,
        functions=functions,
        function_transform=wm.compile(array_transform, example=(x, functions)),
        math=wm.compile(array_math, example=(x,)),
        predict=wm.compile(array_model, example=(x, model)),
    )


@st.composite
def matrices(draw: Any) -> np.ndarray:
    rows = draw(st.integers(1, 60))
    values = with_infinity(draw, draw(st.lists(floats(), min_size=3 * rows, max_size=3 * rows)))
    return np.array(values, dtype=np.float64).reshape(rows, 3)


@HYPOTHESIS
@given(matrix=matrices())
def test_generated_arrays(arrays, matrix) -> None:
    differential(arrays.math, array_math, matrix, rtol=1e-15)
    got = np.asarray(arrays.math(matrix))
    want = np.asarray(array_math(matrix))
    numbers = ~np.isnan(want)
    # numpy's maximum/minimum of 0.0 and -0.0 returns either zero depending on whether its
    # SIMD or scalar loop ran (array length, alignment), so column c's zero sign is open.
    numbers[:, 2] &= want[:, 2] != 0
    assert np.array_equal(np.signbit(got[numbers]), np.signbit(want[numbers])), "sign differs"
    differential(arrays.predict, array_model, matrix, arrays.model)
    differential(arrays.function_transform, array_transform, matrix, arrays.functions, rtol=1e-15)


def test_function_transformer_on_frame_columns() -> None:
    frame = pd.DataFrame({"a": [1.0, -2.0, np.inf], "b": [0.5, np.nan, -7.0]})
    ct = ColumnTransformer(
        [("abs", FunctionTransformer(np.abs), ["a"]), ("log", FunctionTransformer(np.log1p), ["b"])]
    ).fit(frame)
    compiled = wm.compile(transform, example=(frame, ct))
    differential(compiled, transform, frame, ct)


def test_python_fallback_inside_column_transformer() -> None:
    frame = pd.DataFrame({"a": [1.0, np.nan, 3.0], "b": [0.5, 1.0, np.nan]})
    ct = ColumnTransformer([("f", FunctionTransformer(debt_ratio_frame), ["a", "b"])]).fit(frame)
    compiled = wm.compile(transform, example=(frame, ct))
    differential(compiled, transform, frame, ct)
    assert "debt_ratio_frame" in compiled.explain()


def debt_ratio_frame(frame):
    return frame.to_numpy() * 2.0


# endregion
